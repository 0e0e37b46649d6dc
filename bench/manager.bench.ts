/**
 * The in-memory manager on the packet path, at 1,000,000 stored keys:
 * - lookups by the 8 wire id bytes at the start of a packet, random hits: `manager.peekKey(packet)`
 *   against the `Map<bigint, object>` a Node developer would write, keyed by the id read from the
 *   packet with `readBigUInt64LE` (a TL `long`, the natural form when parsing);
 * - memory per stored key, measured in a child process (`node --expose-gc`) as the growth of
 *   `heapUsed + external` after GC when 1,000,000 keys are inserted. `external` already includes
 *   `arrayBuffers` (every Buffer and typed array backing store), so that column is shown but not
 *   added again; together they are everything the structure retains, on the V8 heap and off it.
 *
 * Run alone: `npx tsx bench/manager.bench.ts [--quick]`.
 */
import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { AuthKey, AuthKeyManager, sha1AuthKeys } from '../src/index.ts';
import { type Case, type Report, type RunOptions, type Target, consume, measure, runIfMain, speedTarget } from './harness.ts';
import { DIGEST_BYTES, KEY_BYTES, NodeAuthKey, randomKeys } from './fixtures.ts';

/** Keys generated and inserted per step while filling: 1 MiB of key bytes. */
const CHUNK = 4096;
/** Distinct prepared packets; lookups cycle through them so they hit keys all over the table. */
const PACKETS = 65_536;
/** Lookups per timed task call. */
const PER_CALL = 4096;
/** Bytes of a prepared packet: the 8 id bytes and a 16-byte msg_key, as an encrypted packet starts. */
const PACKET_BYTES = 24;

/** The baseline store: the obvious Map keyed by the id as a TL long read off the wire. */
type BaselineMap = Map<bigint, NodeAuthKey>;

/**
 * Inserts `n` fresh random keys into the stores given, a chunk at a time so that no more than one
 * chunk of raw key bytes is alive at once (it would otherwise count as the stores' memory).
 * `onIds` sees each chunk's digests, n × 20 bytes, for picking ids to look up.
 */
function fill(n: number, ours: AuthKeyManager | undefined, map: BaselineMap | undefined, onIds?: (digests: Uint8Array, count: number) => void): void {
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
      }
    }
    onIds?.(sha1AuthKeys(chunk), count);
  }
}

/** Memory figures of one store, from the child process. */
interface MemoryResult {
  store: 'ours' | 'map';
  keys: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  rss: number;
}

