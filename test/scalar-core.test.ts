/**
 * The API-level suites again, with every API call on the scalar core (the one runtimes without
 * WebAssembly SIMD get): the module that picks the engine is replaced so that `engine` is the
 * scalar build, then the suites register their tests here. The engine-level tests (sha1, engine,
 * hostile's direct engine calls) already run on both cores by themselves.
 */
import { expect, it, vi } from 'vitest';

vi.mock('../src/core/engine.ts', async (importOriginal) => {
  const loader = await importOriginal<typeof import('../src/core/engine.ts')>();
  const { Engine } = await import('../src/core/wasm.ts');
  return { ...loader, engine: new Engine(loader.scalarWasm()) };
});

const { engine } = await import('../src/core/engine.ts');

it('the API in this file runs on the scalar core', () => {
  // Without this, the suites below could pass on the SIMD core and prove nothing about scalar.
  expect(engine.simd).toBe(false);
});

it('the API modules call that engine, not one of their own', async () => {
  // Guards the mock's reach: were it on a module the API does not import the engine from, the
  // check above would still pass while every suite below ran on the SIMD core.
  const { sha1 } = await import('../src/index.ts');
  const spy = vi.spyOn(engine, 'sha1');
  try {
    expect(Buffer.from(sha1(new TextEncoder().encode('abc'))).toString('hex')).toBe('a9993e364706816aba3e25717850c26c9cd0d89d'); // FIPS 180-4 example
    expect(spy).toHaveBeenCalledOnce();
  } finally {
    spy.mockRestore();
  }
});

// Not key-table-model.test.ts: its long random sequences check the key table's bookkeeping, which
// is TypeScript and the same on either core (the keys' digests come from AuthKey, which the
// suites below run here); imported here it ran a second time, about a third of the unit loop.
await import('./hostile.test.ts');
await import('./memory-manager.test.ts');
await import('./auth-key.test.ts');
await import('./sha256.test.ts');
await import('./message.test.ts');
