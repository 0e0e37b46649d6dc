// Entry point of the scalar build (no SIMD): every export of the core, with auth keys hashed
// one at a time.
export * from './core';
import { hashKeysScalar } from './core';

/** Hashes `n` (at most KEYS_PER_CALL) 256-byte keys from INPUT into `n` digests at OUTPUT. */
export function sha1AuthKeys(n: i32): void {
  hashKeysScalar(0, n);
}

/** Whether this build hashes four keys at once. */
export const SIMD: bool = false;
