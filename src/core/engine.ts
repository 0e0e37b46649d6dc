/**
 * Which WebAssembly core runs, and when it is loaded: the two embedded cores (SIMD and scalar),
 * the choice between them, and `engine`, the one Engine every API call uses. Compiling and
 * instantiating are wasm.ts's; this module only decides which bytes and when.
 * @internal
 */
import { SCALAR_WASM, SIMD_WASM } from './generated/wasm-bytes.js';
import { type Core, Engine, instantiate, instantiateSync, validates } from './wasm.js';

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

let simdBytes: Uint8Array<ArrayBuffer> | undefined;
let scalarBytes: Uint8Array<ArrayBuffer> | undefined;

/** The SIMD core's bytes. */
export function simdWasm(): Uint8Array<ArrayBuffer> {
  return (simdBytes ??= decodeBase64(SIMD_WASM));
}

/** The scalar core's bytes. */
export function scalarWasm(): Uint8Array<ArrayBuffer> {
  return (scalarBytes ??= decodeBase64(SCALAR_WASM));
}

/** Whether this runtime accepts the SIMD core. */
export function simdSupported(): boolean {
  return validates(simdWasm());
}

/** The bytes of the core this runtime should run: SIMD where it validates, else scalar. */
function bestWasm(): Uint8Array<ArrayBuffer> {
  return simdSupported() ? simdWasm() : scalarWasm();
}

/**
 * Loads the engine on the first use of any of its members, synchronously, then forwards to it.
 * It is only ever reached through `engine` before a core is loaded: loading replaces `engine`,
 * and every caller reads that live binding afresh, so from then on calls go straight to the
 * real engine with no check of their own.
 */
const unloaded = new Proxy({} as Engine, {
  get(_target, name) {
    const real = loadSync();
    const member: unknown = Reflect.get(real, name, real);
    // A method must run on the engine itself: its private fields are not on this stand-in.
    return typeof member === 'function' ? member.bind(real) : member;
  },
});

/**
 * The engine every API call uses: the SIMD core where the runtime supports it, else scalar.
 * Nothing is compiled at import: the core is compiled and instantiated on first use
 * (synchronously) or by `loadEngine` (asynchronously), whichever comes first, and this binding
 * then refers to it for good (a stream's state may live in its memory, so it is never swapped).
 */
export let engine: Engine = unloaded;

// The asynchronous load under way, if any: concurrent callers share it.
let loading: Promise<void> | undefined;

/**
 * Compiles and instantiates the core synchronously, where the runtime allows it, and makes it
 * `engine`.
 * @throws Error naming `init()` if the runtime refuses (some browsers do on their main thread
 *   for modules over 4 KB); the runtime's own error is its `cause`
 */
function loadSync(): Engine {
  if (engine !== unloaded) return engine;
  let instance: Core;
  try {
    instance = instantiateSync(bestWasm());
  } catch (cause) {
    throw new Error(
      `mtproto-authkey: this runtime refused to compile its WebAssembly core synchronously (${describeCause(cause)}); ` +
        "call `await init()` (import { init } from 'mtproto-authkey') once before using the library, or use it from a Web Worker",
      { cause },
    );
  }
  return (engine = new Engine(instance));
}

/**
 * Compiles and instantiates the core asynchronously (`WebAssembly.instantiate`, which browsers
 * allow on their main thread whatever the module's size) and makes it `engine`; resolves at once
 * if a core is already loaded. A failed load can be tried again.
 * @throws Error (as a rejection) if the runtime cannot compile or instantiate the core; its own
 *   error is the `cause`
 */
export function loadEngine(): Promise<void> {
  if (engine !== unloaded) return Promise.resolve();
  return (loading ??= instantiate(bestWasm()).then(
    (instance) => {
      loading = undefined;
      // A synchronous first use may have won the race: keep the engine already in use.
      if (engine === unloaded) engine = new Engine(instance);
    },
    (cause: unknown) => {
      loading = undefined;
      throw new Error(`mtproto-authkey: could not load the WebAssembly core (${describeCause(cause)})`, { cause });
    },
  ));
}

/** A runtime error's class and message, for the errors above (never any key material there). */
function describeCause(cause: unknown): string {
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}
