/**
 * The in-memory manager on the packet path, at 1,000,000 stored keys:
 * - lookups by the 8 wire id bytes at the start of a packet, random hits: `manager.peekKey(packet)`
 *   against the Maps a Node developer would write, each keyed by the id read off the packet in its
 *   own way: `Map<bigint>` by `readBigUInt64LE` (a TL `long`, the natural form when parsing) and by
 *   `readBigUInt64BE`, `Map<string>` by the 8 bytes as a latin1 string, and a two-level
 *   `Map<int32, Map<int32, key>>` by the two 32-bit halves (no bigint, no string);
 * - what a first lookup costs: the first lookup of a key makes its AuthKey, which points into the
 *   store (no copy) and which the manager keeps for later lookups, for `peekKey` and `getKey`
 *   alike (the record is copied out only when the manager deletes the key);
 * - memory per stored key, measured in a child process (`node --expose-gc`) as the growth of
 *   `heapUsed + external` after GC when 1,000,000 keys are inserted (and after each was looked up
 *   once; and after each was looked up and all were deleted again). `external` already includes `arrayBuffers` (every
 *   Buffer and typed array backing store), so that column is shown but not added again; together
 *   they are everything the structure retains, on the V8 heap and off it.
 *
 * The main job (without `--full`) measures `peekKey` against the Maps only: no first lookups, no
 * getKey, no memory.
 *
 * Run alone: `npx tsx bench/manager.bench.ts [--full] [--quick]`.
 */
import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { AuthKey, AuthKeyManager, sha1AuthKeys } from '../src/index.ts';
import { tableOf } from '../src/managers/auth-key-manager.ts';
import { type Case, type Report, type RunOptions, consume, figureTarget, measure, row, runIfMain, speedTarget } from './harness.ts';
import { DIGEST_BYTES, KEY_BYTES, NodeAuthKey, PACKET_BYTES, makePackets, packetLookups, randomKeys, shuffleIds } from './fixtures.ts';

/** Keys generated and inserted per step while filling: 1 MiB of key bytes. */
const CHUNK = 4096;
/** Distinct prepared packets; lookups cycle through them so they hit keys all over the table. */
const PACKETS = 65_536;
/** Lookups per timed task call. */
const PER_CALL = 4096;

/** The baseline store: the obvious Map keyed by the id as a TL long read off the wire. */
type BaselineMap = Map<bigint, NodeAuthKey>;

/** The other Maps a Node developer might key by the wire id, filled alongside the baseline. */
interface OtherMaps {
  /** By `readBigUInt64BE(0)`: the id as `AuthKey.id` gives it. */
  bigBE: Map<bigint, NodeAuthKey>;
  /** By the 8 id bytes as a latin1 string. */
  str: Map<string, NodeAuthKey>;
  /** By the first then the second 32-bit half, read as int32 (small integers in V8). */
  twoLevel: Map<number, Map<number, NodeAuthKey>>;
}

/** Buffer's latin1 decoder, which `toString('latin1', start, end)` calls after checking its arguments. */
type Latin1 = Buffer & { latin1Slice(start: number, end: number): string };
const latin1 = (b: Buffer, start: number, end: number): string => (b as Latin1).latin1Slice(start, end);

const BASELINE = 'Map<bigint> + readBigUInt64LE';
const BIG_BE = 'Map<bigint> + readBigUInt64BE';
const STR_SLICE = 'Map<string> + latin1Slice(0, 8)';
const STR_TOSTRING = "Map<string> + toString('latin1', 0, 8)";
const TWO_LEVEL = 'Map<int32, Map<int32>> + readInt32LE(0), readInt32LE(4)';
const OURS_PEEK = 'ours manager.peekKey(packet)';
const OURS_PEEK_FIRST = 'ours manager.peekKey(packet), first lookup of the key (AuthKey made)';
const OURS_GET = 'ours await manager.getKey(idBytes)';
const OURS_GET_FIRST = 'ours await manager.getKey(idBytes), first lookup of the key (AuthKey made)';

/**
 * Inserts `n` fresh random keys into the stores given, a chunk at a time so that no more than one
 * chunk of raw key bytes is alive at once (it would otherwise count as the stores' memory).
 * `onIds` sees each chunk's digests, n × 20 bytes, for picking ids to look up.
 */
