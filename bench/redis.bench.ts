/**
 * The Redis manager on loopback, against the fastest raw route a Node user could write for the
 * same job with ioredis on the same kind of client:
 * - `getKey(idBytes)` vs `client.getBuffer(prefix + id hex)`, then `new AuthKey(bytes)` and a check
 *   that its id is the one asked for;
 * - `setKey(authKey)` of a fresh key vs `client.setBuffer(prefix + id hex, keyBytes, 'NX', 'GET')`;
 * - `hasKey(idBytes)` vs `client.exists(prefix + id hex)`.
 * Each at 1, 100 and 1,000 calls in flight (a task call issues N calls at once and awaits them all;
 * figures are per call), on an ioredis client with `enableAutoPipelining` (what the manager's own
 * `url` connection uses) and on one with ioredis defaults; the manager also with AES-256-GCM at
 * rest. Uses REDIS_URL, or starts its own redis-server; without either it reports nothing.
 *
 * The main job (without `--full`) measures getKey against the raw route at 100 in flight only.
 *
 * Run alone: `npx tsx bench/redis.bench.ts [--full] [--quick]`.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { AuthKey } from '../src/index.ts';
import { RedisAuthKeyManager } from '../src/redis.ts';
import { type RedisProcess, hasProgram, startRedisServer } from '../support/redis-server.ts';
import {
  type Case,
  type ExtraTable,
  type Report,
  type RunOptions,
  type Table,
  type Target,
  formatRate,
  measure,
  row,
  runIfMain,
  speedTarget,
} from './harness.ts';
import { dropKeys } from './fixtures.ts';

/** Options of `run`: the shared ones, and a Redis to use instead of starting one (default: REDIS_URL). */
export type RedisRunOptions = RunOptions & { url?: string };

const IN_FLIGHT = [1, 100, 1000] as const;
/** Stored keys that getKey/hasKey cycle through. */
const STORED = 4096;
/** Fresh keys for setKey; when a pool wraps, the names move to a new prefix, so every SET creates. */
const FRESH = 65_536;
/** The target ratio: the manager at least this fraction of the raw route's rate. */
const TARGET = 0.85;

const CLIENTS = [
  ['auto-pipelined', { enableAutoPipelining: true }],
  ['default client', {}],
] as const;
type ClientKind = (typeof CLIENTS)[number][0];

/** Distinct random keys (first byte forced non-zero: full 2048-bit numbers). */
function randomKeys(n: number): AuthKey[] {
  const bytes = randomBytes(n * 256);
  return Array.from({ length: n }, (_, i) => {
    bytes[i * 256] |= 0x80;
    return new AuthKey(bytes.subarray(i * 256, (i + 1) * 256));
  });
}

/** `one` as a task: one call, or `n` calls issued at once and awaited together. */
function inFlight(n: number, one: () => Promise<unknown>): () => Promise<unknown> {
  if (n === 1) return one;
  return () => {
    const calls = new Array<Promise<unknown>>(n);
    for (let i = 0; i < n; i++) calls[i] = one();
    return Promise.all(calls);
  };
}

const skipped = (why: string): Report => ({
  id: 'redis',
  title: 'Redis manager',
  tables: [],
  extra: [],
  targets: [],
  notes: [`skipped: ${why}`],
  elapsedMs: 0,
});

