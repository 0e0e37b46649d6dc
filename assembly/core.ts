// The WebAssembly side of mtproto-authkey: SHA-1 (FIPS 180-4) over static buffers and the
// byte work around 2048-bit auth keys. No allocator is used: the TypeScript side writes input
// into INPUT, calls one export, and copies the result out of OUTPUT. Lengths and types are
// checked in src/ before a byte arrives here; this module trusts its arguments.
import { compressBlock, compressKeyPadding } from './generated/rounds';

/** Bytes of an auth key: 2048 bits, big-endian. */
export const KEY_BYTES: i32 = 256;
/** Bytes of a SHA-1 digest. */
export const DIGEST_BYTES: i32 = 20;
/** Auth keys hashed per call of sha1AuthKeys: INPUT holds exactly this many. */
export const KEYS_PER_CALL: i32 = 256;
/** Size of the input buffer: one call's worth of keys, and one chunk of a streamed message. */
export const INPUT_BYTES: i32 = KEYS_PER_CALL * KEY_BYTES;
/** Size of the output buffer: one digest per key of a full INPUT. */
export const OUTPUT_BYTES: i32 = KEYS_PER_CALL * DIGEST_BYTES;

// Streaming state layout (STATE_BYTES bytes, saved and restored by the TypeScript Sha1 class):
//   [0, 20)   h0..h4, native byte order
//   [24, 32)  total message length in bytes, u64
//   [32, 36)  bytes pending in the block buffer, u32
//   [64, 128) block buffer
export const STATE_BYTES: i32 = 128;
const TOTAL: usize = 24;
const PENDING: usize = 32;
const BLOCK: usize = 64;

const input: usize = memory.data(INPUT_BYTES, 16);
const output: usize = memory.data(OUTPUT_BYTES, 16);
const state: usize = memory.data(STATE_BYTES, 16);
// Scratch state for auth keys, so hashing a key never disturbs a streamed message.
const keyState: usize = memory.data(32, 16);
// Hex digits of a key (at most 512) for the bigint route; see hexToKey.
const hex: usize = memory.data(512, 16);
// Value of each hex digit, indexed by its ASCII code minus '0' (0x30); toString(16) gives
// only '0'-'9' and 'a'-'f' (0x61-0x66, indexes 49-54), so no other entry is ever read.
const HEX_VALUE: usize = memory.data<u8>([
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 11, 12, 13, 14, 15,
]);
const HEX_DIGITS: usize = memory.data<u8>([
  0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
]);

export function inputPtr(): usize { return input; }
export function outputPtr(): usize { return output; }
export function statePtr(): usize { return state; }
export function hexPtr(): usize { return hex; }

// FIPS 180-4 §5.3.1 initial hash value.
@inline function setInitial(st: usize): void {
  store<u32>(st, 0x67452301, 0);
  store<u32>(st, 0xefcdab89, 4);
  store<u32>(st, 0x98badcfe, 8);
  store<u32>(st, 0x10325476, 12);
  store<u32>(st, 0xc3d2e1f0, 16);
}

/** Writes the five state words at `st` as the 20-byte big-endian digest at `out`. */
@inline function writeDigest(st: usize, out: usize): void {
  store<u32>(out, bswap<u32>(load<u32>(st, 0)), 0);
  store<u32>(out, bswap<u32>(load<u32>(st, 4)), 4);
  store<u32>(out, bswap<u32>(load<u32>(st, 8)), 8);
  store<u32>(out, bswap<u32>(load<u32>(st, 12)), 12);
  store<u32>(out, bswap<u32>(load<u32>(st, 16)), 16);
}

/** Starts a new message in the streaming state. */
export function sha1Init(): void {
  setInitial(state);
  store<u64>(state, 0, TOTAL);
  store<u32>(state, 0, PENDING);
}

