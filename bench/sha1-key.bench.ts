/**
 * SHA-1 of one 256-byte auth key, one call per key: the handshake path, where one key is made at a
 * time. Our `sha1` against node:crypto (`crypto.hash`, `createHash`), hash-wasm and @noble/hashes.
 * At this size node:crypto's compression (SHA-NI) is a small part of its time; the rest is
 * per-call overhead, which is what a WebAssembly call can undercut.
 *
 * The baseline is the fastest node:crypto route in the run, whatever its output form: on Node 20
 * that is `crypto.hash` returning a string ('binary', Node's name for latin1, one char per byte;
 * or hex), about twice as fast as the same call returning a Buffer. Ours returns the 20 bytes;
 * the routes that turn the string into bytes are shown too.
 *
 * The main job (without `--full`) measures ours against the two fastest node:crypto routes only
 * (the 'binary' and hex strings), and not the compression floor.
 *
 * Run alone: `npx tsx bench/sha1-key.bench.ts [--full] [--quick | --smoke]`.
 */
import { createHash, hash } from 'node:crypto';
import { sha1 as nobleSha1 } from '@noble/hashes/legacy.js';
import { createSHA1, sha1 as hashWasmSha1 } from 'hash-wasm';
import { Sha1, sha1, sha1AuthKeys } from '../src/index.ts';
import { engine, scalarWasm } from '../src/core/engine.ts';
import { Engine } from '../src/core/wasm.ts';
import { type Case, type Report, type RunOptions, consume, formatNs, measure, row, runIfMain, speedTarget } from './harness.ts';
import { DIGEST_BYTES, randomKeys, splitKeys } from './fixtures.ts';

/** Keys per task call: enough that the timer's own cost is noise, few enough to stay in L1/L2. */
const POOL = 256;
/** Bytes of the message that measures compression alone: 1,024 blocks, one WebAssembly call. */
const LONG = 64 * 1024;
/** Compressions per 256-byte key: four data blocks and the padding block. */
const BLOCKS_PER_KEY = 5;

