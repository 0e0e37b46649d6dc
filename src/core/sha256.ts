/**
 * SHA-256 (FIPS 180-4) by the faster of two routes, chosen once at load: the WebAssembly core,
 * which every runtime has, and `node:crypto`'s one-shot `hash` (OpenSSL, SHA-NI where the CPU
 * has it), where the runtime has `node:crypto`. The module is fetched with
 * `process.getBuiltinModule`, never imported, so Deno, Bun and browsers load this file without it.
 *
 * Where each route wins was measured side by side (best of 8 batches, Node 20, this machine;
 * see the message layer's report): the core up to two blocks of input (119 bytes with the
 * padding), a call into it costing about 0.35 µs against about 0.65 µs for `hash`; OpenSSL from
 * 128 bytes on (0.73 against 0.88 µs at 128 bytes, 1.2 against 4.5 µs at 1 KiB).
 */
import type * as NodeCrypto from 'node:crypto';
import { nodeCrypto as found } from './node-crypto.js';
import { SHA256_BYTES } from './sizes.js';
import { engine } from './engine.js';
import { checkBytes, plainBytes } from './validate.js';

type Crypto = typeof NodeCrypto;

/** Inputs of at least this many bytes go to node:crypto when it is present: above two blocks. */
export const NODE_SHA256_FROM = 120;

// Used only once `hasHash` says both functions are there.
const nodeCrypto = found as Crypto | undefined;
const hasHash = typeof nodeCrypto?.hash === 'function' && typeof nodeCrypto?.createHash === 'function';

/** Which route each call takes: by length (the default), or all through one (tests only). */
export type Sha256Route = 'auto' | 'wasm' | 'node';

// The smallest input length sent to node:crypto; Infinity where it is absent.
let nodeFrom = hasHash ? NODE_SHA256_FROM : Infinity;

/**
 * @internal forces every SHA-256 of this module (and of the message layer, which hashes through
 * it) onto one route, so tests cover both; 'auto' restores the measured choice.
 * @returns whether the route is available (node:crypto may be absent)
 */
export function setSha256Route(route: Sha256Route): boolean {
  if (route === 'wasm') nodeFrom = Infinity;
  else if (route === 'node') nodeFrom = hasHash ? 0 : Infinity;
  else nodeFrom = hasHash ? NODE_SHA256_FROM : Infinity;
  return route !== 'node' || hasHash;
}

/**
 * Up to this many input bytes, a hash fused with other work in the core (the message layer's
 * msg_key, hashed where the plaintext already is, in the same call as the AES) stays in the
 * core: there it costs only its blocks, against a node:crypto call plus a copy of the plaintext
 * out of the core. Measured side by side on whole decryptMessage / encryptMessage calls (Node
 * 20, best of 7, two runs): the fused route ahead up to 480 bytes of data (528 hashed), about
 * even at 544, behind at 1 KiB.
 */
export const FUSED_SHA256_UP_TO = 544;

/**
 * @internal whether the message layer's msg_key hash of `n` bytes runs fused in the core: by
 * length (FUSED_SHA256_UP_TO) on the automatic route, always where node:crypto is absent or the
 * tests force 'wasm', never when they force 'node'.
 */
export function sha256InCore(n: number): boolean {
  return n < nodeFrom || (nodeFrom === NODE_SHA256_FROM && n <= FUSED_SHA256_UP_TO);
}

/**
 * SHA-256 (FIPS 180-4) of `data`.
 * @returns a new 32-byte digest
 * @throws TypeError if `data` is not a Uint8Array (a Proxy of one, or one on a detached buffer, is not)
 * @example sha256(new TextEncoder().encode('abc')) // ba7816bf...
 */
export function sha256(data: Uint8Array): Uint8Array {
  const n = checkBytes(data, 'sha256 data');
  if (n >= nodeFrom) {
    // A view of our own: node:crypto reads the bytes natively, whatever the caller's class says.
    const d = nodeCrypto!.hash('sha256', plainBytes(data, n), 'buffer') as unknown as Uint8Array;
    return new Uint8Array(d.buffer, d.byteOffset, SHA256_BYTES);
  }
  return engine.sha256(data);
}

/**
 * @internal SHA-256 of all of `buf` (a plain array of the caller's own), written into `out` at
 * `outAt`: the message layer's msg_key over a buffer laid out as key slice ‖ message, so that
 * node:crypto's route is one `hash` call over it, no Hash object and no concatenation (measured
 * 1.45 against 1.90 µs at 1056 bytes for createHash with two updates). The digest's own buffer
 * is zeroed after the copy.
 */
export function sha256Whole(buf: Uint8Array, n: number, out: Uint8Array, outAt: number): void {
  if (n >= nodeFrom) {
    const d = nodeCrypto!.hash('sha256', buf, 'buffer') as unknown as Uint8Array;
    out.set(d, outAt);
    d.fill(0);
    return;
  }
  engine.sha256Pair(buf, 0, n, buf, 0, 0, out, outAt);
}

/**
 * @internal SHA-256 of `a[aAt, aAt + aLen) ‖ b[bAt, bAt + bLen)`, written into `out` at `outAt`,
 * without making the concatenation: the message layer's msg_key and AES key/IV hashes. Callers
 * pass their own plain arrays with ranges they checked; the engine checks them again.
 */
export function sha256Pair(a: Uint8Array, aAt: number, aLen: number, b: Uint8Array, bAt: number, bLen: number, out: Uint8Array, outAt: number): void {
  if (aLen + bLen >= nodeFrom) {
    // Two updates of one Hash object: measured as fast as one `hash` call over a copy from 128
    // bytes on, and much faster than that copy for long messages.
    const d = nodeCrypto!
      .createHash('sha256')
      .update(a.subarray(aAt, aAt + aLen))
      .update(b.subarray(bAt, bAt + bLen))
      .digest();
    out.set(d, outAt);
    d.fill(0);
    return;
  }
  engine.sha256Pair(a, aAt, aLen, b, bAt, bLen, out, outAt);
}
