/**
 * Starting and stopping redis-server processes on loopback for the tests and the bench. Each
 * process is tracked by the ChildProcess that started it, and only that process is ever signalled.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const HOST = '127.0.0.1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether `command --version` runs, i.e. the program is installed. */
export function hasProgram(command: string): boolean {
  const r = spawnSync(command, ['--version'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

/** A port free on loopback right now (and, for a cluster node, its bus port `port + 10000`). */
export async function freePort(withBus = false): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await listenOnce(0);
    if (!withBus || (port + 10000 <= 65535 && (await listenOnce(port + 10000).then(() => true, () => false)))) return port;
  }
  throw new Error('no free loopback port found');
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, HOST, () => {
      const { port: bound } = server.address() as { port: number };
      server.close(() => resolve(bound));
    });
  });
}

/** Sends PING over a raw socket; true on +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, HOST);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/** A redis-server this process started. */
export interface RedisProcess {
  readonly port: number;
  readonly dir: string;
  /** `redis://127.0.0.1:port`. */
  readonly url: string;
  /** The process id, for logs. */
  readonly pid: number;
  /** SIGTERM (then SIGKILL after 5 s), and waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: a crash, no shutdown work (no final save). Waits for the exit. */
  kill(): Promise<void>;
}

/**
 * Starts `redis-server` on `port` (a free one if omitted) with `dir` (a new temp dir if omitted)
 * as its working directory, no persistence unless `args` turn it on, and waits until it answers.
 */
export async function startRedisServer(options: { port?: number; dir?: string; args?: string[]; bus?: boolean } = {}): Promise<RedisProcess> {
  const port = options.port ?? (await freePort(options.bus));
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'mtproto-authkey-redis-')));
  const args = ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', 'redis.log', '--daemonize', 'no', ...(options.args ?? [])];
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let dead = false;
  child.once('exit', () => (dead = true));
  child.once('error', () => (dead = true));
  for (const start = Date.now(); !(await ping(port)); ) {
    if (dead || Date.now() - start > 15_000) {
      if (!dead) await signal(child, exited, 'SIGKILL');
      const log = await readFile(join(dir, 'redis.log'), 'utf8').catch(() => '');
      throw new Error(`redis-server on port ${port} did not start: ${log.trim().split('\n').slice(-3).join(' | ') || 'no log'}`);
    }
    await sleep(25);
  }
  return {
    port,
    dir,
    url: `redis://${HOST}:${port}`,
    pid: child.pid!,
    stop: () => signal(child, exited, 'SIGTERM'),
    kill: () => signal(child, exited, 'SIGKILL'),
  };
}

async function signal(child: ChildProcess, exited: Promise<void>, sig: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(sig);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** A Redis Cluster of `masters` nodes (no replicas) that this process started. */
export interface RedisClusterProcess {
  readonly nodes: RedisProcess[];
  /** `127.0.0.1:p1,127.0.0.1:p2,…`, the REDIS_CLUSTER_NODES form. */
  readonly spec: string;
  stop(): Promise<void>;
}

/** Starts `masters` cluster-enabled servers, joins them with `redis-cli --cluster create`, waits for cluster_state:ok. */
export async function startRedisCluster(masters = 3): Promise<RedisClusterProcess> {
  const nodes: RedisProcess[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await Promise.all(nodes.map((n) => rm(n.dir, { recursive: true, force: true })));
  };
  try {
    for (let i = 0; i < masters; i++) {
      nodes.push(await startRedisServer({ bus: true, args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '3000'] }));
    }
    const addresses = nodes.map((n) => `${HOST}:${n.port}`);
    await promisify(execFile)('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    for (const start = Date.now(); ; await sleep(50)) {
      const states = await Promise.all(nodes.map((n) => promisify(execFile)('redis-cli', ['-h', HOST, '-p', String(n.port), 'cluster', 'info']).then((r) => r.stdout)));
      if (states.every((s) => s.includes('cluster_state:ok'))) break;
      if (Date.now() - start > 20_000) throw new Error('Redis Cluster did not reach cluster_state:ok within 20 s');
    }
    return { nodes, spec: addresses.join(','), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