/** Adds `len` bytes from INPUT (at most INPUT_BYTES) to the streamed message. */
export function sha1Update(len: i32): void {
  let p = input;
  let n = <usize>len;
  let pending = <usize>load<u32>(state, PENDING);
  store<u64>(state, load<u64>(state, TOTAL) + <u64>n, TOTAL);
  if (pending != 0) {
    const take = min<usize>(64 - pending, n);
    memory.copy(state + BLOCK + pending, p, take);
    pending += take;
    p += take;
    n -= take;
    if (pending < 64) {
      store<u32>(state, <u32>pending, PENDING);
      return;
    }
    compressBlock(state, state + BLOCK);
  }
  while (n >= 64) {
    compressBlock(state, p);
    p += 64;
    n -= 64;
  }
  memory.copy(state + BLOCK, p, n);
  store<u32>(state, <u32>n, PENDING);
}

/**
 * Pads the streamed message (FIPS 180-4 §5.1.1: 0x80, zeros, 64-bit big-endian bit length),
 * compresses the last block(s) and writes the digest to OUTPUT. The one place padding is written.
 */
export function sha1Final(): void {
  const block = state + BLOCK;
  const pending = <usize>load<u32>(state, PENDING);
  store<u8>(block + pending, 0x80);
  if (pending >= 56) {
    memory.fill(block + pending + 1, 0, 63 - pending);
    compressBlock(state, block);
    memory.fill(block, 0, 56);
  } else {
    memory.fill(block + pending + 1, 0, 55 - pending);
  }
  store<u64>(block, bswap<u64>(load<u64>(state, TOTAL) << 3), 56);
  compressBlock(state, block);
  writeDigest(state, output);
  // The block buffer may hold the tail of a secret message: clear it.
  memory.fill(block, 0, 64);
  store<u32>(state, 0, PENDING);
}

/** SHA-1 of the first `len` bytes of INPUT, digest to OUTPUT, in one call. */
export function sha1Digest(len: i32): void {
  sha1Init();
  sha1Update(len);
  sha1Final();
}

/**
 * Hashes `n` 256-byte auth keys starting at key index `from` of INPUT, one at a time,
 * writing each 20-byte digest at the same index of OUTPUT.
 */
export function hashKeysScalar(from: i32, n: i32): void {
  let p = input + <usize>from * KEY_BYTES;
  let out = output + <usize>from * DIGEST_BYTES;
  for (let k = 0; k < n; k++) {
    setInitial(keyState);
    compressBlock(keyState, p);
    compressBlock(keyState, p + 64);
    compressBlock(keyState, p + 128);
    compressBlock(keyState, p + 192);
    compressKeyPadding(keyState);
    writeDigest(keyState, out);
    p += KEY_BYTES;
    out += DIGEST_BYTES;
  }
}

/**
 * Decodes `len` lowercase hex digits at HEX (a bigint's `toString(16)`, at most 512 digits, no
 * sign) into the 256-byte big-endian key at INPUT, right-aligned, with leading zero bytes.
 */
export function hexToKey(len: i32): void {
  const bytes = (len + 1) >> 1;
  const lead = KEY_BYTES - bytes;
  memory.fill(input, 0, <usize>lead);
  let src = hex;
  let dst = input + <usize>lead;
  if (len & 1) {
    store<u8>(dst, load<u8>(HEX_VALUE + <usize>(load<u8>(src) - 0x30)));
    src++;
    dst++;
  }
  const end = input + KEY_BYTES;
  while (dst < end) {
    const hi = load<u8>(HEX_VALUE + <usize>(load<u8>(src) - 0x30));
    const lo = load<u8>(HEX_VALUE + <usize>(load<u8>(src, 1) - 0x30));
    store<u8>(dst, (hi << 4) | lo);
    src += 2;
    dst++;
  }
}

/** Encodes the 256-byte key at INPUT as 512 lowercase hex digits at HEX. */
export function keyToHex(): void {
  for (let i: usize = 0; i < <usize>KEY_BYTES; i++) {
    const b = load<u8>(input + i);
    store<u8>(hex + (i << 1), load<u8>(HEX_DIGITS + <usize>(b >> 4)));
    store<u8>(hex + (i << 1) + 1, load<u8>(HEX_DIGITS + <usize>(b & 15)));
  }
}

/** Zeroes the first `len` bytes of INPUT and the hex buffer: staged key material. */
export function wipe(len: i32): void {
  memory.fill(input, 0, <usize>len);
  memory.fill(hex, 0, 512);
  memory.fill(keyState, 0, 32);
}
