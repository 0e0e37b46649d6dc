/** The asynchronous way to load the WebAssembly core, for runtimes that refuse the synchronous one. */
import { loadEngine } from './engine.js';

/**
 * Compiles and instantiates the library's WebAssembly core asynchronously, so that every call
 * after it runs synchronously on any runtime. Without it the core is compiled on first use,
 * synchronously, which Node, Bun, Deno, Web Workers and current browsers allow; browsers that
 * refuse to compile modules over 4 KB synchronously on their main thread (Chromium before it
 * raised that limit to 8 MB, and WebViews built on it) need this call first. Concurrent calls
 * share one load; once the core is loaded, a call resolves at once; a failed load may be retried.
 * @throws Error (as a rejection) if the runtime cannot compile or instantiate the core (for
 *   example a Content Security Policy without `'wasm-unsafe-eval'`); the runtime's error is its
 *   `cause`
 * @example
 * ```ts
 * import { AuthKey, init } from 'mtproto-authkey';
 *
 * await init(); // once, before the first call, on a browser's main thread
 * const key = new AuthKey(crypto.getRandomValues(new Uint8Array(256)));
 * ```
 */
export function init(): Promise<void> {
  return loadEngine();
}
