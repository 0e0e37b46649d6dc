/**
 * `new AuthKey(bytes)` and `new AuthKey(bigint)` end to end, against the object a Node developer
 * would write with node:crypto (`NodeAuthKey` in fixtures.ts). Both sides copy the key, hash it,
 * and are asked for `id` and `auxHash` as bigints in the loop, so they deliver the same things.
 *
 * Run alone: `npx tsx bench/auth-key.bench.ts [--quick]`.
 */
import { AuthKey } from '../src/index.ts';
import { type Case, type Report, type RunOptions, consume, measure, runIfMain, speedTarget } from './harness.ts';
import { NodeAuthKey, lowByte, randomKeys, splitKeys, toBigint } from './fixtures.ts';

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
      name: 'node:crypto object(bytes)',
      note: 'Buffer.from copy, crypto.hash, readBigUInt64BE for id and aux hash',
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

  const bytesTable = await measure('new AuthKey(bytes)', 'key', 'node:crypto object(bytes)', fromBytes, options);
  const bigintTable = await measure('new AuthKey(bigint)', 'key', 'node:crypto object(bigint)', fromBigint, options);
  return {
    id: 'auth-key',
    title: 'AuthKey construction',
    tables: [bytesTable, bigintTable],
    extra: [],
    targets: [speedTarget('auth-key-bytes', 'new AuthKey(bytes), id and aux hash read', bytesTable, 'ours new AuthKey(bytes)', 'node:crypto object(bytes)', 1.7)],
    notes: [],
    elapsedMs: performance.now() - started,
  };
}

await runIfMain(import.meta.url, run);
