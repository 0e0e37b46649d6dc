/**
 * `new AuthKey(bytes)` and `new AuthKey(bigint)` end to end, with `id` and `auxHash` read as
 * bigints in the loop, against the node:crypto routes to the same two values:
 * - the bare routes, which hash and read the two values but keep no copy of the key: from the
 *   digest as a latin1 string (char codes through a DataView), as hex (`BigInt('0x' + …)`), as a
 *   Buffer (`readBigUInt64BE`);
 * - the objects a Node developer would write, which like AuthKey also keep a copy of the key:
 *   `NodeAuthKey` (Buffer digest) and `FastNodeAuthKey` (latin1 digest), in fixtures.ts.
 * The baseline is the fastest of them in the run, though AuthKey does more (it copies the key).
 *
 * The main job (without `--full`) measures ours from bytes against the fastest route only.
 *
 * Run alone: `npx tsx bench/auth-key.bench.ts [--full] [--quick | --smoke]`.
 */
import { AuthKey } from '../src/index.ts';
import { type Case, type Report, type RunOptions, consume, measure, runIfMain, speedTarget } from './harness.ts';
import { hash } from 'node:crypto';
import { FastNodeAuthKey, NodeAuthKey, latin1U64, lowByte, randomKeys, splitKeys, toBigint } from './fixtures.ts';

const POOL = 256;

/** Measures AuthKey construction from bytes and from a bigint, ours and the node:crypto object. */
export async function run(options: RunOptions = {}): Promise<Report> {
  const started = performance.now();
  const bytes = splitKeys(randomKeys(POOL));
  const values = bytes.map(toBigint);

  const fromBytes: Case[] = [
    {
      name: 'ours new AuthKey(bytes)',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) {
          const k = new AuthKey(bytes[i]);
          consume(lowByte(k.id) ^ lowByte(k.auxHash));
        }
      },
    },
    {
      name: "crypto.hash('sha1', k, 'binary') → DataView.getBigUint64 ×2",
      note: 'id = chars 12..19, aux hash = chars 0..7, each copied to an 8-byte array and read as one u64 (fixtures latin1U64)',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) {
          const h = hash('sha1', bytes[i], 'binary');
          consume(lowByte(latin1U64(h, 12)) ^ lowByte(latin1U64(h, 0)));
        }
      },
    },
    {
      name: "crypto.hash('sha1', k) hex → BigInt('0x' + hex.slice(…)) ×2",
      note: 'id = the last 16 hex digits, aux hash = the first 16',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) {
          const h = hash('sha1', bytes[i]);
          consume(lowByte(BigInt('0x' + h.slice(24))) ^ lowByte(BigInt('0x' + h.slice(0, 16))));
        }
      },
    },
    {
      name: "crypto.hash('sha1', k, 'buffer') → readBigUInt64BE ×2",
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) {
          const h = hash('sha1', bytes[i], 'buffer');
          consume(lowByte(h.readBigUInt64BE(12)) ^ lowByte(h.readBigUInt64BE(0)));
        }
      },
    },
    {
      name: 'node:crypto object(bytes), latin1 digest',
      note: 'FastNodeAuthKey: Buffer.allocUnsafe copy (pooled), latin1 digest, DataView reads',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) {
          const k = new FastNodeAuthKey(bytes[i]);
          consume(lowByte(k.id) ^ lowByte(k.auxHash));
        }
      },
    },
    {
      name: 'node:crypto object(bytes)',
      note: 'NodeAuthKey: Buffer.from copy, crypto.hash to a Buffer, readBigUInt64BE for id and aux hash',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) {
          const k = new NodeAuthKey(bytes[i]);
          consume(lowByte(k.id) ^ lowByte(k.auxHash));
        }
      },
    },
  ];
  const fromBigint: Case[] = [
    {
      name: 'ours new AuthKey(bigint)',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) {
          const k = new AuthKey(values[i]);
          consume(lowByte(k.id) ^ lowByte(k.auxHash));
        }
      },
    },
    {
      name: 'node:crypto object(bigint), latin1 digest',
      note: "FastNodeAuthKey: Buffer.from(v.toString(16).padStart(512, '0'), 'hex'), latin1 digest, DataView reads",
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) {
          const k = new FastNodeAuthKey(values[i]);
          consume(lowByte(k.id) ^ lowByte(k.auxHash));
        }
      },
    },
    {
      name: 'node:crypto object(bigint)',
      note: "Buffer.from(v.toString(16).padStart(512, '0'), 'hex'), then as from bytes",
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) {
          const k = new NodeAuthKey(values[i]);
          consume(lowByte(k.id) ^ lowByte(k.auxHash));
        }
      },
    },
  ];

  const nodeRoutes = (cases: Case[]) => cases.map((c) => c.name).filter((n) => !n.startsWith('ours'));
  // The main job: ours and the fastest route of the full run (the others are 1.5× slower or more).
  const main = ['ours new AuthKey(bytes)', "crypto.hash('sha1', k, 'binary') → DataView.getBigUint64 ×2"];
  const bytesCases = options.full ? fromBytes : fromBytes.filter((c) => main.includes(c.name));
  const bytesTable = await measure('new AuthKey(bytes)', 'key', nodeRoutes(bytesCases), bytesCases, options);
  const bigintTable = options.full ? await measure('new AuthKey(bigint)', 'key', nodeRoutes(fromBigint), fromBigint, options) : undefined;
  return {
    id: 'auth-key',
    title: 'AuthKey construction',
    tables: bigintTable === undefined ? [bytesTable] : [bytesTable, bigintTable],
    extra: [],
    targets: [speedTarget('auth-key-bytes', 'new AuthKey(bytes), id and aux hash read', bytesTable, 'ours new AuthKey(bytes)', bytesTable.baseline, 1.3)],
    notes: [],
    elapsedMs: performance.now() - started,
  };
}

await runIfMain(import.meta.url, run);
