/**
 * The near cache of `RedisAuthKeyManager` (`cache: { maxKeys }`) against a redis-server on
 * loopback that the bench starts itself (it counts the server's commands, so it wants one nobody
 * else uses; without redis-server installed it uses REDIS_URL and says the counts may include
 * other clients):
 *
 * 1. Hits at 1,000,000 cached keys (100,000 quick, 10,000 smoke): `peekKey(packet)` of the near cache against
 *    the in-memory `AuthKeyManager.peekKey` holding the same keys, same packets in the same random
 *    order; and `getKey` on a hit, 1,000 calls issued at once and awaited with `Promise.all`
 *    (every call's promise is made, resolved and awaited: the figure is per call), against the
 *    in-memory manager and bentocache's two-level cache (memory L1, Redis L2, Redis bus) doing the
 *    same: `get` / `getOrSet` of a cached 256-byte Buffer, the key made from the packet's id bytes.
 * 2. Revocation latency: nodes A and B (two managers, separate connections) both hold a key; from
 *    the moment A's `delKey` resolves until B's `peekKey` returns undefined (B polled every
 *    event-loop turn with setImmediate). The same for bentocache (A `delete`s, B's `get` stops
 *    returning the value).
 * 3. A randomized staleness run: 4 nodes doing random set/get/peek/del (and sets with an expiry
 *    2–200 ms ahead) on 1,000 ids for 60 s (5 s quick, 1 s smoke), checked against a ground truth
 *    kept per id (see `Truth`): a hit more than 10 ms after the id surely died is a stale answer.
 *    A control node that is never told of changes runs alongside and must give stale answers.
 * 4. A flood of 100,000 unknown ids (10,000 quick, 2,000 smoke): each id asked by 4 concurrent callers, then again within
 *    `negativeTtlMs`; the server's `INFO commandstats` counts the GETs each pass cost.
 *
 * The main job (without `--full`) measures the peekKey hit comparison at 100,000 keys and the flood
 * of 10,000 unknown ids only.
 *
 * Run alone: `npx tsx bench/cache.bench.ts [--full] [--quick | --smoke]`.
 */
import { randomBytes, randomFillSync } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import { Redis } from 'ioredis';
import { AuthKey, AuthKeyDoesNotExist, AuthKeyManager } from '../src/index.ts';
import { RedisAuthKeyManager } from '../src/redis.ts';
import { type RedisProcess, hasProgram, startRedisServer } from '../support/redis-server.ts';
import {
  type Case,
  type ExtraTable,
  type Report,
  type RunOptions,
  type Table,
  type Target,
  consume,
  figureTarget,
  formatRate,
  measure,
  row,
  runIfMain,
  speedTarget,
  spreadOf,
} from './harness.ts';
import { KEY_BYTES, dropKeys, makePackets, packetLookups, randomKeys, shuffleIds } from './fixtures.ts';

/** Options of `run`: the shared ones, and a Redis to use when redis-server is not installed. */
export type CacheRunOptions = RunOptions & { url?: string };

/** Keys made and stored per step while filling. */
const CHUNK = 4096;
/** Calls in flight while filling, and per timed getKey task call. */
const BATCH = 1000;
/** Distinct prepared packets, as in bench/manager.bench.ts. */
const PACKETS = 65_536;
/** Lookups per timed peekKey task call. */
const PER_CALL = 4096;
/** The staleness run's nodes, callers per node and ids. */
const NODES = 4;
const WORKERS = 8;
/** Callers of the staleness run's control node (see NeverInvalidated). */
const CONTROL_WORKERS = 2;
const POOL = 1000;
/** How long after an id surely died a hit still counts as on time, ms. */
const GRACE_MS = 10;
/** A revoked key that B still returns after this long is counted as never dropped. */
const GIVE_UP_MS = 2000;

const OURS_PEEK = 'ours near-cache peekKey(packet)';
const MEMORY_PEEK = 'AuthKeyManager.peekKey(packet) (in memory)';
const OURS_GET = 'ours near-cache getKey(idBytes), 1,000 at once';
const MEMORY_GET = 'AuthKeyManager.getKey(idBytes) (in memory), 1,000 at once';
const BENTO_GET = 'bentocache get({ key }), L1 hit, 1,000 at once';
const BENTO_GET_RAW = 'bentocache get({ key }), L1 hit, L1 serialize: false, 1,000 at once';
const BENTO_GET_OR_SET = 'bentocache getOrSet({ key, factory }), L1 hit, 1,000 at once';
const OURS_GET_ONE = 'ours near-cache getKey(idBytes), awaited one by one';
const BENTO_GET_ONE = 'bentocache get({ key }), L1 hit, awaited one by one';

/** Epoch milliseconds with sub-millisecond resolution (one clock for the whole staleness run). */
const nowMs = () => performance.timeOrigin + performance.now();

/** `count` calls of `one(i)`, `inFlight` at a time. */
async function inBatches(count: number, inFlight: number, one: (i: number) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < count; start += inFlight) {
    const calls: Promise<unknown>[] = [];
    for (let i = start; i < Math.min(count, start + inFlight); i++) calls.push(one(i));
    await Promise.all(calls);
  }
}

/** Calls per command from `INFO commandstats` (`cmdstat_get:calls=12,...`). */
async function commandCalls(admin: Redis): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of (await admin.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1], Number(m[2]));
  return out;
}

/** What each command was called between two `commandCalls` readings (the reading's own INFO left out). */
function callsBetween(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [cmd, n] of after) {
    const d = n - (before.get(cmd) ?? 0) - (cmd === 'info' ? 1 : 0);
    if (d > 0) out.set(cmd, d);
  }
  return out;
}

