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
    if (
      !withBus ||
      (port + 10000 <= 65535 &&
        (await listenOnce(port + 10000).then(
          () => true,
          () => false,
        )))
    )
      return port;
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
  const args = [
    '--port',
    String(port),
    '--bind',
    HOST,
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--logfile',
    'redis.log',
    '--daemonize',
    'no',
    ...(options.args ?? []),
  ];
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let dead = false;
  child.once('exit', () => (dead = true));
  child.once('error', () => (dead = true));
  for (const start = Date.now(); !(await ping(port));) {
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

/** Runs one command with redis-cli against `port` and returns its raw output (for the cluster's own bookkeeping). */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  return redisCliWithin(10_000, port, ...args);
}

async function redisCliWithin(timeoutMs: number, port: number, ...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('redis-cli', ['-h', HOST, '-p', String(port), ...args], { timeout: timeoutMs });
  return stdout;
}

/** One line of CLUSTER NODES: `<id> <ip:port@bus> <flags> <master id or -> …`. */
interface NodeLine {
  id: string;
  port: number;
  flags: string[];
  /** The id of its master, for a replica; '' for a master. */
  masterId: string;
}

function parseClusterNodes(text: string): NodeLine[] {
  return text
    .trim()
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id, address, flags, master] = line.trim().split(' ');
      return { id, port: Number(address.split('@')[0].split(':').pop()), flags: flags.split(','), masterId: master === '-' ? '' : master };
    });
}

