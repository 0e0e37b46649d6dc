/**
 * Throughput of `getKey`/`setKey`/`hasKey` on the Redis manager, on loopback, next to the in-memory
 * AuthKeyManager in the same run: one call at a time (each waits for its answer: latency-bound)
 * and 100 calls in flight (how a busy gateway calls it: the connection pipelines them).
 * Unencrypted and with AES-256-GCM at rest. Uses REDIS_URL, or starts its own redis-server.
 *
 * Run alone: `npx tsx bench/redis.bench.ts [--quick]`.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Bench } from 'tinybench';
import { AuthKey, AuthKeyManager, type AuthKeyManagerProtocol } from '../src/index.ts';
import { RedisAuthKeyManager } from '../src/redis.ts';
import { type RedisProcess, startRedisServer } from '../test/setup/redis-server.ts';
import { machine, machineLine } from './harness.ts';

/** One measured task. */
export interface RedisBenchRow {
  /** `<manager> <method> <mode>`, e.g. `redis getKey 100 in flight`. */
  name: string;
  manager: 'memory' | 'redis' | 'redis (AES-256-GCM)';
  method: 'getKey' | 'setKey' | 'hasKey';
  mode: 'sequential' | '100 in flight';
  /** Completed calls per second (from the mean time of a timed task call). */
  opsPerSec: number;
  /** Mean time per call, ns (for 100 in flight: the batch's time ÷ 100, not one call's latency). */
  nsPerOp: number;
  /** Relative margin of error of the mean at 95%, percent. */
  rme: number;
  /** Timed task calls behind the figures. */
  samples: number;
}

/** Options of `run`. */
export interface RedisBenchOptions {
  /** A smoke run: tiny time budgets. */
  quick?: boolean;
  /** A Redis to use instead of starting one (default: REDIS_URL). */
  url?: string;
}

const IN_FLIGHT = 100;
/** Stored keys that getKey/hasKey cycle through. */
const STORED = 1024;

/** Distinct fresh keys for setKey, made before timing starts. */
function freshKeys(n: number): AuthKey[] {
  const bytes = randomBytes(n * 256);
  return Array.from({ length: n }, (_, i) => new AuthKey(bytes.subarray(i * 256, (i + 1) * 256)));
}

/** Measures every manager × method × mode; starts (and stops) a redis-server unless a URL is given. */
export async function run(options: RedisBenchOptions = {}): Promise<RedisBenchRow[]> {
  const quick = options.quick === true;
  const time = quick ? 50 : 600;
  let server: RedisProcess | undefined;
  const url = options.url ?? process.env.REDIS_URL ?? (server = await startRedisServer()).url;
  const client = new Redis(url);
  const prefix = `authkey-bench:${process.pid}:${Date.now()}:`;
  try {
    const managers: Array<[RedisBenchRow['manager'], AuthKeyManagerProtocol]> = [
      ['memory', new AuthKeyManager()],
      ['redis', new RedisAuthKeyManager({ client, prefix: `${prefix}plain:` })],
      ['redis (AES-256-GCM)', new RedisAuthKeyManager({ client, prefix: `${prefix}sealed:`, encryption: { secrets: { 1: randomBytes(32) }, current: 1 } })],
    ];
    const stored = freshKeys(STORED);
    const ids = stored.map((k) => k.idBytes);
    // setKey of keys never stored before, the handshake path; enough that no run wraps around.
    const fresh = freshKeys(quick ? 20_000 : 200_000);
    for (const [, m] of managers) await Promise.all(stored.map((k) => m.setKey(k)));

    const bench = new Bench({ time, warmupTime: quick ? 10 : 150 });
    const meta = new Map<string, Pick<RedisBenchRow, 'manager' | 'method' | 'mode'> & { opsPerCall: number }>();
    for (const [manager, m] of managers) {
      let next = 0;
      let f = 0;
      const calls: Record<RedisBenchRow['method'], () => Promise<unknown>> = {
        getKey: () => m.getKey(ids[next++ % STORED]),
        hasKey: () => m.hasKey(ids[next++ % STORED]),
        setKey: () => m.setKey(fresh[f++ % fresh.length]),
      };
      for (const method of ['getKey', 'setKey', 'hasKey'] as const) {
        const call = calls[method];
        const sequential = `${manager} ${method} sequential`;
        meta.set(sequential, { manager, method, mode: 'sequential', opsPerCall: 1 });
        bench.add(sequential, call);
        const batch = `${manager} ${method} ${IN_FLIGHT} in flight`;
        meta.set(batch, { manager, method, mode: '100 in flight', opsPerCall: IN_FLIGHT });
        bench.add(batch, () => Promise.all(Array.from({ length: IN_FLIGHT }, call)));
      }
    }
    await bench.run();

    return bench.tasks.map((task) => {
      const m = meta.get(task.name)!;
      const result = task.result;
      if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state}${'error' in result ? `: ${String(result.error)}` : ''}`);
      const nsPerOp = (result.latency.mean * 1e6) / m.opsPerCall;
      return { name: task.name, manager: m.manager, method: m.method, mode: m.mode, opsPerSec: 1e9 / nsPerOp, nsPerOp, rme: result.latency.rme, samples: result.latency.samplesCount };
    });
  } finally {
    await dropKeys(client, prefix).catch(() => undefined);
    await client.quit();
    if (server) {
      await server.stop();
      await rm(server.dir, { recursive: true, force: true });
    }
  }
}

/** Removes what the run stored, for a REDIS_URL server that outlives it. */
async function dropKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, names] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 10_000);
    cursor = next;
    if (names.length > 0) await client.unlink(...names);
  } while (cursor !== '0');
}

/** Prints the machine and a table: calls per second, and the ratio to the memory manager's figure. */
function print(rows: RedisBenchRow[]): void {
  console.log(`${machineLine(machine())}; Redis on loopback`);
  const memory = new Map(rows.filter((r) => r.manager === 'memory').map((r) => [`${r.method} ${r.mode}`, r.opsPerSec]));
  console.table(
    rows.map((r) => ({
      manager: r.manager,
      method: r.method,
      mode: r.mode,
      'calls/s': Math.round(r.opsPerSec).toLocaleString('en-US'),
      'µs/call': (r.nsPerOp / 1000).toFixed(2),
      '±%': r.rme.toFixed(1),
      'vs memory': r.manager === 'memory' ? '1' : `1/${Math.round(memory.get(`${r.method} ${r.mode}`)! / r.opsPerSec).toLocaleString('en-US')}`,
    })),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  print(await run({ quick: process.argv.includes('--quick') }));
}
