// The WebAssembly side of mtproto-authkey: SHA-1 (FIPS 180-4) over static buffers and the
// byte work around 2048-bit auth keys. No allocator is used: the TypeScript side writes input
// into INPUT, calls one export, and copies the result out of OUTPUT. Lengths and types are
// checked in src/ before a byte arrives here; this module trusts its arguments.
import { DIGEST_BYTES, KEY_BYTES, clearSchedule, compressBlock, setInitial, writeDigest } from './sha1';

export { DIGEST_BYTES, KEY_BYTES };
/** Auth keys hashed per call of sha1AuthKeys: INPUT holds this many, back to back. */
export const KEYS_PER_CALL: i32 = 256;
/** Most bytes one sha1Update or sha1Digest call takes from INPUT: a streamed message's chunk. */
export const INPUT_BYTES: i32 = KEYS_PER_CALL * KEY_BYTES;
/** Bytes of a key record: the 256-byte key, then room for its 20-byte digest. */
export const RECORD_BYTES: i32 = KEY_BYTES + DIGEST_BYTES;
/** Key records hashed in place per call of sha1KeyRecords: INPUT holds this many. */
export const RECORDS_PER_CALL: i32 = 256;
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

// INPUT: the larger of KEYS_PER_CALL keys (65,536 bytes) and RECORDS_PER_CALL records (70,656).
const input: usize = memory.data(RECORDS_PER_CALL * RECORD_BYTES, 16);
const output: usize = memory.data(OUTPUT_BYTES, 16);
const state: usize = memory.data(STATE_BYTES, 16);
// Hex digits of a key for the bigint route: HEX (at most 512 digits) is the second half of this
// area, and the first half is '0' digits, so that reading the 512 digits that end where a shorter
// number ends reads zeros for its leading digits; see hexToKey. Nothing ever writes the first half.
const hexArea: usize = memory.data(1024, 16);
const hex: usize = hexArea + 512;
memory.fill(hexArea, 0x30, 512);
// Masks for the SIMD hex loops, splatted from here: 0x0f, 0x40, 9, then the 16-bit 0x00f0.
const HEX_MASKS: usize = memory.data<u8>([0x0f, 0x40, 0x09, 0x00, 0xf0, 0x00]);
// The 16 lowercase hex digits, in order of value.
const HEX_DIGITS: usize = memory.data<u8>([
  0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
]);

export function inputPtr(): usize { return input; }
export function outputPtr(): usize { return output; }
export function statePtr(): usize { return state; }
export function hexPtr(): usize { return hex; }

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
  clearSchedule();
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
  clearSchedule();
}

/**
 * SHA-1 of the first `len` bytes of INPUT (at most INPUT_BYTES), digest to OUTPUT, in one call;
 * those `len` bytes of INPUT are zeroed before it returns.
 */
export function sha1Digest(len: i32): void {
  sha1Init();
  sha1Update(len);
  sha1Final();
  memory.fill(input, 0, <usize>len);
}

/**
 * Decodes `len` (1..512) lowercase hex digits at HEX (a bigint's `toString(16)`, no sign) into the
 * 256-byte big-endian key at INPUT, right-aligned, with leading zero bytes; then zeroes those
 * `len` digits at HEX.
 */