/** Waits until the manager's invalidation link is armed: before that nothing is cached. */
async function linked(manager: RedisAuthKeyManager, what: string): Promise<void> {
  for (const start = Date.now(); !manager.cacheStats().linked; await sleep(5)) {
    if (Date.now() - start > 10_000) throw new Error(`cache bench: ${what}: the invalidation link was not armed within 10 s`);
  }
}

/** The value at quantile `q` of ascending `sorted` (nearest rank). */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * bentocache stores values through a serializer (JSON by default, which turns a Buffer into
 * `{ type, data: [...] }` and does not turn it back); this one keeps a Buffer value as base64.
 */
const bufferSerializer = {
  serialize: (entry: { value: unknown }) =>
    JSON.stringify(Buffer.isBuffer(entry.value) ? { ...entry, value: { base64: entry.value.toString('base64') } } : entry),
  deserialize: (text: string) => {
    const entry = JSON.parse(text) as { value: unknown };
    const v = entry.value as { base64?: unknown } | null;
    if (v !== null && typeof v === 'object' && typeof v.base64 === 'string') entry.value = Buffer.from(v.base64, 'base64');
    return entry;
  },
};

/**
 * A bentocache node as its documentation sets up a two-level cache (https://bentocache.dev/docs/multi-tier):
 * memory L1, Redis L2 and the Redis bus that tells the other nodes' L1 of changes, each with its
 * own connections. `serializeL1: false` keeps L1 values as objects (bentocache's `serialize: false`).
 */
function bentoNode(port: number, prefix: string, maxItems: number, serializeL1 = true) {
  const connection = { host: '127.0.0.1', port };
  return new BentoCache({
    default: 'keys',
    prefix,
    serializer: bufferSerializer,
    ttl: '1h',
    stores: {
      keys: bentostore()
        .useL1Layer(memoryDriver({ maxItems, serialize: serializeL1 }))
        .useL2Layer(redisDriver({ connection }))
        .useBus(redisBusDriver({ connection })),
    },
  });
}
type BentoNode = ReturnType<typeof bentoNode>;

/** Makes `n` random keys a chunk at a time and hands each chunk to `each` (no more than a chunk alive). */
async function makeKeys(n: number, each: (keys: AuthKey[], first: number) => Promise<void> | void): Promise<void> {
  for (let done = 0; done < n; done += CHUNK) {
    const count = Math.min(CHUNK, n - done);
    const bytes = randomKeys(count);
    const arrays = new Array<Uint8Array>(count);
    for (let i = 0; i < count; i++) arrays[i] = bytes.subarray(i * KEY_BYTES, (i + 1) * KEY_BYTES);
    await each(AuthKey.many(arrays), done);
    bytes.fill(0);
  }
}

/** Latency figures of one revocation measurement. */
interface Revocation {
  /** ms from A's delete resolving to B no longer returning the key, one per key (0: gone already). */
  latencies: number[];
  /** Keys B had already dropped when A's delete resolved. */
  already: number;
  /** Keys B still returned after GIVE_UP_MS. */
  never: number;
}

/**
 * For each of `count` keys in turn: `del(i)` on node A, then from the moment it resolves, polls
 * `gone(i)` on node B once per event-loop turn (setImmediate, so the connections' replies and
 * messages are read in between). A key's latency is taken when the check that found it gone began,
 * so a check that itself goes to Redis (bentocache's get after its L1 dropped the key) does not
 * count its own round trip.
 */
async function revocations(count: number, del: (i: number) => Promise<unknown>, gone: (i: number) => boolean | Promise<boolean>): Promise<Revocation> {
  const latencies: number[] = [];
  let already = 0;
  let never = 0;
  for (let i = 0; i < count; i++) {
    await del(i);
    const t0 = performance.now();
    for (let first = true; ; first = false) {
      const at = performance.now();
      if (await gone(i)) {
        if (first) already++;
        latencies.push(first ? 0 : at - t0);
        break;
      }
      if (at - t0 > GIVE_UP_MS) {
        never++;
        break;
      }
      await nextTurn();
    }
  }
  latencies.sort((a, b) => a - b);
  return { latencies, already, never };
}

/**
 * What the staleness run knows about one id, from the calls' own start and resolve times (all
 * nodes run in this process, on one clock). Every judgement errs towards "not stale": a set or a
 * delete whose order against another call Redis could have chosen either way leaves the id
 * "unknown", which no answer contradicts.
 */
class Truth {
  setsInFlight = 0;
  setsStarted = 0;
  delsInFlight = 0;
  delsStarted = 0;
  /** When the id was last known absent with no set started since ("clean death"); -Infinity: never stored. */
  deathAt = -Infinity;
  /** Sets started since the clean death. */
  setsSinceDeath = 0;
  /** Latest and earliest expiry (Infinity: none) of the sets since the clean death. */
  maxExpiry = -Infinity;
  minExpiry = Infinity;
  /** A set resolved at this time with no delete overlapping it or started since: the key exists (until it expires). */
  aliveFrom: number | undefined;

  setStarted(expiresAt: number): { dels: number; delsInFlight: number } {
    this.setsInFlight++;
    this.setsStarted++;
    this.setsSinceDeath++;
    this.maxExpiry = Math.max(this.maxExpiry, expiresAt);
    this.minExpiry = Math.min(this.minExpiry, expiresAt);
    return { dels: this.delsStarted, delsInFlight: this.delsInFlight };
  }

  setEnded(at: { dels: number; delsInFlight: number }, ok: boolean, time: number): void {
    this.setsInFlight--;
    if (ok && at.delsInFlight === 0 && at.dels === this.delsStarted) this.aliveFrom ??= time;
  }

  delStarted(): { sets: number; setsInFlight: number } {
    this.delsInFlight++;
    this.delsStarted++;
    this.aliveFrom = undefined;
    return { sets: this.setsStarted, setsInFlight: this.setsInFlight };
  }

