/**
 * 10,000 keys in one batch, the start-up import: `sha1AuthKeys` over the keys back to back (2.56
 * MB in, 200 kB out) and `AuthKey.many` over 10,000 separate arrays, against a `crypto.hash` loop.
 * Figures are per key.
 *
 * Run alone: `npx tsx bench/batch.bench.ts [--quick]`.
 */
import { hash } from 'node:crypto';
import { AuthKey, sha1AuthKeys } from '../src/index.ts';
import { Engine, scalarWasm } from '../src/wasm.ts';
import { type Case, type Report, type RunOptions, consume, measure, runIfMain, speedTarget } from './harness.ts';
import { DIGEST_BYTES, KEY_BYTES, lowByte, randomKeys, splitKeys } from './fixtures.ts';

const KEYS = 10_000;

/** Measures hashing 10,000 keys at once. */
export async function run(options: RunOptions = {}): Promise<Report> {
  const started = performance.now();
  const contiguous = randomKeys(KEYS);
  const separate = splitKeys(contiguous);
  const scalar = new Engine(scalarWasm());
  const scalarOut = new Uint8Array(KEYS * DIGEST_BYTES);

  const cases: Case[] = [
    {
      name: 'ours sha1AuthKeys(keys)',
      opsPerCall: KEYS,
      fn: () => consume(sha1AuthKeys(contiguous)[DIGEST_BYTES * KEYS - 1]),
    },
    {
      name: 'ours scalar core, same batch',
      note: 'Engine.hashKeysInto on the core used without WebAssembly SIMD (output buffer reused)',
      opsPerCall: KEYS,
      fn: () => {
        scalar.hashKeysInto(contiguous, 0, KEYS, scalarOut, 0);
        consume(scalarOut[DIGEST_BYTES * KEYS - 1]);
      },
    },
    {
      name: 'ours AuthKey.many(arrays)',
      opsPerCall: KEYS,
      fn: () => {
        const keys = AuthKey.many(separate);
        consume(lowByte(keys[KEYS - 1].id));
      },
    },
    {
      name: 'crypto.hash loop',
      note: "digests[i] = crypto.hash('sha1', keys[i], 'buffer') over the 10,000 arrays",
      opsPerCall: KEYS,
      fn: () => {
        const digests = new Array<Buffer>(KEYS);
        for (let i = 0; i < KEYS; i++) digests[i] = hash('sha1', separate[i], 'buffer');
        consume(digests[KEYS - 1][19]);
      },
    },
    {
      name: 'crypto.hash loop, contiguous in and out',
      note: 'the same contract as sha1AuthKeys: subarray per key, digest copied into one n×20 array',
      opsPerCall: KEYS,
      fn: () => {
        const out = new Uint8Array(KEYS * DIGEST_BYTES);
        for (let i = 0; i < KEYS; i++) out.set(hash('sha1', contiguous.subarray(i * KEY_BYTES, (i + 1) * KEY_BYTES), 'buffer'), i * DIGEST_BYTES);
        consume(out[DIGEST_BYTES * KEYS - 1]);
      },
    },
  ];

  const table = await measure('Batch of 10,000 keys', 'key', 'crypto.hash loop', cases, options);
  return {
    id: 'batch',
    title: 'Batch of 10,000 keys',
    tables: [table],
    extra: [],
    targets: [speedTarget('batch-sha1-auth-keys', 'Batch of 10,000 keys, per key', table, 'ours sha1AuthKeys(keys)', 'crypto.hash loop', 4)],
    notes: [],
    elapsedMs: performance.now() - started,
  };
}

await runIfMain(import.meta.url, run);