export function hexToKey(len: i32): void {
  // The 512 digits ending at the last one; those before HEX are the '0' run below it.
  const src = hex + <usize>len - 512;
  if (ASC_FEATURE_SIMD) {
    // 32 digits to 16 bytes per step; i < 256 keeps the stores inside the key. The constants are
    // splatted from memory in the loop: V8 builds a v128 constant from general registers at each
    // use, and that was most of this loop's time.
    for (let i: usize = 0; i < <usize>KEY_BYTES; i += 16) {
      let x = v128.load(src + (i << 1));
      let y = v128.load(src + (i << 1), 16);
      const low = v128.load8_splat(HEX_MASKS, 0);
      const letter = v128.load8_splat(HEX_MASKS, 1);
      const nine = v128.load8_splat(HEX_MASKS, 2);
      const high = v128.load16_splat(HEX_MASKS, 4);
      // '0'-'9' (0x30-0x39) have their value in the low nibble; 'a'-'f' (0x61-0x66) are above
      // 0x40 and have value - 9 there. Bytes are below 0x80, so the signed compare is enough.
      x = i8x16.add(v128.and(x, low), v128.and(i8x16.gt_s(x, letter), nine));
      y = i8x16.add(v128.and(y, low), v128.and(i8x16.gt_s(y, letter), nine));
      // A 16-bit lane holds the high digit in its low byte (little-endian) and the low digit
      // above it: the lane shifted left by 4, masked to 0x00f0, or the lane shifted right by 8
      // is the byte's value (<= 255), which the unsigned narrowing packs without saturating.
      x = v128.or(v128.and(i16x8.shl(x, 4), high), i16x8.shr_u(x, 8));
      y = v128.or(v128.and(i16x8.shl(y, 4), high), i16x8.shr_u(y, 8));
      v128.store(input + i, i8x16.narrow_i16x8_u(x, y));
    }
  } else {
    // The same on 64-bit words: 8 digits to 4 bytes per step; i < 256 keeps the stores inside.
    for (let i: usize = 0; i < <usize>KEY_BYTES; i += 4) {
      let x = load<u64>(src + (i << 1));
      x = (x & 0x0f0f0f0f0f0f0f0f) + ((x >> 6) & 0x0101010101010101) * 9;
      x = ((x << 4) | (x >> 8)) & 0x00ff00ff00ff00ff;
      x = (x | (x >> 8)) & 0x0000ffff0000ffff;
      store<u32>(input + i, <u32>(x | (x >> 16)));
    }
  }
  memory.fill(hex, 0, <usize>len);
}

/** Encodes the 256-byte key at INPUT as 512 lowercase hex digits at HEX; then zeroes that key. */
export function keyToHex(): void {
  if (ASC_FEATURE_SIMD) {
    // 16 bytes to 32 digits per step; i < 256 keeps the loads inside the key, stores inside HEX.
    for (let i: usize = 0; i < <usize>KEY_BYTES; i += 16) {
      const digits = v128.load(HEX_DIGITS);
      const low = v128.load8_splat(HEX_MASKS, 0);
      const b = v128.load(input + i);
      const hi = v128.and(i16x8.shr_u(b, 4), low);
      const lo = v128.and(b, low);
      // Each byte's high nibble then its low one, looked up in the digit table.
      const x = i8x16.shuffle(hi, lo, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      const y = i8x16.shuffle(hi, lo, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
      v128.store(hex + (i << 1), i8x16.swizzle(digits, x));
      v128.store(hex + (i << 1), i8x16.swizzle(digits, y), 16);
    }
  } else {
    // 4 bytes to 8 digits per step, on 64-bit words; i < 256 keeps loads and stores in range.
    for (let i: usize = 0; i < <usize>KEY_BYTES; i += 4) {
      let x = <u64>load<u32>(input + i);
      // Byte k of the key to 16-bit lane k ...
      x = (x | (x << 16)) & 0x0000ffff0000ffff;
      x = (x | (x << 8)) & 0x00ff00ff00ff00ff;
      // ... as its high nibble in the lane's low byte, its low nibble in the high byte ...
      x = ((x >> 4) & 0x000f000f000f000f) | ((x & 0x000f000f000f000f) << 8);
      // ... then each nibble n to '0' + n, plus 'a' - '0' - 10 = 0x27 when n >= 10 (n + 6 >= 16).
      const ten = ((x + 0x0606060606060606) >> 4) & 0x0101010101010101;
      store<u64>(hex + (i << 1), x + 0x3030303030303030 + ten * 0x27);
    }
  }
  memory.fill(input, 0, <usize>KEY_BYTES);
}

/** Zeroes the first `len` bytes of INPUT and the 512 bytes of HEX: staged key material. */
export function wipe(len: i32): void {
  memory.fill(input, 0, <usize>len);
  memory.fill(hex, 0, 512);
}
