/**
 * 10,000 keys in one batch, the start-up import: `sha1AuthKeys` over the keys back to back (2.56
 * MB in, 200 kB out), against loops of `crypto.hash`, one call per key. Figures are per key.
 *
 * The baseline is the fastest loop in the run, whatever it returns: on Node 20 a loop of
 * `crypto.hash` returning strings ('binary', i.e. latin1, or hex) over the keys as separate
 * arrays, which takes about half the time of the loop returning Buffers. The loops with
 * sha1AuthKeys' contract (one n×20-byte array out) are shown too. `AuthKey.many` is measured in
 * many.bench.ts.
 *
 * The main job (without `--full`) measures sha1AuthKeys against the two fastest loops only.
 *
 * Run alone: `npx tsx bench/batch.bench.ts [--full] [--quick | --smoke]`.
 */
import { hash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { sha1AuthKeys } from '../src/index.ts';
import { scalarWasm, simdSupported, simdWasm } from '../src/core/engine.ts';
import { Engine } from '../src/core/wasm.ts';
import { type Case, type Report, type RunOptions, consume, formatNs, measure, row, runIfMain, speedTarget } from './harness.ts';
import { DIGEST_BYTES, KEY_BYTES, randomKeys, splitKeys } from './fixtures.ts';

const KEYS = 10_000;

/** The SIMD core built to hash eight keys per pass, by `npm run build:wasm -- --x8` only. */
const X8 = new URL('../build/simd-x8.wasm', import.meta.url);

/** Measures hashing 10,000 keys at once. */
export async function run(options: RunOptions = {}): Promise<Report> {
  const started = performance.now();
  const contiguous = randomKeys(KEYS);
  const separate = splitKeys(contiguous);
  const scalar = new Engine(scalarWasm());
  const out = new Uint8Array(KEYS * DIGEST_BYTES);
  // The shipped SIMD core and, when built, the eight-keys-per-pass one, both writing into `out`:
  // the same calls, so the two rows compare the cores alone.
  const cores: [string, string, Engine][] = [];
  if (simdSupported()) {
    cores.push(['ours SIMD core, 4 keys per pass, same batch', 'Engine.hashKeysInto on the shipped SIMD core (output buffer reused)', new Engine(simdWasm())]);
    if (existsSync(X8)) {
      const x8 = new Engine(new Uint8Array(readFileSync(X8)));
      const check = new Uint8Array(KEYS * DIGEST_BYTES);
      x8.hashKeysInto(contiguous, 0, KEYS, check, 0);
      if (!Buffer.from(check).equals(Buffer.from(sha1AuthKeys(contiguous)))) throw new Error('batch bench: build/simd-x8.wasm hashes wrong');
      cores.push(['ours SIMD core, 8 keys per pass, same batch', 'build/simd-x8.wasm (npm run build:wasm -- --x8): two groups of four lanes interleaved', x8]);
    }
  }

  const cases: Case[] = [
    {
      name: 'ours sha1AuthKeys(keys)',
      note: 'a new n×20-byte array of digests',
      opsPerCall: KEYS,
      fn: () => consume(sha1AuthKeys(contiguous)[DIGEST_BYTES * KEYS - 1]),
    },
    ...cores.map(([name, note, core]): Case => ({
      name,
      note,
      opsPerCall: KEYS,
      fn: () => {
        core.hashKeysInto(contiguous, 0, KEYS, out, 0);
        consume(out[DIGEST_BYTES * KEYS - 1]);
      },
    })),
    {
      name: 'ours scalar core, same batch',
      note: 'Engine.hashKeysInto on the core used without WebAssembly SIMD (output buffer reused)',
      opsPerCall: KEYS,
      fn: () => {
        scalar.hashKeysInto(contiguous, 0, KEYS, out, 0);
        consume(out[DIGEST_BYTES * KEYS - 1]);
      },
    },
    {
      name: "crypto.hash('sha1', k, 'binary') loop",
      note: 'digests[i] = crypto.hash(sha1, keys[i], binary) over the 10,000 arrays: 20-char strings',
      opsPerCall: KEYS,
      fn: () => {
        const digests = new Array<string>(KEYS);
        for (let i = 0; i < KEYS; i++) digests[i] = hash('sha1', separate[i], 'binary');
        consume(digests[KEYS - 1].charCodeAt(19));
      },
    },
    {
      name: "crypto.hash('sha1', k) hex loop",
      note: 'digests[i] = crypto.hash(sha1, keys[i]) over the 10,000 arrays: 40-digit strings',
      opsPerCall: KEYS,
      fn: () => {
        const digests = new Array<string>(KEYS);
        for (let i = 0; i < KEYS; i++) digests[i] = hash('sha1', separate[i]);
        consume(digests[KEYS - 1].charCodeAt(39));
      },
    },
    {
      name: "crypto.hash('sha1', k, 'buffer') loop",
      note: 'digests[i] = crypto.hash(sha1, keys[i], buffer) over the 10,000 arrays',
      opsPerCall: KEYS,
      fn: () => {
        const digests = new Array<Buffer>(KEYS);
        for (let i = 0; i < KEYS; i++) digests[i] = hash('sha1', separate[i], 'buffer');
        consume(digests[KEYS - 1][19]);
      },
    },
    {
      name: "crypto.hash binary loop → out.write(d, 20i, 'latin1')",
      note: 'the contract of sha1AuthKeys: subarray per key in, digests written into one new n×20 Buffer',
      opsPerCall: KEYS,
      fn: () => {
        const out = Buffer.allocUnsafeSlow(KEYS * DIGEST_BYTES);
        for (let i = 0; i < KEYS; i++) out.write(hash('sha1', contiguous.subarray(i * KEY_BYTES, (i + 1) * KEY_BYTES), 'binary'), i * DIGEST_BYTES, 'latin1');
        consume(out[DIGEST_BYTES * KEYS - 1]);
      },
    },
    {
      name: 'crypto.hash buffer loop → out.set(d, 20i)',
      note: 'the same contract, digests as Buffers copied into one new n×20 array',
      opsPerCall: KEYS,
      fn: () => {
        const out = new Uint8Array(KEYS * DIGEST_BYTES);
        for (let i = 0; i < KEYS; i++) out.set(hash('sha1', contiguous.subarray(i * KEY_BYTES, (i + 1) * KEY_BYTES), 'buffer'), i * DIGEST_BYTES);
        consume(out[DIGEST_BYTES * KEYS - 1]);
      },
    },
  ];

  // Every node:crypto loop competes for the baseline: the fastest in this run is it.
  const main = ['ours sha1AuthKeys(keys)', "crypto.hash('sha1', k, 'binary') loop", "crypto.hash('sha1', k) hex loop"];
  const measured = options.full ? cases : cases.filter((c) => main.includes(c.name));
  const loops = measured.map((c) => c.name).filter((n) => n.startsWith('crypto.hash'));
  const table = await measure('Batch of 10,000 keys', 'key', loops, measured, options);
  const notes: string[] = [];
  if (options.full && cores.length > 0) {
    const api = row(table, 'ours sha1AuthKeys(keys)').nsPerOp;
    const core = row(table, cores[0][0]).nsPerOp;
    notes.push(
      `floor: the shipped core hashes the batch in ${formatNs(core)} per key when the output is reused (copy in, ` +
        `compress, copy out); sha1AuthKeys, which makes the same calls, takes ${formatNs(api)}: the difference is allocating and first ` +
        `touching its new ${(KEYS * DIGEST_BYTES).toLocaleString('en-US')}-byte result. Against the fastest loop, the core alone is ` +
        `${(row(table, table.baseline).nsPerOp / core).toFixed(2)}×`,
    );
  }
  if (options.full && simdSupported() && cores.length < 2)
    notes.push('build/simd-x8.wasm not built: `npm run build:wasm -- --x8` adds the eight-keys-per-pass core to this table');
  return {
    id: 'batch',
    title: 'Batch of 10,000 keys',
    tables: [table],
    extra: [],
    targets: [speedTarget('batch-sha1-auth-keys', 'Batch of 10,000 keys, per key', table, 'ours sha1AuthKeys(keys)', table.baseline, 2)],
    notes,
    elapsedMs: performance.now() - started,
  };
}

await runIfMain(import.meta.url, run);
