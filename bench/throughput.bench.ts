/**
 * SHA-1 of 1 MiB: raw compression throughput, where per-call overhead no longer matters. node:crypto
 * uses the CPU's SHA instructions (SHA-NI) here, out of reach for WebAssembly; the peer to match
 * is hash-wasm, the fastest SHA-1 compiled to WebAssembly. GB/s are decimal (10^9 bytes).
 *
 * Run alone: `npx tsx bench/throughput.bench.ts [--quick | --smoke]`.
 */
import { hash } from 'node:crypto';
import { sha1 as nobleSha1 } from '@noble/hashes/legacy.js';
import { createSHA1 } from 'hash-wasm';
import { sha1 } from '../src/index.ts';
import { scalarWasm } from '../src/core/engine.ts';
import { Engine } from '../src/core/wasm.ts';
import { type Case, type Report, type RunOptions, consume, measure, runIfMain, speedTarget } from './harness.ts';
import { randomKeys } from './fixtures.ts';

const MIB = 1 << 20;

/** Measures SHA-1 throughput over 1 MiB. */
export async function run(options: RunOptions = {}): Promise<Report> {
  const started = performance.now();
  const data = randomKeys(MIB / 256);
  const hasher = await createSHA1();
  const scalar = new Engine(scalarWasm());

  const cases: Case[] = [
    { name: 'ours sha1(1 MiB)', opsPerCall: 1, bytesPerOp: MIB, fn: () => consume(sha1(data)[19]) },
    {
      name: 'ours scalar core',
      note: 'the core used without WebAssembly SIMD',
      opsPerCall: 1,
      bytesPerOp: MIB,
      fn: () => consume(scalar.sha1(data)[19]),
    },
    { name: "crypto.hash('sha1', d, 'binary')", opsPerCall: 1, bytesPerOp: MIB, fn: () => consume(hash('sha1', data, 'binary').charCodeAt(19)) },
    { name: "crypto.hash('sha1', d) hex", opsPerCall: 1, bytesPerOp: MIB, fn: () => consume(hash('sha1', data).charCodeAt(39)) },
    { name: "crypto.hash('sha1', d, 'buffer')", opsPerCall: 1, bytesPerOp: MIB, fn: () => consume(hash('sha1', data, 'buffer')[19]) },
    {
      name: 'hash-wasm createSHA1 (reused)',
      opsPerCall: 1,
      bytesPerOp: MIB,
      fn: () => consume(hasher.init().update(data).digest('binary')[19]),
    },
    { name: '@noble/hashes sha1', opsPerCall: 1, bytesPerOp: MIB, fn: () => consume(nobleSha1(data)[19]) },
  ];

  // The fastest node:crypto route in the run is the baseline (at 1 MiB the output form hardly matters).
  const nodeRoutes = cases.map((c) => c.name).filter((n) => n.startsWith('crypto.hash'));
  const table = await measure('SHA-1 of 1 MiB', 'MiB', nodeRoutes, cases, options);
  return {
    id: 'throughput',
    title: 'SHA-1 throughput, 1 MiB',
    tables: [table],
    extra: [],
    targets: [speedTarget('throughput-vs-hash-wasm', 'SHA-1 of 1 MiB (throughput)', table, 'ours sha1(1 MiB)', 'hash-wasm createSHA1 (reused)', 1)],
    notes: [],
    elapsedMs: performance.now() - started,
  };
}

await runIfMain(import.meta.url, run);
