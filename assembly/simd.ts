// Entry point of the SIMD build: every export of the core, with auth keys hashed four at a time
// (one key per i32x4 lane) and any remainder of fewer than four keys by the scalar path.
export * from './core';
import { DIGEST_BYTES, KEY_BYTES, hashKeysScalar, inputPtr, outputPtr } from './core';
import { hashFourKeys } from './generated/rounds-x4';

/** Hashes `n` (at most KEYS_PER_CALL) 256-byte keys from INPUT into `n` digests at OUTPUT. */
export function sha1AuthKeys(n: i32): void {
  // Keys [0, q) go four at a time; q <= n <= KEYS_PER_CALL keeps every read inside INPUT.
  const q = n & ~3;
  let p = inputPtr();
  let out = outputPtr();
  for (let k = 0; k < q; k += 4) {
    hashFourKeys(p, out);
    p += 4 * KEY_BYTES;
    out += 4 * DIGEST_BYTES;
  }
  hashKeysScalar(q, n - q);
}

/** Whether this build hashes four keys at once. */
export const SIMD: bool = true;