function fill(
  n: number,
  ours: AuthKeyManager | undefined,
  map: BaselineMap | undefined,
  onIds?: (digests: Uint8Array, count: number) => void,
  others?: OtherMaps,
): void {
  for (let done = 0; done < n; done += CHUNK) {
    const count = Math.min(CHUNK, n - done);
    const chunk = randomKeys(count);
    if (ours !== undefined) {
      const arrays = new Array<Uint8Array>(count);
      for (let i = 0; i < count; i++) arrays[i] = chunk.subarray(i * KEY_BYTES, (i + 1) * KEY_BYTES);
      for (const key of AuthKey.many(arrays)) ours.setKeySync(key);
    }
    if (map !== undefined) {
      for (let i = 0; i < count; i++) {
        const key = new NodeAuthKey(chunk.subarray(i * KEY_BYTES, (i + 1) * KEY_BYTES));
        map.set(key.hash.readBigUInt64LE(12), key);
        if (others !== undefined) {
          others.bigBE.set(key.hash.readBigUInt64BE(12), key);
          others.str.set(latin1(key.hash, 12, 20), key);
          const hi = key.hash.readInt32LE(12);
          let inner = others.twoLevel.get(hi);
          if (inner === undefined) others.twoLevel.set(hi, (inner = new Map()));
          inner.set(key.hash.readInt32LE(16), key);
        }
      }
    }
    onIds?.(sha1AuthKeys(chunk), count);
  }
}

/**
 * What a memory child measures: the manager with `n` keys inserted (`ours`); the same after each
 * key was looked up once, so the manager keeps an AuthKey for each (`ours-looked-up`); the manager
 * after the `n` keys were inserted, each looked up once, and all deleted again (each deletion then
 * copies the record out to its AuthKey, garbage here), against the same manager empty
 * (`ours-deleted`); the baseline Map (`map`).
 */
type MemoryStore = 'ours' | 'ours-looked-up' | 'ours-deleted' | 'map';

/** Memory figures of one store, from the child process. */
interface MemoryResult {
  store: MemoryStore;
  keys: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  rss: number;
  /** The process's `heapUsed + external` and `arrayBuffers` at the first reading (the empty store). */
  totalBefore: number;
  arrayBuffersBefore: number;
}

/** Runs everything a memory measurement uses once, so no code or cache is first made during it. */
function warmUp(): void {
  const warm = new AuthKeyManager();
  const ids: Uint8Array[] = [];
  fill(CHUNK, warm, new Map(), (digests, count) => {
    for (let i = 0; i < count; i++) ids.push(digests.slice(i * DIGEST_BYTES + 12, i * DIGEST_BYTES + 20));
  });
  for (const id of ids) if (warm.peekKey(id) === undefined) throw new Error('manager memory child: a key is missing');
  for (const id of ids) void warm.delKey(id);
}

/** Child process body: fills one store and prints how much memory it grew by, as JSON. */
async function memoryChild(store: MemoryStore, n: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('manager memory child: run with --expose-gc');
  warmUp();
  const settle = async () => {
    // The record arena of AuthKey keeps its last page, whose size depends on the last batch made:
    // one key made alone leaves the same 64-record page at every reading.
    consume(new AuthKey(1n).auxHash === 0n ? 1 : 0);
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
    return process.memoryUsage();
  };
  // The deleted case starts from an empty manager: what is left after deleting everything is
  // compared with what the manager took before its first key.
  const ours = store === 'map' ? undefined : new AuthKeyManager();
  const before = await settle();
  const map: BaselineMap | undefined = store === 'map' ? new Map() : undefined;
  let ids: Uint8Array | undefined = store === 'map' ? undefined : new Uint8Array(n * 8);
  let seen = 0;
  fill(n, ours, map, (digests, count) => {
    for (let i = 0; i < count; i++, seen++) ids?.set(digests.subarray(i * DIGEST_BYTES + 12, i * DIGEST_BYTES + 20), seen * 8);
  });
  const size = ours?.size ?? map!.size;
  if (size !== n) throw new Error(`manager memory child: stored ${size} keys, expected ${n}`);
  if (store === 'ours-looked-up' || store === 'ours-deleted') {
    for (let i = 0; i < n; i++) if (ours!.peekKey(ids!, i * 8) === undefined) throw new Error('manager memory child: a key is missing');
  }
  if (store === 'ours-deleted') {
    for (let i = 0; i < n; i++) await ours!.delKey(ids!.subarray(i * 8, i * 8 + 8));
    if (ours!.size !== 0) throw new Error(`manager memory child: ${ours!.size} keys left after deleting all`);
  }
  ids = undefined;
  const after = await settle();
  const result: MemoryResult = {
    store,
    keys: n,
    heapUsed: after.heapUsed - before.heapUsed,
    external: after.external - before.external,
    arrayBuffers: after.arrayBuffers - before.arrayBuffers,
    rss: after.rss - before.rss,
    totalBefore: before.heapUsed + before.external,
    arrayBuffersBefore: before.arrayBuffers,
  };
  consume(ours?.size ?? 0);
  process.stdout.write(JSON.stringify(result) + '\n');
}