/** A Redis Cluster that this process started: masters, and replicas if asked for. */
export interface RedisClusterProcess {
  /** Every node started, masters and replicas, in start order (a restarted node replaces its entry). */
  readonly nodes: RedisProcess[];
  /** `127.0.0.1:p1,127.0.0.1:p2,…` of every node, the REDIS_CLUSTER_NODES form. */
  readonly spec: string;
  /** The current masters (as a live node sees them) with their replicas. */
  shards(): Promise<Array<{ master: RedisProcess; replicas: RedisProcess[] }>>;
  /**
   * `CLUSTER FAILOVER` on `replica` (a coordinated, manual failover: no write is lost); resolves
   * once it reports role master and every live node is healthy and agrees (see `waitHealthy`).
   */
  failover(replica: RedisProcess): Promise<void>;
  /**
   * SIGKILLs `master` and waits for the cluster to promote one of its replicas on its own (after
   * cluster-node-timeout) and for every live node to be healthy; resolves with the promoted node.
   */
  killMaster(master: RedisProcess, afterKill?: () => Promise<void>): Promise<RedisProcess>;
  /** Starts a killed node again on its port and dir (it rejoins, as a replica) and waits until healthy. */
  restart(node: RedisProcess): Promise<RedisProcess>;
  /**
   * Waits until every live node reports cluster_state:ok, every live node sees the same masters
   * and no live node as failing, and every live replica's link to its master is up and in sync.
   */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Options of `startRedisCluster`. */
export interface RedisClusterOptions {
  /** Replicas per master (`--cluster-replicas`). Default 0. */
  replicas?: number;
  /** `cluster-node-timeout`: how long a node may be unreachable before it counts as failed. Default 3000. */
  nodeTimeoutMs?: number;
}

/**
 * Starts `masters × (1 + replicas)` cluster-enabled servers, joins them with
 * `redis-cli --cluster create … --cluster-replicas N`, and waits until the cluster is healthy.
 */
export async function startRedisCluster(masters = 3, options: RedisClusterOptions = {}): Promise<RedisClusterProcess> {
  const replicas = options.replicas ?? 0;
  const nodeArgs = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 3000)];
  // Redis 7.0 leaves a replica out of CLUSTER SLOTS (so clients do not know it) until its
  // replication offset is non-zero; an idle master advances it only with the replication PING,
  // every repl-ping-replica-period seconds (default 10). Once a second, so a new cluster's
  // replicas are listed within a second or two.
  if (replicas > 0) nodeArgs.push('--repl-ping-replica-period', '1');
  const nodes: RedisProcess[] = [];
  const dead = new Set<RedisProcess>();
  const live = () => nodes.filter((n) => !dead.has(n));
  const byPort = (port: number) => {
    const node = nodes.find((n) => n.port === port);
    if (node === undefined) throw new Error(`no node of this cluster on port ${port}`);
    return node;
  };
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await Promise.all(nodes.map((n) => rm(n.dir, { recursive: true, force: true })));
  };

  /** Why the cluster is not healthy yet, or '' when it is. */
  async function unhealthy(): Promise<string> {
    const alive = live();
    const views = await Promise.all(
      alive.map(async (n) => {
        const [info, table, replication] = await Promise.all([
          redisCli(n.port, 'cluster', 'info'),
          redisCli(n.port, 'cluster', 'nodes'),
          redisCli(n.port, 'info', 'replication'),
        ]);
        return { n, info, table: parseClusterNodes(table), replication };
      }),
    ).catch((error: Error) => [error.message] as const);
    if (typeof views[0] === 'string') return views[0];
    const alivePorts = new Set(alive.map((n) => n.port));
    let mastersSeen: string | undefined;
    for (const view of views as Exclude<(typeof views)[number], string>[]) {
      const where = `node ${view.n.port}`;
      if (!view.info.includes('cluster_state:ok')) return `${where}: cluster_state is not ok`;
      for (const line of view.table) {
        if (!alivePorts.has(line.port)) continue;
        if (line.flags.some((f) => f === 'fail' || f === 'fail?' || f === 'handshake' || f === 'noaddr'))
          return `${where} sees ${line.port} as ${line.flags.join(',')}`;
      }
      const seenMasters = view.table
        .filter((l) => l.flags.includes('master') && alivePorts.has(l.port))
        .map((l) => l.port)
        .sort()
        .join(',');
      if (mastersSeen === undefined) mastersSeen = seenMasters;
      else if (mastersSeen !== seenMasters) return `nodes disagree on the masters: ${mastersSeen} vs ${seenMasters} (${where})`;
      if (view.replication.includes('role:slave')) {
        if (!view.replication.includes('master_link_status:up')) return `${where}: replica link not up`;
        if (!view.replication.includes('master_sync_in_progress:0')) return `${where}: replica still syncing`;
      }
    }
    if (mastersSeen!.split(',').length !== masters) return `expected ${masters} live masters, got ${mastersSeen}`;
    // Every live node listed in every node's CLUSTER SLOTS (one line of 40 hex digits, its id, per listing;
    // one slot range per master here), so that a client learns every replica.
    for (const n of alive) {
      const listed = (await redisCli(n.port, 'cluster', 'slots')).split('\n').filter((line) => /^[0-9a-f]{40}$/.test(line.trim())).length;
      if (listed !== alive.length) return `CLUSTER SLOTS of node ${n.port} lists ${listed} of ${alive.length} live nodes (a replica not yet announced)`;
    }
    return '';
  }

  async function waitHealthy(timeoutMs = 30_000): Promise<void> {
    let why = '';
    for (const start = Date.now(); ; await sleep(50)) {
      why = await unhealthy();
      if (why === '') return;
      if (Date.now() - start > timeoutMs) throw new Error(`Redis Cluster not healthy within ${timeoutMs} ms: ${why}`);
    }
  }

  async function shards(): Promise<Array<{ master: RedisProcess; replicas: RedisProcess[] }>> {
    // The first live node that answers: a test may hold one stopped (SIGSTOP), which never does.
    let text: string | undefined;
    for (const n of live()) {
      text = await redisCliWithin(2000, n.port, 'cluster', 'nodes').catch(() => undefined);
      if (text !== undefined) break;
    }
    if (text === undefined) throw new Error('no live node of the cluster answered CLUSTER NODES');
    const table = parseClusterNodes(text);
    const alivePorts = new Set(live().map((n) => n.port));
    return table
      .filter((l) => l.flags.includes('master') && alivePorts.has(l.port))
      .map((m) => ({
        master: byPort(m.port),
        replicas: table.filter((l) => l.masterId === m.id && alivePorts.has(l.port)).map((l) => byPort(l.port)),
      }));
  }

  async function roleOf(node: RedisProcess): Promise<string> {
    return (await redisCli(node.port, 'role')).split('\n')[0].trim();
  }

  async function failover(replica: RedisProcess): Promise<void> {
    const reply = await redisCli(replica.port, 'cluster', 'failover');
    if (!reply.includes('OK')) throw new Error(`CLUSTER FAILOVER on ${replica.port}: ${reply.trim()}`);
    for (const start = Date.now(); (await roleOf(replica)) !== 'master'; await sleep(50)) {
      if (Date.now() - start > 20_000) throw new Error(`replica ${replica.port} was not promoted within 20 s of CLUSTER FAILOVER`);
    }
    await waitHealthy();
  }

  /** `afterKill` runs right after the SIGKILL, before the wait for the promotion. */
  async function killMaster(master: RedisProcess, afterKill?: () => Promise<void>): Promise<RedisProcess> {
    const shard = (await shards()).find((s) => s.master === master);
    if (shard === undefined) throw new Error(`node ${master.port} is not a live master`);
    if (shard.replicas.length === 0) throw new Error(`master ${master.port} has no replica to take over`);
    await master.kill();
    dead.add(master);
    await afterKill?.();
    for (const start = Date.now(); ; await sleep(50)) {
      const roles = await Promise.all(shard.replicas.map(roleOf));
      const promoted = shard.replicas.find((_, i) => roles[i] === 'master');
      if (promoted !== undefined) {
        await waitHealthy();
        return promoted;
      }
      if (Date.now() - start > 30_000) throw new Error(`no replica of killed master ${master.port} was promoted within 30 s`);
    }
  }

  async function restart(node: RedisProcess): Promise<RedisProcess> {
    if (!dead.has(node)) throw new Error(`node ${node.port} is running`);
    const again = await startRedisServer({ port: node.port, dir: node.dir, bus: true, args: nodeArgs });
    nodes[nodes.indexOf(node)] = again;
    dead.delete(node);
    await waitHealthy();
    return again;
  }

  try {
    for (let i = 0; i < masters * (1 + replicas); i++) nodes.push(await startRedisServer({ bus: true, args: nodeArgs }));
    const addresses = nodes.map((n) => `${HOST}:${n.port}`);
    await promisify(execFile)('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 30_000 });
    await waitHealthy();
    return { nodes, spec: addresses.join(','), shards, failover, killMaster, restart, waitHealthy, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
