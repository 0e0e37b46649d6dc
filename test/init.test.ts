import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// How the WebAssembly core is loaded (src/core/engine.ts, src/core/init.ts): nothing at import, synchronously
// on first use where the runtime allows it, asynchronously through init(). Each test imports a
// fresh copy of the package, so each starts with no core loaded.

type Lib = typeof import('../src/index.ts');
const fresh = async (): Promise<Lib> => {
  vi.resetModules();
  return import('../src/index.ts');
};

const abc = new TextEncoder().encode('abc');
const ABC_SHA1 = 'a9993e364706816aba3e25717850c26c9cd0d89d'; // FIPS 180-4 example
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const key = new Uint8Array(256).map((_, i) => (i * 31 + 7) & 0xff);
const keyId = createHash('sha1').update(key).digest().readBigUInt64BE(12);

const Module = WebAssembly.Module;
const instantiate = WebAssembly.instantiate;
let compiles: number;
let instantiations: number;

beforeEach(() => {
  compiles = 0;
  instantiations = 0;
  // Counts synchronous compilations and asynchronous instantiations; the tests that need a
  // runtime which refuses one of them replace these again.
  WebAssembly.Module = function (bytes: BufferSource) {
    compiles++;
    return new Module(bytes);
  } as unknown as typeof WebAssembly.Module;
  WebAssembly.instantiate = ((...args: Parameters<typeof instantiate>) => {
    instantiations++;
    return instantiate(...args);
  }) as typeof instantiate;
});

afterEach(() => {
  WebAssembly.Module = Module;
  WebAssembly.instantiate = instantiate;
});

/** Makes synchronous compilation of modules over 4 KB throw, as Chromium's main thread did. */
function refuseSyncCompile(): void {
  WebAssembly.Module = function (bytes: BufferSource) {
    compiles++;
    if (bytes.byteLength > 4096)
      throw new RangeError(
        'WebAssembly.Compile is disallowed on the main thread, if the buffer size is larger than 4KB. Use WebAssembly.compile, or compile on a worker thread.',
      );
    return new Module(bytes);
  } as unknown as typeof WebAssembly.Module;
}

describe('loading the WebAssembly core', () => {
  it('compiles nothing at import, and the core synchronously, once, on first use', async () => {
    const lib = await fresh();
    expect(compiles).toBe(0);
    expect(hex(lib.sha1(abc))).toBe(ABC_SHA1);
    expect(new lib.AuthKey(key).id).toBe(keyId);
    expect(compiles).toBe(1);
    // init() after that loads nothing more.
    await lib.init();
    expect([compiles, instantiations]).toEqual([1, 0]);
  });

  it('init() loads the core asynchronously, once for concurrent callers, and every call after it is synchronous', async () => {
    const lib = await fresh();
    const [a, b] = [lib.init(), lib.init()];
    expect(a).toBeInstanceOf(Promise);
    await Promise.all([a, b]);
    expect([compiles, instantiations]).toEqual([0, 1]);
    expect(hex(lib.sha1(abc))).toBe(ABC_SHA1);
    const manager = new lib.AuthKeyManager();
    await manager.setKey(new lib.AuthKey(key));
    expect((await manager.getKey(keyId)).id).toBe(keyId);
    await lib.init();
    expect([compiles, instantiations]).toEqual([0, 1]);
  });

  it('where synchronous compilation is refused, the first call throws an error naming init(), with the cause; nothing is left half-loaded, and init() then works', async () => {
    refuseSyncCompile();
    const lib = await fresh();
    let error: unknown;
    try {
      lib.sha1(abc);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/refused to compile its WebAssembly core synchronously .*call `await init\(\)`/);
    expect((error as Error).cause).toBeInstanceOf(RangeError);
    // Every first use fails the same way until init(), whichever function it is.
    expect(() => new lib.AuthKey(key)).toThrow(/await init\(\)/);
    expect(() => new lib.Sha1()).toThrow(/await init\(\)/);
    await lib.init();
    expect(hex(lib.sha1(abc))).toBe(ABC_SHA1);
    expect(new lib.AuthKey(key).id).toBe(keyId);
    expect(new lib.Sha1().update(abc).digest()).toEqual(lib.sha1(abc));
  });

  it('a synchronous first use while init() is under way wins, and init() keeps that core (a stream begun on it goes on)', async () => {
    const lib = await fresh();
    const pending = lib.init();
    const stream = new lib.Sha1().update(abc.subarray(0, 1));
    await pending;
    expect(hex(stream.update(abc.subarray(1)).digest())).toBe(ABC_SHA1);
    expect([compiles, instantiations]).toEqual([1, 1]);
  });

  it('a failed init() rejects with the cause, and can be tried again', async () => {
    refuseSyncCompile();
    const lib = await fresh();
    const failure = new WebAssembly.CompileError('refused for this test');
    WebAssembly.instantiate = (() => Promise.reject(failure)) as unknown as typeof instantiate;
    const rejected = await lib.init().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(rejected).toBeInstanceOf(Error);
    expect((rejected as Error).message).toBe('mtproto-authkey: could not load the WebAssembly core (CompileError: refused for this test)');
    expect((rejected as Error).cause).toBe(failure);
    expect(() => lib.sha1(abc)).toThrow(/await init\(\)/);
    WebAssembly.instantiate = instantiate;
    await lib.init();
    expect(hex(lib.sha1(abc))).toBe(ABC_SHA1);
  });
});