/** Runs `memoryChild` in a fresh `node --expose-gc` process, so nothing else shares its heap. */
function measureMemory(store: MemoryStore, n: number): Promise<MemoryResult> {
  const args = ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--memory-child', store, String(n)];
  const root = fileURLToPath(new URL('..', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`manager memory child (${store}) exited ${code}: ${err.trim()}`));
      else resolve(JSON.parse(line) as MemoryResult);
    });
  });
}

/** Measures lookups by wire id at 1,000,000 keys, and memory per key. */
export async function run(options: RunOptions = {}): Promise<Report> {
  const started = performance.now();
  const n = options.quick ? 10_000 : 1_000_000;
  const label = n.toLocaleString('en-US');

  const memory = new Map<MemoryStore, MemoryResult>();
  for (const store of options.full ? (['ours', 'ours-looked-up', 'ours-deleted', 'map'] as const) : []) {
    options.progress?.(`manager: memory of ${store} with ${label} keys (child process)`);
    memory.set(store, await measureMemory(store, n));
  }

  options.progress?.(`manager: filling our manager and four Maps with ${label} keys`);
  const manager = new AuthKeyManager();
  const map: BaselineMap = new Map();
  const others: OtherMaps = { bigBE: new Map(), str: new Map(), twoLevel: new Map() };
  // Ids to look up: every key has the same chance of being picked (a reservoir over the fill);
  // and every id, for first lookups.
  const picked = new Uint8Array(PACKETS * 8);
  // Only the full run's first lookups walk every id (the main job spares the copy and the shuffle).
  const allIds = new Uint8Array(options.full ? n * 8 : 0);
  let seen = 0;
  const rand = new Uint32Array(CHUNK);
  fill(
    n,
    manager,
    map,
    (digests, count) => {
      randomFillSync(rand);
      for (let i = 0; i < count; i++, seen++) {
        const id = digests.subarray(i * DIGEST_BYTES + 12, i * DIGEST_BYTES + 20);
        if (options.full) allIds.set(id, seen * 8);
        let slot = seen;
        if (seen >= PACKETS) {
          slot = rand[i] % (seen + 1);
          if (slot >= PACKETS) continue;
        }
        picked.set(id, slot * 8);
      }
    },
    others,
  );
  if (options.full) shuffleIds(allIds, n);
  const pool = Math.min(PACKETS, n);
  // Each packet its own Buffer, as a socket hands them over: the id bytes, then random bytes.
  const { packets, idViews } = makePackets(pool, (i) => picked.subarray(i * 8, i * 8 + 8));
  // Sanity check outside the timing: every prepared packet hits in every store.
  for (const p of packets) {
    const hits = [
      manager.peekKey(p),
      map.get(p.readBigUInt64LE(0)),
      others.bigBE.get(p.readBigUInt64BE(0)),
      others.str.get(latin1(p, 0, 8)),
      others.twoLevel.get(p.readInt32LE(0))?.get(p.readInt32LE(4)),
    ];
    if (hits.includes(undefined)) throw new Error('manager bench: a prepared packet misses');
  }
  const table = tableOf(manager);

  // Cycle over a power of two of them, so the index is a mask (the quick run has fewer keys).
  const poolPow2 = 1 << Math.floor(Math.log2(pool));
  const mask = poolPow2 - 1;
  const cursors = new Map<string, number>();
  /** Cases of PER_CALL lookups of the prepared packets, over the same power of two of them. */
  const lookups = packetLookups(packets, PER_CALL);
  // First lookups walk every stored id in a random order. When the walk has gone through all of
  // them, the kept AuthKeys are let go (each given a copy of its record, as a delete would: once
  // per pass, one slow call among hundreds, which the median leaves out) and the walk starts
  // again, so each lookup of these cases is the first of its key.
  let cold = 0;
  const nextCold = (): number => {
    if (cold === n) {
      table.forgetHandouts();
      cold = 0;
    }
    return cold++ * 8;
  };
  const cases: Case[] = [
    lookups(OURS_PEEK, 'a key looked up before: the AuthKey made then is handed out again', (p) => manager.peekKey(p)),
    {
      name: OURS_PEEK_FIRST,
      note: 'manager.peekKey(ids, offset) over all stored ids in random order: allocates the AuthKey (a small object pointing into the store, no copy)',
      opsPerCall: PER_CALL,
      fn: () => {
        let hits = 0;
        for (let i = 0; i < PER_CALL; i++) if (manager.peekKey(allIds, nextCold()) !== undefined) hits++;
        consume(hits);
      },
    },
    {
      name: OURS_GET,
      note: 'the 8 id bytes as a subarray of the packet, awaited one by one',
      opsPerCall: PER_CALL,
      fn: async () => {
        let at = cursors.get(OURS_GET) ?? 0;
        let hits = 0;
        for (let i = 0; i < PER_CALL; i++, at = (at + 1) & mask) if ((await manager.getKey(idViews[at])) !== undefined) hits++;
        cursors.set(OURS_GET, at);
        consume(hits);
      },
    },
    {
      name: OURS_GET_FIRST,
      note: 'all stored ids in random order, each as an 8-byte subarray, awaited one by one',
      opsPerCall: PER_CALL,
      fn: async () => {
        let hits = 0;
        for (let i = 0; i < PER_CALL; i++) {
          const at = nextCold();
          if ((await manager.getKey(allIds.subarray(at, at + 8))) !== undefined) hits++;
        }
        consume(hits);
      },
    },
    lookups(BASELINE, 'map.get(packet.readBigUInt64LE(0)), the id as a TL long', (p) => map.get(p.readBigUInt64LE(0))),
    lookups(BIG_BE, 'map.get(packet.readBigUInt64BE(0)), the id as AuthKey.id gives it', (p) => others.bigBE.get(p.readBigUInt64BE(0))),
    lookups(STR_SLICE, "map.get(packet.latin1Slice(0, 8)): Buffer's latin1 decoder without toString's argument checks", (p) => others.str.get(latin1(p, 0, 8))),
    lookups(STR_TOSTRING, "map.get(packet.toString('latin1', 0, 8))", (p) => others.str.get(p.toString('latin1', 0, 8))),
    lookups(TWO_LEVEL, 'outer.get(packet.readInt32LE(0))?.get(packet.readInt32LE(4)): no bigint, no string', (p) =>
      others.twoLevel.get(p.readInt32LE(0))?.get(p.readInt32LE(4)),
    ),
  ];
  const lookupTitle = `Lookup by wire id at ${label} keys`;
  // The main job: ours on a key looked up before, against every Map.
  const measured = options.full ? cases : cases.filter((c) => c.name === OURS_PEEK || !c.name.startsWith('ours'));
  const lookupTable = await measure(lookupTitle, 'lookup', BASELINE, measured, options);

  const fastestOf = (names: string[]) => names.reduce((a, b) => (row(lookupTable, b).nsPerOp < row(lookupTable, a).nsPerOp ? b : a));
  const fastestBigint = fastestOf([BASELINE, BIG_BE]);
  const fastestMap = fastestOf([BASELINE, BIG_BE, STR_SLICE, STR_TOSTRING, TWO_LEVEL]);
  const vsFastest = speedTarget('manager-lookup-fastest-map', `${lookupTitle}, against the fastest Map`, lookupTable, OURS_PEEK, fastestMap, 3);
  const packetsNote = `${poolPow2.toLocaleString('en-US')} prepared packets of ${PACKET_BYTES} bytes for random stored keys, cycled ${PER_CALL} per task call`;
  if (!options.full) {
    const title = `In-memory manager at ${label} keys`;
    return { id: 'manager', title, tables: [lookupTable], extra: [], targets: [vsFastest], notes: [packetsNote], elapsedMs: performance.now() - started };
  }

  const perKey = (m: MemoryResult) => (m.heapUsed + m.external) / m.keys;
  const memRow = (name: string, m: MemoryResult): (string | number)[] => [
    name,
    m.keys.toLocaleString('en-US'),
    (m.heapUsed / m.keys).toFixed(0),
    (m.external / m.keys).toFixed(0),
    (m.arrayBuffers / m.keys).toFixed(0),
    perKey(m).toFixed(0),
    (m.rss / m.keys).toFixed(0),
  ];
  const ours = memory.get('ours')!;
  const lookedUp = memory.get('ours-looked-up')!;
  const deleted = memory.get('ours-deleted')!;
  const mapMemory = memory.get('map')!;
  const memoryTarget = figureTarget({
    id: 'manager-memory',
    label: `Memory per stored key at ${label} keys`,
    ours: 'AuthKeyManager',
    versus: 'Map<bigint, NodeAuthKey>',
    measured: perKey(ours),
    target: 330,
    unit: 'B/key',
    kind: 'max',
    reference: { name: 'Map<bigint, NodeAuthKey>', value: perKey(mapMemory) },
  });
  // What deleting every key leaves: the process's memory after GC against its memory with the
  // same manager empty, before the first key (the table shrinks back to its empty size).
  const ratioOf = (after: number, before: number) => `${((100 * after) / before).toFixed(1)}%`;
  const deletedTotal = deleted.totalBefore + deleted.heapUsed + deleted.external;
  const deletedBuffers = deleted.arrayBuffersBefore + deleted.arrayBuffers;
  const deletedMet = deletedTotal <= 1.1 * deleted.totalBefore && deletedBuffers <= 1.1 * deleted.arrayBuffersBefore;
  const kib = (b: number) => `${(b / 1024).toFixed(0)} KiB`;
  return {
    id: 'manager',
    title: `In-memory manager at ${label} keys`,
    tables: [lookupTable],
    extra: [
      {
        title: `Memory per stored key, bytes (growth after GC, ${label} keys; total = heapUsed + external; external includes arrayBuffers)`,
        columns: ['store', 'keys', 'heapUsed', 'external', '(arrayBuffers)', 'total', 'rss (info)'],
        rows: [
          memRow('ours AuthKeyManager', ours),
          memRow('ours AuthKeyManager, every key looked up once (an AuthKey per key, pointing into the store)', lookedUp),
          memRow('Map<bigint, NodeAuthKey>', mapMemory),
        ],
      },
      {
        title: `Memory after deleting everything: the child process after GC with the manager empty, then after ${label} keys were inserted, each looked up once, and all deleted with delKey`,
        columns: [
          'store',
          'heapUsed + external, empty',
          'after delete-all',
          'after ÷ empty',
          'arrayBuffers, empty',
          'after delete-all',
          'after ÷ empty',
          'rss growth (info)',
        ],
        rows: [
          [
            'ours AuthKeyManager',
            kib(deleted.totalBefore),
            kib(deletedTotal),
            ratioOf(deletedTotal, deleted.totalBefore),
            kib(deleted.arrayBuffersBefore),
            kib(deletedBuffers),
            ratioOf(deletedBuffers, deleted.arrayBuffersBefore),
            kib(deleted.rss),
          ],
        ],
      },
    ],
    targets: [
      speedTarget('manager-lookup', lookupTitle, lookupTable, OURS_PEEK, BASELINE, 1.8),
      speedTarget('manager-lookup-bigint', `${lookupTitle}, against the faster Map<bigint>`, lookupTable, OURS_PEEK, fastestBigint, 3),
      vsFastest,
      memoryTarget,
    ],
    notes: [
      packetsNote,
      `memory after deleting everything within 10% of the process with the manager empty (heapUsed + external, and arrayBuffers): ${deletedMet ? 'met' : 'MISSED'}`,
    ],
    elapsedMs: performance.now() - started,
  };
}

const child = process.argv.indexOf('--memory-child');
if (child >= 0) await memoryChild(process.argv[child + 1] as MemoryStore, Number(process.argv[child + 2]));
else await runIfMain(import.meta.url, run);