/** Measures SHA-1 of one 256-byte key for ours and the peers. */
export async function run(options: RunOptions = {}): Promise<Report> {
  const started = performance.now();
  const keys = splitKeys(randomKeys(POOL));
  const hasher = await createSHA1();
  const scalar = new Engine(scalarWasm());

  const cases: Case[] = [
    {
      name: 'ours sha1(key)',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) consume(sha1(keys[i])[19]);
      },
    },
    {
      name: 'ours scalar core',
      note: 'the same call on the core used where WebAssembly SIMD is missing',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) consume(scalar.sha1(keys[i])[19]);
      },
    },
    {
      name: 'ours sha1AuthKeys(key)',
      note: 'the batch entry point with a batch of one',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) consume(sha1AuthKeys(keys[i])[19]);
      },
    },
    {
      name: 'ours new Sha1().update().digest()',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) consume(new Sha1().update(keys[i]).digest()[19]);
      },
    },
    {
      name: "crypto.hash('sha1', k, 'binary')",
      note: 'the digest as a 20-char string, one char per byte',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) consume(hash('sha1', keys[i], 'binary').charCodeAt(19));
      },
    },
    {
      name: "crypto.hash('sha1', k) hex",
      note: 'the default output: 40 hex digits',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) consume(hash('sha1', keys[i]).charCodeAt(39));
      },
    },
    {
      name: "crypto.hash('sha1', k, 'buffer')",
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) consume(hash('sha1', keys[i], 'buffer')[19]);
      },
    },
    {
      name: "Buffer.from(crypto.hash('sha1', k, 'binary'), 'latin1')",
      note: 'the 20 bytes, through the fastest string',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) consume(Buffer.from(hash('sha1', keys[i], 'binary'), 'latin1')[19]);
      },
    },
    {
      name: "Buffer.from(crypto.hash('sha1', k), 'hex')",
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) consume(Buffer.from(hash('sha1', keys[i]), 'hex')[19]);
      },
    },
    {
      name: "createHash('sha1').update(k).digest()",
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) consume(createHash('sha1').update(keys[i]).digest()[19]);
      },
    },
    {
      name: 'hash-wasm createSHA1 (reused)',
      note: "hash-wasm's fastest form: one hasher, init/update/digest('binary') per key",
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) consume(hasher.init().update(keys[i]).digest('binary')[19]);
      },
    },
    {
      name: 'hash-wasm sha1() async',
      note: 'hex string through a promise per key',
      opsPerCall: POOL,
      fn: async () => {
        for (let i = 0; i < POOL; i++) consume((await hashWasmSha1(keys[i])).length);
      },
    },
    {
      name: '@noble/hashes sha1',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) consume(nobleSha1(keys[i])[19]);
      },
    },
  ];

  // Every node:crypto row competes for the baseline: the fastest in this run is it.
  const MAIN = ['ours sha1(key)', "crypto.hash('sha1', k, 'binary')", "crypto.hash('sha1', k) hex"];
  const measured = options.full ? cases : cases.filter((c) => MAIN.includes(c.name));
  const nodeRoutes = measured.map((c) => c.name).filter((n) => /^(crypto\.hash|createHash|Buffer\.from\(crypto)/.test(n));
  const table = await measure('SHA-1 of one 256-byte key', 'key', nodeRoutes, measured, options);
  const vsCrypto = speedTarget('sha1-key-vs-crypto', 'SHA-1 of one 256-byte key', table, 'ours sha1(key)', table.baseline, 1);
  if (!options.full) {
    return {
      id: 'sha1-key',
      title: 'SHA-1 of one 256-byte key',
      tables: [table],
      extra: [],
      targets: [vsCrypto],
      notes: [],
      elapsedMs: performance.now() - started,
    };
  }

  // The floor under the per-key figures: the compression alone, from long messages (no per-call
  // cost to speak of) and from the four-keys-per-pass batch path.
  const long = randomKeys(LONG / 256);
  const batchOut = new Uint8Array(POOL * DIGEST_BYTES);
  const contiguous = randomKeys(POOL);
  const blocks: Case[] = [
    { name: 'ours sha1(64 KiB)', note: 'one key at a time: scalar rounds, vector message schedule', opsPerCall: LONG / 64, fn: () => consume(sha1(long)[19]) },
    {
      name: 'ours 4 keys per pass (256 keys)',
      note: 'Engine.hashKeysInto, output reused: 5 blocks per key, four keys in the lanes of i32x4',
      opsPerCall: POOL * BLOCKS_PER_KEY,
      fn: () => {
        engine.hashKeysInto(contiguous, 0, POOL, batchOut, 0);
        consume(batchOut[19]);
      },
    },
    {
      name: "crypto.hash('sha1', 64 KiB, 'binary')",
      note: 'OpenSSL, with the SHA extensions (SHA-NI) where the CPU has them',
      opsPerCall: LONG / 64,
      fn: () => consume(hash('sha1', long, 'binary').charCodeAt(19)),
    },
  ];
  const blockTable = await measure('SHA-1 compression, per 64-byte block', 'block', "crypto.hash('sha1', 64 KiB, 'binary')", blocks, options);
  const ns = (t: typeof table, name: string) => row(t, name).nsPerOp;
  const one = ns(blockTable, 'ours sha1(64 KiB)');
  const four = ns(blockTable, 'ours 4 keys per pass (256 keys)');
  const native = ns(blockTable, "crypto.hash('sha1', 64 KiB, 'binary')");
  const floor =
    `floor: a 256-byte key is ${BLOCKS_PER_KEY} compressions. WebAssembly takes ${formatNs(one)} per block one key at a time ` +
    `(${formatNs(BLOCKS_PER_KEY * one)} per key) and ${formatNs(four)} four keys at a time (${formatNs(BLOCKS_PER_KEY * four)} per key); ` +
    `node:crypto takes ${formatNs(native)} per block (${formatNs(BLOCKS_PER_KEY * native)} per key). The rest of a one-key call is call ` +
    `overhead: ours ${formatNs(Math.max(0, ns(table, 'ours sha1(key)') - BLOCKS_PER_KEY * one))}, ${table.baseline} ` +
    `${formatNs(Math.max(0, ns(table, table.baseline) - BLOCKS_PER_KEY * native))}`;
  return {
    id: 'sha1-key',
    title: 'SHA-1 of one 256-byte key',
    tables: [table, blockTable],
    extra: [],
    targets: [vsCrypto, speedTarget('sha1-key-vs-hash-wasm', 'SHA-1 of one 256-byte key', table, 'ours sha1(key)', 'hash-wasm createSHA1 (reused)', 1)],
    notes: [floor],
    elapsedMs: performance.now() - started,
  };
}

await runIfMain(import.meta.url, run);
