/**
 * `node:crypto` where the runtime has it, looked up once at load through
 * `process.getBuiltinModule` (Node >= 20.16) and never imported, so that the package still loads
 * in browsers, Deno and Bun; undefined elsewhere. The modules that can use it (SHA-256, AES-IGE
 * encryption) check the functions they call and fall back to the WebAssembly core.
 * @internal
 */
import type * as NodeCrypto from 'node:crypto';

function find(): Partial<typeof NodeCrypto> | undefined {
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    return proc?.getBuiltinModule?.('node:crypto') as Partial<typeof NodeCrypto> | undefined;
  } catch {
    return undefined;
  }
}

/** The node:crypto module, or undefined; typed loosely: older runtimes lack some functions (`hash`). */
export const nodeCrypto = find();
