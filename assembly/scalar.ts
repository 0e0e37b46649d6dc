// Entry point of the scalar build (no SIMD): every export of the core, with auth keys hashed
// one at a time.
export * from './core';
// SHA-256 for MTProto 2.0 message keys: one implementation for both builds.
export * from './sha256';
// AES-256-IGE: the bitsliced cipher here, the vector-permute one in the SIMD build (see aes.ts).
export * from './aes';
import { RECORD_BYTES, inputPtr, outputPtr } from './core';
import { DIGEST_BYTES, KEY_BYTES, hashKeysOneByOne } from './sha1';

/**
 * Hashes `n` (at most KEYS_PER_CALL) 256-byte keys, back to back at INPUT, into `n` digests,
 * back to back at OUTPUT; the `n` keys at INPUT are zeroed before it returns.
 */
export function sha1AuthKeys(n: i32): void {
  hashKeysOneByOne(inputPtr(), KEY_BYTES, outputPtr(), DIGEST_BYTES, n);
  memory.fill(inputPtr(), 0, <usize>n * KEY_BYTES);
}

/**
 * Hashes in place `n` (at most RECORDS_PER_CALL) key records, back to back at INPUT: record k is
 * RECORD_BYTES at INPUT + k * RECORD_BYTES, its key first, and its digest is written over the 20
 * bytes after the key. The keys stay in INPUT for the caller to copy out; wipe(n * RECORD_BYTES)
 * clears them.
 */
export function sha1KeyRecords(n: i32): void {
  const p = inputPtr();
  hashKeysOneByOne(p, RECORD_BYTES, p + KEY_BYTES, RECORD_BYTES, n);
}

/** Whether this build hashes four keys at once. */
export const SIMD: bool = false;