/** Measures every route at every number in flight; starts (and stops) a redis-server unless a URL is given. */
export async function run(options: RedisRunOptions = {}): Promise<Report> {
  const started = performance.now();
  const givenUrl = options.url ?? process.env.REDIS_URL;
  if (!givenUrl && !hasProgram('redis-server')) return skipped('set REDIS_URL or install redis-server to measure the Redis manager');
  let server: RedisProcess | undefined;
  const url = givenUrl || (server = await startRedisServer()).url;
  const base = `authkey-bench:${process.pid}:${Date.now()}:`;
  const admin = new Redis(url);
  const clients = Object.fromEntries(CLIENTS.map(([kind, settings]) => [kind, new Redis(url, settings)])) as Record<ClientKind, Redis>;
  try {
    const serverVersion = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? 'unknown';
    const secret = randomBytes(32);
    const stored = randomKeys(STORED);
    const ids = stored.map((k) => Buffer.from(k.idBytes));
    const fresh = randomKeys(FRESH);
    const freshBytes = fresh.map((k) => Buffer.from(k.bytes));
    const freshIds = fresh.map((k) => Buffer.from(k.idBytes));
    const getPrefix = `${base}get:`;
    const sealedPrefix = `${base}sealed:`;
    const setBase = `${base}set:`;
    {
      const plain = new RedisAuthKeyManager({ client: admin, prefix: getPrefix });
      const sealed = new RedisAuthKeyManager({ client: admin, prefix: sealedPrefix, encryption: { secrets: { 1: secret }, current: 1 } });
      await Promise.all(stored.flatMap((k) => [plain.setKey(k), sealed.setKey(k)]));
    }

    let generation = 0;
    /** A fresh-key cursor: the next key, and the prefix under which it has never been stored. */
    const freshCursor = () => {
      let f = 0;
      let prefix = `${setBase}${generation++}:`;
      return () => {
        if (f === FRESH) {
          f = 0;
          prefix = `${setBase}${generation++}:`;
        }
        return { i: f++, prefix };
      };
    };
    /** setKey on fresh keys: a manager per prefix generation (made when a pool wraps). */
    const setter = (client: Redis, encryption?: { secrets: Record<number, Uint8Array>; current: number }) => {
      const next = freshCursor();
      let manager: RedisAuthKeyManager | undefined;
      let managerPrefix = '';
      return () => {
        const { i, prefix } = next();
        if (prefix !== managerPrefix) {
          manager = new RedisAuthKeyManager({ client, prefix, encryption });
          managerPrefix = prefix;
        }
        return manager!.setKey(fresh[i]);
      };
    };

    /** Every route as a task at `n` in flight, by row name (fresh counters per call). */
    const routes = (n: number): Map<string, Case> => {
      const cases = new Map<string, Case>();
      const add = (name: string, one: () => Promise<unknown>) => cases.set(name, { name, fn: inFlight(n, one), opsPerCall: n });
      for (const [kind] of CLIENTS) {
        const client = clients[kind];
        const plain = new RedisAuthKeyManager({ client, prefix: getPrefix });
        let g = 0;
        add(`raw getBuffer + new AuthKey (${kind})`, () => {
          const id = ids[g++ % STORED];
          return client.getBuffer(getPrefix + id.toString('hex')).then((bytes) => {
            const key = new AuthKey(bytes!);
            const got = key.idBytes;
            for (let i = 0; i < 8; i++) if (got[i] !== id[i]) throw new Error('raw getKey: wrong id');
            return key;
          });
        });
        let h = 0;
        add(`getKey (${kind})`, () => plain.getKey(ids[h++ % STORED]));
        const rawNext = freshCursor();
        add(`raw SET NX GET (${kind})`, () => {
          const { i, prefix } = rawNext();
          return client.setBuffer(prefix + freshIds[i].toString('hex'), freshBytes[i], 'NX', 'GET').then((old) => {
            if (old !== null) throw new Error('raw setKey: the name was taken');
          });
        });
        add(`setKey (${kind})`, setter(client));
        if (kind === 'auto-pipelined') {
          const sealed = new RedisAuthKeyManager({ client, prefix: sealedPrefix, encryption: { secrets: { 1: secret }, current: 1 } });
          let s = 0;
          add(`getKey AES-256-GCM (${kind})`, () => sealed.getKey(ids[s++ % STORED]));
          add(`setKey AES-256-GCM (${kind})`, setter(client, { secrets: { 1: secret }, current: 1 }));
          let e = 0;
          add(`raw EXISTS (${kind})`, () => client.exists(getPrefix + ids[e++ % STORED].toString('hex')));
          let x = 0;
          add(`hasKey (${kind})`, () => plain.hasKey(ids[x++ % STORED]));
        }
      }
      return cases;
    };
    const pick = (cases: Map<string, Case>, names: string[]) => names.map((name) => cases.get(name)!);
    const RAW_GET = 'raw getBuffer + new AuthKey (auto-pipelined)';
    const RAW_SET = 'raw SET NX GET (auto-pipelined)';

    const tables: Table[] = [];
    const overview: Table[] = [];
    const targets: Target[] = [];
    // A target is measured in a table of its own two rows, so that the rounds alternate between
    // just them (other work on a shared machine then lands on both), with twice the time.
    const targetTime = (options.time ?? (options.quick ? 40 : 1000)) * 2;
    if (!options.full) {
      const get = await measure('getKey, 100 in flight', 'call', RAW_GET, pick(routes(100), [RAW_GET, 'getKey (auto-pipelined)']), {
        ...options,
        time: targetTime,
      });
      const notes = [
        `redis-server ${serverVersion} on loopback${server ? ' (started by the bench)' : ''}, ioredis 6 (RESP3), client with enableAutoPipelining; Redis shares the machine's cores with Node.`,
        'raw = getBuffer(prefix + id.toString("hex")), new AuthKey(bytes) and an 8-byte id check, on the same client; each timed call issues 100 calls at once and awaits them all; figures are per call.',
      ];
      const target = speedTarget('redis-getKey-100', 'Redis getKey, 100 in flight (÷ raw ioredis)', get, 'getKey (auto-pipelined)', RAW_GET, TARGET);
      return { id: 'redis', title: 'Redis manager (loopback)', tables: [get], extra: [], targets: [target], notes, elapsedMs: performance.now() - started };
    }
    for (const n of IN_FLIGHT) {
      const label = `${n.toLocaleString('en-US')} in flight`;
      if (n > 1) {
        const get = await measure(`getKey, ${label}`, 'call', RAW_GET, pick(routes(n), [RAW_GET, 'getKey (auto-pipelined)']), { ...options, time: targetTime });
        const set = await measure(`setKey of a fresh key, ${label}`, 'call', RAW_SET, pick(routes(n), [RAW_SET, 'setKey (auto-pipelined)']), {
          ...options,
          time: targetTime,
        });
        await dropKeys(admin, setBase);
        tables.push(get, set);
        targets.push(
          speedTarget(`redis-getKey-${n}`, `Redis getKey, ${label} (÷ raw ioredis)`, get, 'getKey (auto-pipelined)', RAW_GET, TARGET),
          speedTarget(`redis-setKey-${n}`, `Redis setKey, ${label} (÷ raw ioredis)`, set, 'setKey (auto-pipelined)', RAW_SET, TARGET),
        );
      }
      const all = await measure(`every route, ${label}`, 'call', RAW_GET, [...routes(n).values()], options);
      await dropKeys(admin, setBase);
      tables.push(all);
      overview.push(all);
    }

    // enableAutoPipelining against the ioredis default, route by route, from the tables above.
    const compared = ['raw getBuffer + new AuthKey', 'getKey', 'raw SET NX GET', 'setKey'];
    const pipelining: ExtraTable = {
      title: 'ioredis enableAutoPipelining vs default client (calls/s; speed-up = auto ÷ default)',
      columns: ['route', ...IN_FLIGHT.flatMap((n) => [`${n} default`, `${n} auto`, `${n} speed-up`])],
      rows: compared.map((route) => [
        route,
        ...overview.flatMap((t) => {
          const d = row(t, `${route} (default client)`);
          const a = row(t, `${route} (auto-pipelined)`);
          return [formatRate(d.opsPerSec), formatRate(a.opsPerSec), `${(a.opsPerSec / d.opsPerSec).toFixed(2)}×`];
        }),
      ]),
    };
    const ratio = (t: Table, ours: string, raw: string) => (row(t, raw).nsPerOp / row(t, ours).nsPerOp).toFixed(2);
    const notes = [
      `redis-server ${serverVersion} on loopback${server ? ' (started by the bench)' : ''}, ioredis 6 (RESP3); Redis shares the machine's cores with Node, so absolute rates drift; compare rows of one table.`,
      'raw = the same job written directly on ioredis with the same client: getBuffer(prefix + id.toString("hex")), new AuthKey(bytes) and an 8-byte id check; setBuffer(name, keyBytes, "NX", "GET") of a fresh key; exists(name).',
      `"N in flight": each timed call issues N calls at once and awaits them all; figures are per call. setKey always stores a key never stored before.`,
      `default client (no auto-pipelining), manager ÷ raw: getKey ${overview.map((t) => ratio(t, 'getKey (default client)', 'raw getBuffer + new AuthKey (default client)')).join(' / ')}, setKey ${overview.map((t) => ratio(t, 'setKey (default client)', 'raw SET NX GET (default client)')).join(' / ')} at ${IN_FLIGHT.join(' / ')} in flight.`,
    ];
    return { id: 'redis', title: 'Redis manager (loopback)', tables, extra: [pipelining], targets, notes, elapsedMs: performance.now() - started };
  } finally {
    await dropKeys(admin, base).catch(() => undefined);
    for (const c of Object.values(clients)) c.disconnect();
    await admin.quit();
    if (server) {
      await server.stop();
      await rm(server.dir, { recursive: true, force: true });
    }
  }
}

await runIfMain(import.meta.url, run);
