// SHA-1 pieces shared by the entry points of core.ts, kept out of the module's exports:
// the block compression each build uses, the initial value, the digest writer, and the
// one-key-at-a-time loop that hashes auth keys (the whole job in the scalar build, the
// remainder of fewer than four keys in the SIMD build).
import { compressBlock as compressBlockScalar, compressKeyPadding } from './generated/rounds';
import { clearSchedule as clearScheduleVs, compressBlockVs } from './generated/rounds-vs';

/** Bytes of an auth key: 2048 bits, big-endian. */
export const KEY_BYTES: i32 = 256;
/** Bytes of a SHA-1 digest. */
export const DIGEST_BYTES: i32 = 20;

/**
 * Compresses the 64-byte block at `p` into the state at `st`. The SIMD build computes the message
 * schedule four words at a time (rounds-vs); the condition is a compile-time constant, so each
 * build contains only one of the two.
 */
@inline export function compressBlock(st: usize, p: usize): void {
  if (ASC_FEATURE_SIMD) compressBlockVs(st, p);
  else compressBlockScalar(st, p);
}

/** Zeroes what compressBlock leaves behind outside the state: the SIMD build's W + K buffer. */
@inline export function clearSchedule(): void {
  if (ASC_FEATURE_SIMD) clearScheduleVs();
}

// FIPS 180-4 §5.3.1 initial hash value.
@inline export function setInitial(st: usize): void {
  store<u32>(st, 0x67452301, 0);
  store<u32>(st, 0xefcdab89, 4);
  store<u32>(st, 0x98badcfe, 8);
  store<u32>(st, 0x10325476, 12);
  store<u32>(st, 0xc3d2e1f0, 16);
}

/** Writes the five state words at `st` as the 20-byte big-endian digest at `out`. */
@inline export function writeDigest(st: usize, out: usize): void {
  store<u32>(out, bswap<u32>(load<u32>(st, 0)), 0);
  store<u32>(out, bswap<u32>(load<u32>(st, 4)), 4);
  store<u32>(out, bswap<u32>(load<u32>(st, 8)), 8);
  store<u32>(out, bswap<u32>(load<u32>(st, 12)), 12);
  store<u32>(out, bswap<u32>(load<u32>(st, 16)), 16);
}

// Scratch state for auth keys, so hashing a key never disturbs a streamed message. It ends
// holding the last key's digest words, nothing more secret than the digest itself.
const keyState: usize = memory.data(32, 16);

/**
 * Hashes `n` 256-byte auth keys one at a time: key k at `p` + k * `stride`, its 20-byte digest
 * to `out` + k * `outStride`.
 */
export function hashKeysOneByOne(p: usize, stride: usize, out: usize, outStride: usize, n: i32): void {
  for (let k = 0; k < n; k++) {
    setInitial(keyState);
    compressBlock(keyState, p);
    compressBlock(keyState, p + 64);
    compressBlock(keyState, p + 128);
    compressBlock(keyState, p + 192);
    compressKeyPadding(keyState);
    writeDigest(keyState, out);
    p += stride;
    out += outStride;
  }
  clearSchedule();
}