/** Child process body: fills one store and prints how much memory it grew by, as JSON. */
async function memoryChild(store: 'ours' | 'map', n: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('manager memory child: run with --expose-gc');
  // Everything the measurement itself needs is loaded and warmed before the first reading.
  fill(CHUNK, new AuthKeyManager(), new Map());
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
    return process.memoryUsage();
  };
  const before = await settle();
  const ours = store === 'ours' ? new AuthKeyManager() : undefined;
  const map: BaselineMap | undefined = store === 'map' ? new Map() : undefined;
  fill(n, ours, map);
  const after = await settle();
  const size = ours?.size ?? map!.size;
  if (size !== n) throw new Error(`manager memory child: stored ${size} keys, expected ${n}`);
  const result: MemoryResult = {
    store,
    keys: n,
    heapUsed: after.heapUsed - before.heapUsed,
    external: after.external - before.external,
    arrayBuffers: after.arrayBuffers - before.arrayBuffers,
    rss: after.rss - before.rss,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

/** Runs `memoryChild` in a fresh `node --expose-gc` process, so nothing else shares its heap. */
function measureMemory(store: 'ours' | 'map', n: number): Promise<MemoryResult> {
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

  options.progress?.(`manager: memory of AuthKeyManager with ${label} keys (child process)`);
  const oursMemory = await measureMemory('ours', n);
  options.progress?.(`manager: memory of Map<bigint, object> with ${label} keys (child process)`);
  const mapMemory = await measureMemory('map', n);

  options.progress?.(`manager: filling both stores with ${label} keys`);
  const manager = new AuthKeyManager();
  const map: BaselineMap = new Map();
  // Ids to look up: every key has the same chance of being picked (a reservoir over the fill).
  const picked = new Uint8Array(PACKETS * 8);
  let seen = 0;
  const rand = new Uint32Array(1);
  fill(n, manager, map, (digests, count) => {
    for (let i = 0; i < count; i++, seen++) {
      let slot = seen;
      if (seen >= PACKETS) {
        randomFillSync(rand);
        slot = rand[0] % (seen + 1);
        if (slot >= PACKETS) continue;
      }
      picked.set(digests.subarray(i * DIGEST_BYTES + 12, i * DIGEST_BYTES + 20), slot * 8);
    }
  });
  const pool = Math.min(PACKETS, n);
  // Each packet its own Buffer, as a socket hands them over: the id bytes, then random bytes.
  const packets: Buffer[] = [];
  for (let i = 0; i < pool; i++) {
    const p = randomFillSync(Buffer.alloc(PACKET_BYTES));
    p.set(picked.subarray(i * 8, i * 8 + 8), 0);
    packets.push(p);
  }
  // Sanity check outside the timing: every prepared packet hits in both stores.
  for (const p of packets) {
    if (manager.peekKey(p) === undefined || map.get(p.readBigUInt64LE(0)) === undefined) throw new Error('manager bench: a prepared packet misses');
  }

  let cursorOurs = 0;
  let cursorMap = 0;
  // Cycle over a power of two of them, so the index is a mask (the quick run has fewer keys).
  const poolPow2 = 1 << Math.floor(Math.log2(pool));
  const cases: Case[] = [
    {
      name: 'ours manager.peekKey(packet)',
      opsPerCall: PER_CALL,
      fn: () => {
        let hits = 0;
        for (let i = 0; i < PER_CALL; i++) {
          if (manager.peekKey(packets[(cursorOurs + i) & (poolPow2 - 1)]) !== undefined) hits++;
        }
        cursorOurs = (cursorOurs + PER_CALL) & (poolPow2 - 1);
        consume(hits);
      },
    },
    {
      name: 'Map<bigint> + readBigUInt64LE',
      note: 'map.get(packet.readBigUInt64LE(0)), the id as a TL long',
      opsPerCall: PER_CALL,
      fn: () => {
        let hits = 0;
        for (let i = 0; i < PER_CALL; i++) {
          if (map.get(packets[(cursorMap + i) & (poolPow2 - 1)].readBigUInt64LE(0)) !== undefined) hits++;
        }
        cursorMap = (cursorMap + PER_CALL) & (poolPow2 - 1);
        consume(hits);
      },
    },
  ];
  const table = await measure(`Lookup by wire id at ${label} keys`, 'lookup', 'Map<bigint> + readBigUInt64LE', cases, options);

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
  const memoryTarget: Target = {
    id: 'manager-memory',
    label: `Memory per stored key at ${label} keys`,
    ours: 'AuthKeyManager',
    versus: 'Map<bigint, NodeAuthKey>',
    measured: perKey(oursMemory),
    target: 400,
    unit: 'B/key',
    kind: 'max',
    met: perKey(oursMemory) <= 400,
    reference: { name: 'Map<bigint, NodeAuthKey>', value: perKey(mapMemory) },
  };
  return {
    id: 'manager',
    title: `In-memory manager at ${label} keys`,
    tables: [table],
    extra: [
      {
        title: `Memory per stored key, bytes (growth after GC, ${label} keys; total = heapUsed + external; external includes arrayBuffers)`,
        columns: ['store', 'keys', 'heapUsed', 'external', '(arrayBuffers)', 'total', 'rss (info)'],
        rows: [memRow('ours AuthKeyManager', oursMemory), memRow('Map<bigint, NodeAuthKey>', mapMemory)],
      },
    ],
    targets: [
      speedTarget('manager-lookup', `Lookup by wire id at ${label} keys`, table, 'ours manager.peekKey(packet)', 'Map<bigint> + readBigUInt64LE', 1.8),
      memoryTarget,
    ],
    notes: [`${poolPow2.toLocaleString('en-US')} prepared packets of ${PACKET_BYTES} bytes for random stored keys, cycled ${PER_CALL} per task call`],
    elapsedMs: performance.now() - started,
  };
}

const child = process.argv.indexOf('--memory-child');
if (child >= 0) await memoryChild(process.argv[child + 1] as 'ours' | 'map', Number(process.argv[child + 2]));
else await runIfMain(import.meta.url, run);
