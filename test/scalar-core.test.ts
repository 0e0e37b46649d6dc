/**
 * The API-level suites again, with every API call on the scalar core (the one runtimes without
 * WebAssembly SIMD get): the module that picks the engine is replaced so that `engine` is the
 * scalar build, then the suites register their tests here. The engine-level tests (sha1, engine,
 * hostile's direct engine calls) already run on both cores by themselves.
 */
import { expect, it, vi } from 'vitest';

vi.mock('../src/core/wasm.ts', async (importOriginal) => {
  const wasm = await importOriginal<typeof import('../src/core/wasm.ts')>();
  return { ...wasm, engine: new wasm.Engine(wasm.scalarWasm()) };
});

const { engine } = await import('../src/core/wasm.ts');

it('the API in this file runs on the scalar core', () => {
  // Without this, the suites below could pass on the SIMD core and prove nothing about scalar.
  expect(engine.simd).toBe(false);
});

// Not key-table-model.test.ts: its long random sequences check the key table's bookkeeping, which
// is TypeScript and the same on either core (the keys' digests come from AuthKey, which the
// suites below run here); imported here it ran a second time, about a third of the unit loop.
await import('./hostile.test.ts');
await import('./memory-manager.test.ts');
await import('./auth-key.test.ts');
await import('./sha256.test.ts');
await import('./message.test.ts');