  /** `done`: the delete was answered (deleted, or there was nothing to delete), so the id was absent at some point in it. */
  delEnded(at: { sets: number; setsInFlight: number }, done: boolean, time: number): void {
    this.delsInFlight--;
    if (done && at.setsInFlight === 0 && at.sets === this.setsStarted) {
      this.deathAt = time;
      this.setsSinceDeath = 0;
      this.maxExpiry = -Infinity;
      this.minExpiry = Infinity;
    }
  }

  /** Since when the id has surely been absent, or undefined if it may exist. */
  deadSince(): number | undefined {
    if (this.setsInFlight > 0) return undefined;
    if (this.setsSinceDeath === 0) return this.deathAt;
    // Every value stored since the death came from one of these sets, so it is gone once the last expiry passed.
    return Number.isFinite(this.maxExpiry) ? Math.max(this.deathAt, this.maxExpiry) : undefined;
  }

  /** A hit by a read that began at `t0` (with `setsAtStart` sets started then) is stale. */
  staleHit(t0: number, setsAtStart: number): boolean {
    if (this.setsStarted !== setsAtStart) return false;
    const dead = this.deadSince();
    return dead !== undefined && t0 > dead + GRACE_MS;
  }

  /** A "does not exist" from a read over [t0, t1] (with `delsAtStart` deletes started at t0) is stale. */
  staleMiss(t0: number, t1: number, delsAtStart: number): boolean {
    if (this.delsStarted !== delsAtStart || this.delsInFlight > 0 || this.aliveFrom === undefined) return false;
    return t0 > this.aliveFrom + GRACE_MS && this.minExpiry > t1 + GRACE_MS;
  }
}

/** What the staleness run calls on a node. */
interface StalenessNode {
  peekKey(id: Uint8Array): AuthKey | undefined;
  getKey(id: Uint8Array): Promise<AuthKey>;
  setKey(key: AuthKey, options?: { expiresAt: number }): Promise<void>;
  delKey(id: Uint8Array): Promise<void>;
}

/**
 * The staleness run's control: the cache a developer might write first, a Map filled by getKey
 * and dropped only by this node's own delKey (no invalidations, expiry ignored). The run must
 * count stale answers from it, or its judge could not see any.
 */
class NeverInvalidated implements StalenessNode {
  readonly #keys = new Map<string, AuthKey>();
  constructor(readonly store: RedisAuthKeyManager) {}
  peekKey(id: Uint8Array): AuthKey | undefined {
    return this.#keys.get(Buffer.from(id).toString('hex'));
  }
  async getKey(id: Uint8Array): Promise<AuthKey> {
    const hex = Buffer.from(id).toString('hex');
    const cached = this.#keys.get(hex);
    if (cached !== undefined) return cached;
    const key = await this.store.getKey(id);
    this.#keys.set(hex, key);
    return key;
  }
  setKey(key: AuthKey, options?: { expiresAt: number }): Promise<void> {
    return this.store.setKey(key, options);
  }
  delKey(id: Uint8Array): Promise<void> {
    this.#keys.delete(Buffer.from(id).toString('hex'));
    return this.store.delKey(id);
  }
}

const skipped = (why: string): Report => ({
  id: 'cache',
  title: 'Near cache of the Redis manager',
  tables: [],
  extra: [],
  targets: [],
  notes: [`skipped: ${why}`],
  elapsedMs: 0,
});

