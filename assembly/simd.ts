// Entry point of the SIMD build: every export of the core, with auth keys hashed KEYS_PER_PASS
// (four: one key per i32x4 lane; see GROUPS in scripts/gen-rounds.mjs) at a time and any
// remainder by the one-key path.
export * from './core';
// SHA-256 for MTProto 2.0 message keys: one implementation for both builds.
export * from './sha256';
// AES-256-IGE: the vector-permute cipher here, the bitsliced one in the scalar build (see aes.ts).
export * from './aes';
import { RECORD_BYTES, inputPtr, outputPtr } from './core';
import { DIGEST_BYTES, KEY_BYTES, hashKeysOneByOne } from './sha1';
import { KEYS_PER_PASS, hashKeysX4, hashRecordsX4 } from './generated/rounds-x4';

/**
 * Hashes `n` (at most KEYS_PER_CALL) 256-byte keys, back to back at INPUT, into `n` digests,
 * back to back at OUTPUT; the `n` keys at INPUT are zeroed before it returns.
 */
export function sha1AuthKeys(n: i32): void {
  // Keys [0, q) go KEYS_PER_PASS at a time; q <= n <= KEYS_PER_CALL keeps every read inside INPUT.
  const q = n - n % KEYS_PER_PASS;
  let p = inputPtr();
  let out = outputPtr();
  for (let k = 0; k < q; k += KEYS_PER_PASS) {
    hashKeysX4(p, out);
    p += KEYS_PER_PASS * KEY_BYTES;
    out += KEYS_PER_PASS * DIGEST_BYTES;
  }
  hashKeysOneByOne(p, KEY_BYTES, out, DIGEST_BYTES, n - q);
  memory.fill(inputPtr(), 0, <usize>n * KEY_BYTES);
}

/**
 * Hashes in place `n` (at most RECORDS_PER_CALL) key records, back to back at INPUT: record k is
 * RECORD_BYTES at INPUT + k * RECORD_BYTES, its key first, and its digest is written over the 20
 * bytes after the key. The keys stay in INPUT for the caller to copy out; wipe(n * RECORD_BYTES)
 * clears them.
 */
export function sha1KeyRecords(n: i32): void {
  // Records [0, q) go KEYS_PER_PASS at a time; q <= n <= RECORDS_PER_CALL keeps every access
  // inside INPUT.
  const q = n - n % KEYS_PER_PASS;
  let p = inputPtr();
  for (let k = 0; k < q; k += KEYS_PER_PASS) {
    hashRecordsX4(p, p + KEY_BYTES);
    p += KEYS_PER_PASS * RECORD_BYTES;
  }
  hashKeysOneByOne(p, RECORD_BYTES, p + KEY_BYTES, RECORD_BYTES, n - q);
}

/** Whether this build hashes four keys at once. */
export const SIMD: bool = true;