/** Measures every case; starts (and stops) a redis-server, or uses `url` / REDIS_URL without one. */
export async function run(options: CacheRunOptions = {}): Promise<Report> {
  const started = performance.now();
  const smoke = options.smoke === true;
  const quick = options.quick === true || smoke;
  const own = hasProgram('redis-server');
  const givenUrl = options.url ?? process.env.REDIS_URL;
  if (!own && !givenUrl) return skipped('install redis-server (or set REDIS_URL) to measure the near cache');
  let server: RedisProcess | undefined;
  const url = own ? (server = await startRedisServer()).url : givenUrl!;
  const port = Number(new URL(url).port || 6379);
  const base = `authkey-cache-bench:${process.pid}:${Date.now()}:`;
  const admin = new Redis(url);
  const managers: RedisAuthKeyManager[] = [];
  const bentos: BentoNode[] = [];
  const manager = (prefix: string, cache: ConstructorParameters<typeof RedisAuthKeyManager>[0]['cache']) => {
    const m = new RedisAuthKeyManager({ url, prefix: base + prefix, cache });
    managers.push(m);
    return m;
  };
  const progress = (line: string) => options.progress?.(`cache: ${line}`);
  try {
    const serverVersion = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? 'unknown';
    const tables: Table[] = [];
    const extra: ExtraTable[] = [];
    const targets: Target[] = [];
    const notes: string[] = [];

    // ---- 1. Hits --------------------------------------------------------------------------
    // A smoke run only checks that every case works: fewer keys, so it stays within seconds.
    // The main job holds 100,000: storing and caching a million keys takes about a minute.
    const n = smoke ? 10_000 : quick || !options.full ? 100_000 : 1_000_000;
    const label = n.toLocaleString('en-US');
    const near = manager('hit:', { maxKeys: n });
    const memory = new AuthKeyManager();
    await linked(near, 'hit');
    progress(`storing ${label} keys in Redis and in an in-memory AuthKeyManager`);
    const ids = new Uint8Array(n * 8);
    await makeKeys(n, async (keys, first) => {
      for (const [i, key] of keys.entries()) {
        memory.setKeySync(key);
        ids.set(key.idBytes, (first + i) * 8);
      }
      await inBatches(keys.length, BATCH, (i) => near.setKey(keys[i]));
    });
    shuffleIds(ids, n);
    // setKey does not fill the cache, and Redis reports our own writes back as invalidations: a
    // read still in flight when one arrives does not fill either. So: let them arrive, then read
    // each key once (misses fill), and read again what a late invalidation kept out.
    await sleep(200);
    let passes = 0;
    const fillStarted = performance.now();
    while (near.cacheStats().size < n && passes < 5) {
      passes++;
      progress(`filling the near cache: getKey of every key (pass ${passes}, ${near.cacheStats().size.toLocaleString('en-US')} cached)`);
      const missing: number[] = [];
      for (let i = 0; i < n; i++) if (near.peekKey(ids, i * 8) === undefined) missing.push(i);
      await inBatches(missing.length, BATCH, (j) => near.getKey(ids.subarray(missing[j] * 8, missing[j] * 8 + 8)));
      await sleep(50);
    }
    const fillMs = performance.now() - fillStarted;
    const filled = near.cacheStats();
    if (filled.size !== n) throw new Error(`cache bench: the near cache holds ${filled.size} keys after ${passes} passes, expected ${n}`);
    // Both stores hand out the AuthKey made at the first lookup: look every key up once in the in-memory one too.
    for (let i = 0; i < n; i++) if (memory.peekKey(ids, i * 8) === undefined) throw new Error('cache bench: the in-memory manager lost a key');

    // The same packets for every case: ids picked at random, each packet its own Buffer.
    const pool = Math.min(PACKETS, n);
    const picks = new Uint32Array(pool);
    randomFillSync(picks);
    const { packets, idViews } = makePackets(pool, (i) => {
      const at = (picks[i] % n) * 8;
      return ids.subarray(at, at + 8);
    });
    for (const p of packets) if (near.peekKey(p) === undefined || memory.peekKey(p) === undefined) throw new Error('cache bench: a prepared packet misses');
    const mask = (1 << Math.floor(Math.log2(pool))) - 1;
    const lookups = packetLookups(packets, PER_CALL);
    /** A task of BATCH calls of `one(packet)` issued at once and awaited with Promise.all. */
    const batched = (name: string, note: string, one: (p: Buffer, id: Buffer) => Promise<unknown>): Case => {
      let at = 0;
      return {
        name,
        note,
        opsPerCall: BATCH,
        fn: async () => {
          const calls = new Array<Promise<unknown>>(BATCH);
          for (let i = 0; i < BATCH; i++, at = (at + 1) & mask) calls[i] = one(packets[at], idViews[at]);
          const got = await Promise.all(calls);
          let hits = 0;
          for (const g of got) if (g !== undefined) hits++;
          if (hits !== BATCH) throw new Error(`cache bench: ${name}: ${BATCH - hits} of ${BATCH} calls missed`);
          consume(hits);
        },
      };
    };
    const oneByOne = (name: string, note: string, one: (p: Buffer, id: Buffer) => Promise<unknown>): Case => {
      let at = 0;
      return {
        name,
        note,
        opsPerCall: BATCH,
        fn: async () => {
          let hits = 0;
          for (let i = 0; i < BATCH; i++, at = (at + 1) & mask) if ((await one(packets[at], idViews[at])) !== undefined) hits++;
          consume(hits);
        },
      };
    };
    progress('measuring peekKey');
    const hitsBefore = near.cacheStats().hits;
    const peekTable = await measure(
      `Cache hit by wire id at ${label} cached keys, both stores in the process`,
      'lookup',
      MEMORY_PEEK,
      [
        lookups(OURS_PEEK, 'RedisAuthKeyManager({ url, cache: { maxKeys } }).peekKey(packet): never asks Redis', (p) => near.peekKey(p)),
        lookups(MEMORY_PEEK, 'the same keys in the in-memory manager', (p) => memory.peekKey(p)),
        ...(options.full
          ? [
              batched(OURS_GET, 'the 8 id bytes as a subarray of the packet', (_, id) => near.getKey(id)),
              batched(MEMORY_GET, 'the same keys in the in-memory manager', (_, id) => memory.getKey(id)),
            ]
          : []),
      ],
      { ...options, time: (options.time ?? (quick ? 40 : 1000)) * 2 },
    );
    tables.push(peekTable);
    targets.push(speedTarget('cache-peekKey', `Near cache hit, peekKey at ${label} keys (÷ in-memory manager)`, peekTable, OURS_PEEK, MEMORY_PEEK, 0.9));
    const peekHits = near.cacheStats().hits - hitsBefore;

    // The getKey rate as a gateway process has it: the near cache alone (the in-memory manager,
    // there for the comparison above, is emptied so its million keys do not share the CPU caches),
    // and before the bentocache nodes below add their entries to this process's heap.
    if (options.full) {
      await memory.clear();
      progress('measuring getKey on a hit, the near cache alone in the process');
      const rateTable = await measure(
        `getKey on a cache hit at ${label} cached keys, the near cache alone in the process`,
        'call',
        OURS_GET,
        [
          batched(OURS_GET, 'the 8 id bytes as a subarray of the packet', (_, id) => near.getKey(id)),
          oneByOne(OURS_GET_ONE, 'each call awaited before the next', (_, id) => near.getKey(id)),
        ],
        options,
      );
      tables.push(rateTable);
      const { median: oursGetRate, ...rateSpread } = spreadOf(row(rateTable, OURS_GET).rounds.map((ns) => 1e9 / ns));
      targets.push(
        figureTarget({
          id: 'cache-getKey-rate',
          label: `Near cache hit, getKey at ${label} keys, 1,000 calls awaited together`,
          ours: OURS_GET,
          versus: 'calls per second',
          measured: oursGetRate,
          spread: rateSpread,
          target: 1_000_000,
          unit: 'ops/s',
          kind: 'min',
        }),
      );

      // bentocache nodes holding the same number of entries: one as documented (L1 entries
      // serialized), one with L1 `serialize: false`. L1 is filled by `set` with the L2 write and
      // the bus message skipped (an L1 entry is the same whichever way it got there; an L1 refill
      // from L2 with `serialize: false` stores a serialized string that the next L1 read fails on
      // in 1.6.1, github.com/Julien-R44/bentocache/issues/111, so that node is filled by set only).
      progress(`filling two bentocache nodes' L1 with ${label} entries`);
      const bento = bentoNode(port, `${base}bento-hit`, n, true);
      const bentoRaw = bentoNode(port, `${base}bento-hit-raw`, n, false);
      bentos.push(bento, bentoRaw);
      const hexOf = (p: Buffer) => p.toString('hex', 0, 8);
      for (let i = 0; i < n; i += BATCH) {
        const calls: Promise<unknown>[] = [];
        for (let j = i; j < Math.min(n, i + BATCH); j++) {
          const key = Buffer.from(ids.buffer, ids.byteOffset + j * 8, 8).toString('hex');
          const value = randomBytes(KEY_BYTES);
          calls.push(bento.set({ key, value, skipL2Write: true, skipBusNotify: true }), bentoRaw.set({ key, value, skipL2Write: true, skipBusNotify: true }));
        }
        await Promise.all(calls);
      }
      for (const p of packets.slice(0, 16)) {
        for (const b of [bento, bentoRaw]) {
          const v: unknown = await b.get({ key: hexOf(p) });
          if (!Buffer.isBuffer(v) || v.length !== KEY_BYTES) throw new Error('cache bench: bentocache did not return the 256-byte Buffer it holds');
        }
      }
      const neverCalled = (): Buffer => {
        throw new Error('cache bench: bentocache ran the factory of a cached key');
      };
      progress('measuring getKey on a hit against bentocache');
      const getsBefore = (await commandCalls(admin)).get('get') ?? 0;
      const getTable = await measure(
        `getKey on a cache hit at ${label} cached keys, against bentocache's L1 hit`,
        'call',
        [BENTO_GET, BENTO_GET_RAW, BENTO_GET_OR_SET],
        [
          batched(OURS_GET, 'the 8 id bytes as a subarray of the packet', (_, id) => near.getKey(id)),
          batched(BENTO_GET, 'bentocache as documented (L1 entries serialized), key = the 8 id bytes as hex', (p) => bento.get({ key: hexOf(p) })),
          batched(BENTO_GET_RAW, 'L1 memoryDriver({ serialize: false }): L1 keeps the entry object', (p) => bentoRaw.get({ key: hexOf(p) })),
          batched(BENTO_GET_OR_SET, 'getOrSet with a factory that is never run (the key is cached)', (p) =>
            bento.getOrSet({ key: hexOf(p), factory: neverCalled }),
          ),
          oneByOne(OURS_GET_ONE, 'each call awaited before the next', (_, id) => near.getKey(id)),
          oneByOne(BENTO_GET_ONE, 'each call awaited before the next', (p) => bento.get({ key: hexOf(p) })),
        ],
        options,
      );
      const getsDuring = ((await commandCalls(admin)).get('get') ?? 0) - getsBefore;
      if (getsDuring !== 0) throw new Error(`cache bench: ${getsDuring} GETs reached Redis while measuring hits`);
      tables.push(getTable);
      notes.push(
        `hits: the near cache was filled by ${passes} getKey pass(es) over all ${label} keys in ${(fillMs / 1000).toFixed(1)} s; ${peekHits.toLocaleString('en-US')} peekKey hits counted by cacheStats() while measuring, and no GET reached Redis while getKey and bentocache were measured.`,
        `getKey "1,000 at once": each timed call issues 1,000 getKey calls and awaits them with Promise.all, so each call's promise is made, resolved and awaited; figures are per call. The getKey rate target is from the table measured with the near cache alone in the process (the in-memory manager emptied) and before the bentocache nodes were filled; the first table has both managers' getKey with both stores' 2 × ${label} keys in the process. bentocache rows do the same with the packet's id bytes as a hex key; ours ÷ fastest bentocache route: ${row(getTable, OURS_GET).ratio.toFixed(2)}× (batched), one by one ${(row(getTable, BENTO_GET_ONE).nsPerOp / row(getTable, OURS_GET_ONE).nsPerOp).toFixed(2)}×.`,
      );
      for (const b of [bento, bentoRaw]) await b.disconnectAll();
      bentos.length = 0;
    }
    await near.close();

    if (options.full) {
      // ---- 2. Revocation latency -------------------------------------------------------------
      const revokeCount = smoke ? 200 : 1000;
      progress(`revocation latency over ${revokeCount} keys (ours)`);
      const nodeA = manager('revoke:', { maxKeys: 4 * revokeCount });
      const nodeB = manager('revoke:', { maxKeys: 4 * revokeCount });
      await Promise.all([linked(nodeA, 'revocation A'), linked(nodeB, 'revocation B')]);
      const revokeKeys: AuthKey[] = [];
      await makeKeys(revokeCount, (keys) => void revokeKeys.push(...keys));
      await inBatches(revokeCount, BATCH, (i) => nodeA.setKey(revokeKeys[i]));
      await sleep(100);
      for (let pass = 0; pass < 5; pass++) {
        const missing = revokeKeys.filter((k) => nodeA.peekKey(k.idBytes) === undefined || nodeB.peekKey(k.idBytes) === undefined);
        if (missing.length === 0) break;
        await inBatches(missing.length, BATCH, (i) => Promise.all([nodeA.getKey(missing[i]), nodeB.getKey(missing[i])]));
        await sleep(50);
      }
      if (revokeKeys.some((k) => nodeA.peekKey(k.idBytes) === undefined || nodeB.peekKey(k.idBytes) === undefined))
        throw new Error('cache bench: revocation: a key is not cached on both nodes');
      const invalidationsBefore = nodeB.cacheStats().invalidations;
      const ours = await revocations(
        revokeCount,
        (i) => nodeA.delKey(revokeKeys[i]),
        (i) => nodeB.peekKey(revokeKeys[i].idBytes) === undefined,
      );
      const invalidationsSeen = nodeB.cacheStats().invalidations - invalidationsBefore;

      progress(`revocation latency over ${revokeCount} keys (bentocache)`);
      const bentoA = bentoNode(port, `${base}bento-revoke`, 4 * revokeCount);
      const bentoB = bentoNode(port, `${base}bento-revoke`, 4 * revokeCount);
      bentos.push(bentoA, bentoB);
      const bentoKeys = revokeKeys.map((k) => Buffer.from(k.idBytes).toString('hex'));
      await inBatches(revokeCount, BATCH, (i) => bentoA.set({ key: bentoKeys[i], value: randomBytes(KEY_BYTES) }));
      // A's sets reach B as bus messages that clear B's L1 entry: let them arrive before B reads.
      await sleep(200);
      let bentoReads = 0;
      for (let pass = 0; pass < 5; pass++) {
        await inBatches(revokeCount, BATCH, (i) => bentoB.get({ key: bentoKeys[i] }));
        await sleep(50);
        // Every key answered from L1 on both nodes: a pass that sends no GET to Redis.
        const before = (await commandCalls(admin)).get('get') ?? 0;
        await inBatches(revokeCount, BATCH, (i) => Promise.all([bentoA.get({ key: bentoKeys[i] }), bentoB.get({ key: bentoKeys[i] })]));
        bentoReads = ((await commandCalls(admin)).get('get') ?? 0) - before;
        if (bentoReads === 0) break;
      }
      if (bentoReads !== 0) throw new Error(`cache bench: revocation: bentocache still reads ${bentoReads} keys from Redis`);
      const theirs = await revocations(
        revokeCount,
        (i) => bentoA.delete({ key: bentoKeys[i] }),
        async (i) => (await bentoB.get({ key: bentoKeys[i] })) === undefined,
      );
      const p99 = quantile(ours.latencies, 0.99);
      targets.push(
        figureTarget(
          {
            id: 'cache-revocation-p99',
            label: 'Revocation: p99 from delKey on node A resolving to node B no longer serving the key',
            ours: 'near cache, 2 nodes',
            versus: 'latency',
            measured: p99,
            target: 10,
            unit: 'ms',
            kind: 'max',
          },
          ours.never === 0,
        ),
      );
      const revRow = (name: string, r: Revocation, how: string): (string | number)[] => [
        name,
        how,
        r.latencies.length + r.never,
        quantile(r.latencies, 0.5).toFixed(3),
        quantile(r.latencies, 0.99).toFixed(3),
        (r.latencies.at(-1) ?? NaN).toFixed(3),
        `${r.already} (${((100 * r.already) / (r.latencies.length + r.never)).toFixed(0)}%)`,
        r.never,
      ];
      extra.push({
        title:
          'Revocation latency: node A deletes, until node B stops returning the key (ms; "gone already": B had dropped it before A\'s delete resolved, counted as 0)',
        columns: ['cache', 'B checked with', 'keys', 'p50', 'p99', 'max', 'gone already', `still served after ${GIVE_UP_MS} ms`],
        rows: [
          revRow('ours near cache (Redis client-side caching, BCAST)', ours, 'peekKey (sync)'),
          revRow('bentocache 1.6.1 (memory L1 + Redis L2 + Redis bus)', theirs, 'await get (L1, then L2)'),
        ],
      });
      notes.push(
        `revocation: B's cacheStats().invalidations rose by ${invalidationsSeen} over ${revokeCount} deletes; B is polled once per event-loop turn (setImmediate) from the moment A's delete resolves, in the same process.`,
      );
      for (const b of bentos) await b.disconnectAll();
      bentos.length = 0;
      await Promise.all([nodeA.close(), nodeB.close()]);
    }

    // ---- 3. Flood of unknown ids -------------------------------------------------------------
    const floodCount = smoke ? 2000 : quick || !options.full ? 10_000 : 100_000;
    const floodLabel = floodCount.toLocaleString('en-US');
    progress(`flood: ${floodLabel} unknown ids, 4 callers each, then again`);
    const flood = manager('flood:', { maxKeys: 1024, negativeTtlMs: 30_000, negativeMaxKeys: floodCount });
    await linked(flood, 'flood');
    const floodIds = randomBytes(floodCount * 8);
    const idAt = (i: number) => floodIds.subarray(i * 8, i * 8 + 8);
    let wrong = 0;
    const expectMissing = (p: Promise<unknown>) =>
      p.then(
        () => void wrong++,
        (e: unknown) => void (e instanceof AuthKeyDoesNotExist || wrong++),
      );
    const stats0 = flood.cacheStats();
    const calls0 = await commandCalls(admin);
    const floodStarted = performance.now();
    await inBatches(floodCount, BATCH, (i) => Promise.all([0, 1, 2, 3].map(() => expectMissing(flood.getKey(idAt(i))))));
    const firstMs = performance.now() - floodStarted;
    const calls1 = await commandCalls(admin);
    const stats1 = flood.cacheStats();
    await inBatches(floodCount, BATCH, (i) => expectMissing(flood.getKey(idAt(i))));
    const bothMs = performance.now() - floodStarted;
    const calls2 = await commandCalls(admin);
    const stats2 = flood.cacheStats();
    if (wrong > 0) throw new Error(`cache bench: flood: ${wrong} getKey calls of unknown ids did not reject with AuthKeyDoesNotExist`);
    const first = callsBetween(calls0, calls1);
    const second = callsBetween(calls1, calls2);
    const firstGets = first.get('get') ?? 0;
    const secondGets = second.get('get') ?? 0;
    const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    // INFO and PING go out on timers whatever the traffic (the manager's link and SWAPDB checks,
    // this bench's own INFO reads): not a cost of the ids. The table below lists every command.
    const perId = (m: Map<string, number>) => total(m) - (m.get('info') ?? 0) - (m.get('ping') ?? 0);
    const list = (m: Map<string, number>) => [...m].map(([c, k]) => `${c} ${k}`).join(', ') || 'none';
    targets.push(
      figureTarget({
        id: 'cache-flood-first',
        label: `Flood of ${floodLabel} unknown ids, 4 callers each: Redis GETs per id`,
        ours: 'near cache, single flight',
        versus: 'GET/id',
        measured: firstGets / floodCount,
        target: 1,
        unit: 'GET/id',
        kind: 'max',
      }),
      figureTarget({
        id: 'cache-flood-second',
        label: `The same ${floodLabel} ids again within negativeTtlMs: Redis GETs`,
        ours: 'near cache, negative ids',
        versus: 'GETs',
        measured: secondGets,
        target: 0,
        unit: 'count',
        kind: 'max',
      }),
      // What a miss costs the server, whatever the commands: every command the flood's first pass
      // sent, per unknown id (one round trip per miss is the goal).
      figureTarget({
        id: 'cache-flood-commands',
        label: `Redis commands per unknown id (near-cache miss; flood of ${floodLabel} ids, 4 callers each; timed INFO/PING not counted)`,
        ours: 'near cache, single flight',
        versus: 'commands/id',
        measured: perId(first) / floodCount,
        target: 1,
        unit: 'cmd/id',
        kind: 'max',
      }),
    );
    extra.push({
      title: `Flood of ${floodLabel} unknown ids (negativeTtlMs 30,000, negativeMaxKeys ${floodLabel}); commands counted by the server's INFO commandstats`,
      columns: ['pass', 'getKey calls', 'ms', 'GET', 'all commands', 'misses', 'joins', 'negative hits', 'negativeSize after'],
      rows: [
        [
          '1: each id from 4 callers at once',
          4 * floodCount,
          firstMs.toFixed(0),
          firstGets,
          total(first),
          stats1.misses - stats0.misses,
          stats1.joins - stats0.joins,
          stats1.negativeHits - stats0.negativeHits,
          stats1.negativeSize,
        ],
        [
          '2: each id once more',
          floodCount,
          (bothMs - firstMs).toFixed(0),
          secondGets,
          total(second),
          stats2.misses - stats1.misses,
          stats2.joins - stats1.joins,
          stats2.negativeHits - stats1.negativeHits,
          stats2.negativeSize,
        ],
      ],
    });
    notes.push(
      `flood: commands per pass: first ${list(first)}; second ${list(second)}; both passes within ${(bothMs / 1000).toFixed(1)} s of the first call (negativeTtlMs 30 s).${own ? '' : ' The server is REDIS_URL, which other clients may use: the counts may include their commands.'}`,
    );
    await flood.close();

    if (options.full) {
      // ---- 4. Randomized staleness run ---------------------------------------------------------
      const runMs = smoke ? 1000 : quick ? 5000 : 60_000;
      progress(`staleness: ${NODES} nodes × ${WORKERS} callers and a control node, ${POOL} ids, ${runMs / 1000} s`);
      const nodes = Array.from({ length: NODES }, () => manager('stale:', { maxKeys: 2 * POOL }));
      await Promise.all(nodes.map((m, i) => linked(m, `staleness node ${i}`)));
      const control = new NeverInvalidated(manager('stale:', undefined));
      const poolKeys: AuthKey[] = [];
      await makeKeys(POOL, (keys) => void poolKeys.push(...keys));
      const poolIds = poolKeys.map((k) => Buffer.from(k.idBytes));
      const truth = Array.from({ length: POOL }, () => new Truth());
      const ops = { peek: 0, get: 0, set: 0, setExpiring: 0, del: 0 };
      const tally = () => ({ peekHits: 0, getHits: 0, getMissing: 0, staleHits: 0, staleMisses: 0, wrongKeys: 0, errors: 0, examples: [] as string[] });
      const answers = tally();
      const controlAnswers = tally();
      const sameId = (key: AuthKey, i: number) => Buffer.from(key.idBytes).equals(poolIds[i]);
      const clockSkew = Math.abs(Date.now() - nowMs());
      const stopAt = performance.now() + runMs;
      const worker = async (node: StalenessNode, name: string, a: ReturnType<typeof tally>) => {
        const stale = (what: string) => {
          a.staleHits++;
          if (a.examples.length < 3) a.examples.push(`${what} on ${name}`);
        };
        while (performance.now() < stopAt) {
          const i = Math.floor(Math.random() * POOL);
          const t = truth[i];
          const r = Math.random();
          if (r < 0.35) {
            ops.peek++;
            const at = nowMs();
            const key = node.peekKey(poolIds[i]);
            if (key !== undefined) {
              a.peekHits++;
              if (!sameId(key, i)) a.wrongKeys++;
              if (t.staleHit(at, t.setsStarted)) stale(`peekKey ${(at - t.deadSince()!).toFixed(1)} ms after the id died`);
            }
          } else if (r < 0.65) {
            ops.get++;
            const t0 = nowMs();
            const sets = t.setsStarted;
            const dels = t.delsStarted;
            try {
              const key = await node.getKey(poolIds[i]);
              a.getHits++;
              if (!sameId(key, i)) a.wrongKeys++;
              if (t.staleHit(t0, sets)) stale(`getKey begun ${(t0 - t.deadSince()!).toFixed(1)} ms after the id died`);
            } catch (e) {
              if (!(e instanceof AuthKeyDoesNotExist)) a.errors++;
              else {
                a.getMissing++;
                if (t.staleMiss(t0, nowMs(), dels)) a.staleMisses++;
              }
            }
          } else if (r < 0.85) {
            ops.set++;
            const expiring = Math.random() < 0.5;
            const expiresAt = expiring ? nowMs() + 2 + Math.random() * 198 : Infinity;
            if (expiring) ops.setExpiring++;
            const at = t.setStarted(expiresAt);
            let ok = false;
            try {
              await node.setKey(poolKeys[i], expiring ? { expiresAt } : undefined);
              ok = true;
            } catch {
              a.errors++;
            }
            t.setEnded(at, ok, nowMs());
          } else {
            ops.del++;
            const at = t.delStarted();
            let done = false;
            try {
              await node.delKey(poolIds[i]);
              done = true;
            } catch (e) {
              if (e instanceof AuthKeyDoesNotExist) done = true;
              else a.errors++;
            }
            t.delEnded(at, done, nowMs());
          }
          // Every caller yields a turn, so replies and invalidations are read between calls
          // (a hit resolves without I/O, and callers that only hit would starve the connections).
          await nextTurn();
        }
      };
      const statsBefore = nodes.map((m) => m.cacheStats());
      await Promise.all([
        ...nodes.flatMap((m, n) => Array.from({ length: WORKERS }, () => worker(m, `node ${n}`, answers))),
        ...Array.from({ length: CONTROL_WORKERS }, () => worker(control, 'the control node', controlAnswers)),
      ]);
      const statsAfter = nodes.map((m) => m.cacheStats());
      const sum = (k: 'hits' | 'misses' | 'negativeHits' | 'joins' | 'invalidations' | 'evictions' | 'flushes') =>
        statsAfter.reduce((acc, s, i) => acc + s[k] - statsBefore[i][k], 0);
      const totalOps = ops.peek + ops.get + ops.set + ops.del;
      targets.push(
        figureTarget(
          {
            id: 'cache-stale',
            label: `Randomized run, ${NODES} nodes, ${POOL} ids, ${runMs / 1000} s: stale answers (a hit > ${GRACE_MS} ms after the id surely died)`,
            ours: 'near cache',
            versus: 'stale answers',
            measured: answers.staleHits,
            target: 0,
            unit: 'count',
            kind: 'max',
          },
          answers.wrongKeys === 0,
        ),
      );
      const tallyRow = (name: string, a: ReturnType<typeof tally>) => [
        name,
        a.peekHits,
        a.getHits,
        a.getMissing,
        a.staleHits,
        a.staleMisses,
        a.wrongKeys,
        a.errors,
      ];
      extra.push({
        title:
          `Randomized staleness run: ${NODES} near-cache nodes × ${WORKERS} callers and a control node × ${CONTROL_WORKERS} on ${POOL} ids for ${runMs / 1000} s, ` +
          `${totalOps.toLocaleString('en-US')} ops (${formatRate((1000 * totalOps) / runMs)}/s; 35% peekKey, 30% getKey, 20% setKey (half with expiresAt 2–200 ms ahead), 15% delKey)`,
        columns: ['nodes', 'peekKey hits', 'getKey hits', 'getKey missing', 'stale hits', 'stale "missing"', 'wrong keys', 'errors'],
        rows: [
          tallyRow(`near cache (${NODES} nodes)`, answers),
          tallyRow('control: a Map filled by getKey, dropped only by its own delKey (must show stale hits)', controlAnswers),
        ],
      });
      notes.push(
        `staleness: ops ${JSON.stringify(ops)}; near-cache counters over the run: hits ${sum('hits')}, misses ${sum('misses')}, negative hits ${sum('negativeHits')}, joins ${sum('joins')}, invalidations ${sum('invalidations')}, evictions ${sum('evictions')}, flushes ${sum('flushes')}. ` +
          `A stale hit is a key returned by a read that began more than ${GRACE_MS} ms after the id surely died (a delete resolved, or every value stored since expired) with no set of it started since; a stale "missing" is AuthKeyDoesNotExist from a getKey that began more than ${GRACE_MS} ms after a set resolved with no delete since and no expiry due. ` +
          `Calls whose order Redis could have chosen either way are not judged. The control node proves the judge catches stale answers. Clock skew between Date.now() and the run's clock: ${clockSkew.toFixed(1)} ms.` +
          (answers.examples.length > 0 ? ` Near-cache stale examples: ${answers.examples.join('; ')}.` : '') +
          (controlAnswers.examples.length > 0 ? ` Control examples: ${controlAnswers.examples.join('; ')}.` : ''),
      );
      if (controlAnswers.staleHits === 0 && !smoke)
        throw new Error('cache bench: the control node gave no stale answer: the staleness judge cannot be trusted');
    }

    notes.push(
      `redis-server ${serverVersion} on loopback${server ? ' (started by the bench)' : ` (REDIS_URL)`}, ioredis 6${options.full ? ', bentocache 1.6.1' : ''}; Redis shares the machine's cores with Node.`,
    );
    if (!options.full) notes.push('main job: the hit comparison and the flood only, at fewer keys; revocation, staleness and bentocache with --full');
    return { id: 'cache', title: 'Near cache of the Redis manager (loopback)', tables, extra, targets, notes, elapsedMs: performance.now() - started };
  } finally {
    for (const b of bentos) await b.disconnectAll().catch(() => undefined);
    for (const m of managers) await m.close().catch(() => undefined);
    if (!server) await dropKeys(admin, base).catch(() => undefined);
    await admin.quit();
    if (server) {
      await server.stop();
      await rm(server.dir, { recursive: true, force: true });
    }
  }
}

await runIfMain(import.meta.url, run);
