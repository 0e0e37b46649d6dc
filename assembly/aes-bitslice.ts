// Constant-time AES-256 block cipher without SIMD (the scalar core): bitsliced. One 16-byte
// block is held as eight 16-bit planes: plane m has bit m of every byte, at bit position
// j = 4 * column + row (the byte's index in FIPS-197's input order, §3.4). Every step is a fixed
// sequence of AND, XOR, OR, NOT and shifts by constants over those planes, so no memory address
// and no branch depends on the key or the data. The S-box is the 113-gate circuit of J. Boyar
// and R. Peralta, "A depth-16 circuit for the AES S-box" (2011, eprint 2011/332); the inverse
// S-box is that circuit between two copies of the linear inverse affine map (FIPS-197 §5.3.2),
// since inv(z) = A^-1(S(z) ^ 0x63).

// The state's planes (bit m of each byte in s<m>). Module globals, cleared by bsWipe.
let s0: u32 = 0;
let s1: u32 = 0;
let s2: u32 = 0;
let s3: u32 = 0;
let s4: u32 = 0;
let s5: u32 = 0;
let s6: u32 = 0;
let s7: u32 = 0;

/** Bytes of the bitsliced round keys: 15 round keys of eight 4-byte planes. */
export const BS_KEY_BYTES: i32 = 15 * 32;

/** Transposes the 8x8 bit matrix in `x` (byte k, bit m) <-> (byte m, bit k) (three delta swaps). */
// @ts-ignore: decorator
@inline function transpose8(x: u64): u64 {
  let t = (x ^ (x >> 7)) & 0x00aa00aa00aa00aa;
  x = x ^ t ^ (t << 7);
  t = (x ^ (x >> 14)) & 0x0000cccc0000cccc;
  x = x ^ t ^ (t << 14);
  t = (x ^ (x >> 28)) & 0x00000000f0f0f0f0;
  return x ^ t ^ (t << 28);
}

/** Loads the 16 bytes `lo` (bytes 0..7) and `hi` (8..15) into the planes. */
// @ts-ignore: decorator
@inline function toPlanes(lo: u64, hi: u64): void {
  const a = transpose8(lo);
  const b = transpose8(hi);
  // Byte m of a has bit m of bytes 0..7; of b, of bytes 8..15.
  s0 = <u32>(a & 0xff) | (<u32>(b & 0xff) << 8);
  s1 = <u32>((a >> 8) & 0xff) | (<u32>((b >> 8) & 0xff) << 8);
  s2 = <u32>((a >> 16) & 0xff) | (<u32>((b >> 16) & 0xff) << 8);
  s3 = <u32>((a >> 24) & 0xff) | (<u32>((b >> 24) & 0xff) << 8);
  s4 = <u32>((a >> 32) & 0xff) | (<u32>((b >> 32) & 0xff) << 8);
  s5 = <u32>((a >> 40) & 0xff) | (<u32>((b >> 40) & 0xff) << 8);
  s6 = <u32>((a >> 48) & 0xff) | (<u32>((b >> 48) & 0xff) << 8);
  s7 = <u32>((a >> 56) & 0xff) | (<u32>((b >> 56) & 0xff) << 8);
}

/** Bytes 0..7 of the state, from the planes. */
// @ts-ignore: decorator
@inline function lowBytes(): u64 {
  return transpose8(
    <u64>(s0 & 0xff) | (<u64>(s1 & 0xff) << 8) | (<u64>(s2 & 0xff) << 16) | (<u64>(s3 & 0xff) << 24) |
    (<u64>(s4 & 0xff) << 32) | (<u64>(s5 & 0xff) << 40) | (<u64>(s6 & 0xff) << 48) | (<u64>(s7 & 0xff) << 56),
  );
}

/** Bytes 8..15 of the state, from the planes. */
// @ts-ignore: decorator
@inline function highBytes(): u64 {
  return transpose8(
    <u64>(s0 >> 8) | (<u64>(s1 >> 8) << 8) | (<u64>(s2 >> 8) << 16) | (<u64>(s3 >> 8) << 24) |
    (<u64>(s4 >> 8) << 32) | (<u64>(s5 >> 8) << 40) | (<u64>(s6 >> 8) << 48) | (<u64>(s7 >> 8) << 56),
  );
}

/** SubBytes on all 16 bytes: the Boyar-Peralta circuit, U0 the most significant bit. */
function subBytes(): void {
  const U0 = s7, U1 = s6, U2 = s5, U3 = s4, U4 = s3, U5 = s2, U6 = s1, U7 = s0;
  // Top linear layer.
  const T1 = U0 ^ U3, T2 = U0 ^ U5, T3 = U0 ^ U6, T4 = U3 ^ U5, T5 = U4 ^ U6;
  const T6 = T1 ^ T5, T7 = U1 ^ U2, T8 = U7 ^ T6, T9 = U7 ^ T7, T10 = T6 ^ T7;
  const T11 = U1 ^ U5, T12 = U2 ^ U5, T13 = T3 ^ T4, T14 = T6 ^ T11, T15 = T5 ^ T11;
  const T16 = T5 ^ T12, T17 = T9 ^ T16, T18 = U3 ^ U7, T19 = T7 ^ T18, T20 = T1 ^ T19;
  const T21 = U6 ^ U7, T22 = T7 ^ T21, T23 = T2 ^ T22, T24 = T2 ^ T10, T25 = T20 ^ T17;
  const T26 = T3 ^ T16, T27 = T1 ^ T12;
  // Middle non-linear layer: inversion in GF(2^8) through GF(2^4).
  const M1 = T13 & T6, M2 = T23 & T8, M3 = T14 ^ M1, M4 = T19 & U7, M5 = M4 ^ M1;
  const M6 = T3 & T16, M7 = T22 & T9, M8 = T26 ^ M6, M9 = T20 & T17, M10 = M9 ^ M6;
  const M11 = T1 & T15, M12 = T4 & T27, M13 = M12 ^ M11, M14 = T2 & T10, M15 = M14 ^ M11;
  const M16 = M3 ^ M2, M17 = M5 ^ T24, M18 = M8 ^ M7, M19 = M10 ^ M15, M20 = M16 ^ M13;
  const M21 = M17 ^ M15, M22 = M18 ^ M13, M23 = M19 ^ T25, M24 = M22 ^ M23, M25 = M22 & M20;
  const M26 = M21 ^ M25, M27 = M20 ^ M21, M28 = M23 ^ M25, M29 = M28 & M27, M30 = M26 & M24;
  const M31 = M20 & M23, M32 = M27 & M31, M33 = M27 ^ M25, M34 = M21 & M22, M35 = M24 & M34;
  const M36 = M24 ^ M25, M37 = M21 ^ M29, M38 = M32 ^ M33, M39 = M23 ^ M30, M40 = M35 ^ M36;
  const M41 = M38 ^ M40, M42 = M37 ^ M39, M43 = M37 ^ M38, M44 = M39 ^ M40, M45 = M42 ^ M41;
  const M46 = M44 & T6, M47 = M40 & T8, M48 = M39 & U7, M49 = M43 & T16, M50 = M38 & T9;
  const M51 = M37 & T17, M52 = M42 & T15, M53 = M45 & T27, M54 = M41 & T10, M55 = M44 & T13;
  const M56 = M40 & T23, M57 = M39 & T19, M58 = M43 & T3, M59 = M38 & T22, M60 = M37 & T20;
  const M61 = M42 & T1, M62 = M45 & T4, M63 = M41 & T2;
  // Bottom linear layer (the affine map; the XNORs add 0x63).
  const L0 = M61 ^ M62, L1 = M50 ^ M56, L2 = M46 ^ M48, L3 = M47 ^ M55, L4 = M54 ^ M58;
  const L5 = M49 ^ M61, L6 = M62 ^ L5, L7 = M46 ^ L3, L8 = M51 ^ M59, L9 = M52 ^ M53;
  const L10 = M53 ^ L4, L11 = M60 ^ L2, L12 = M48 ^ M51, L13 = M50 ^ L0, L14 = M52 ^ M61;
  const L15 = M55 ^ L1, L16 = M56 ^ L0, L17 = M57 ^ L1, L18 = M58 ^ L8, L19 = M63 ^ L4;
  const L20 = L0 ^ L1, L21 = L1 ^ L7, L22 = L3 ^ L12, L23 = L18 ^ L2, L24 = L15 ^ L9;
  const L25 = L6 ^ L10, L26 = L7 ^ L9, L27 = L8 ^ L10, L28 = L11 ^ L14, L29 = L11 ^ L17;
  s7 = L6 ^ L24;
  s6 = L16 ^ L26 ^ 0xffff;
  s5 = L19 ^ L28 ^ 0xffff;
  s4 = L6 ^ L21;
  s3 = L20 ^ L22;
  s2 = L25 ^ L29;
  s1 = L13 ^ L27 ^ 0xffff;
  s0 = L6 ^ L23 ^ 0xffff;
}

/** The inverse affine map of FIPS-197 §5.3.2: bit m = b(m-1) ^ b(m-3) ^ b(m-6) ^ bit m of 0x05. */
// @ts-ignore: decorator
@inline function invAffine(): void {
  const b0 = s0, b1 = s1, b2 = s2, b3 = s3, b4 = s4, b5 = s5, b6 = s6, b7 = s7;
  s0 = b7 ^ b5 ^ b2 ^ 0xffff;
  s1 = b0 ^ b6 ^ b3;
  s2 = b1 ^ b7 ^ b4 ^ 0xffff;
  s3 = b2 ^ b0 ^ b5;
  s4 = b3 ^ b1 ^ b6;
  s5 = b4 ^ b2 ^ b7;
  s6 = b5 ^ b3 ^ b0;
  s7 = b6 ^ b4 ^ b1;
}

/** InvSubBytes on all 16 bytes: InvSubBytes(y) = invAffine(S(invAffine(y))). */
function invSubBytes(): void {
  invAffine();
  subBytes();
  invAffine();
}

// Row r of the state is bits r, r + 4, r + 8, r + 12 of a plane. Rotating a row by whole
// columns is rotating the 16-bit plane by multiples of 4 restricted to that row; with the plane
// doubled into 32 bits (d), a right rotation by n is a right shift by n.

/** ShiftRows (FIPS-197 §5.1.2) on one plane: row r moves left by r columns. */
// @ts-ignore: decorator
@inline function shiftRows1(x: u32): u32 {
  const d = x | (x << 16);
  return (x & 0x1111) | ((d >> 4) & 0x2222) | ((d >> 8) & 0x4444) | ((d >> 12) & 0x8888);
}

/** InvShiftRows (FIPS-197 §5.3.1) on one plane: row r moves right by r columns. */
// @ts-ignore: decorator
@inline function invShiftRows1(x: u32): u32 {
  const d = x | (x << 16);
  return (x & 0x1111) | ((d >> 12) & 0x2222) | ((d >> 8) & 0x4444) | ((d >> 4) & 0x8888);
}

function shiftRows(): void {
  s0 = shiftRows1(s0); s1 = shiftRows1(s1); s2 = shiftRows1(s2); s3 = shiftRows1(s3);
  s4 = shiftRows1(s4); s5 = shiftRows1(s5); s6 = shiftRows1(s6); s7 = shiftRows1(s7);
}

function invShiftRows(): void {
  s0 = invShiftRows1(s0); s1 = invShiftRows1(s1); s2 = invShiftRows1(s2); s3 = invShiftRows1(s3);
  s4 = invShiftRows1(s4); s5 = invShiftRows1(s5); s6 = invShiftRows1(s6); s7 = invShiftRows1(s7);
}

/** Each byte replaced by the byte one row down in its column (row 3 takes row 0). */
// @ts-ignore: decorator
@inline function rot1(x: u32): u32 {
  return ((x >> 1) & 0x7777) | ((x << 3) & 0x8888);
}

/** Each byte replaced by the byte two rows down in its column. */
// @ts-ignore: decorator
@inline function rot2(x: u32): u32 {
  return ((x >> 2) & 0x3333) | ((x << 2) & 0xcccc);
}

/**
 * MixColumns (FIPS-197 §5.1.3): out = 2X + 3R(X) + R^2(X) + R^3(X) with R rot1, written as
 * 2Y + R(X) + R^2(Y) with Y = X + R(X). Multiplying the planes by 2 (xtime) moves plane m to
 * m + 1 and adds plane 7 to planes 0, 1, 3, 4 (x^8 = x^4 + x^3 + x + 1).
 */
function mixColumns(): void {
  const y0 = s0 ^ rot1(s0), y1 = s1 ^ rot1(s1), y2 = s2 ^ rot1(s2), y3 = s3 ^ rot1(s3);
  const y4 = s4 ^ rot1(s4), y5 = s5 ^ rot1(s5), y6 = s6 ^ rot1(s6), y7 = s7 ^ rot1(s7);
  s0 = y7 ^ rot1(s0) ^ rot2(y0);
  s1 = y0 ^ y7 ^ rot1(s1) ^ rot2(y1);
  s2 = y1 ^ rot1(s2) ^ rot2(y2);
  s3 = y2 ^ y7 ^ rot1(s3) ^ rot2(y3);
  s4 = y3 ^ y7 ^ rot1(s4) ^ rot2(y4);
  s5 = y4 ^ rot1(s5) ^ rot2(y5);
  s6 = y5 ^ rot1(s6) ^ rot2(y6);
  s7 = y6 ^ rot1(s7) ^ rot2(y7);
}

/**
 * InvMixColumns (FIPS-197 §5.3.3): the matrix (14, 11, 13, 9) is (2, 3, 1, 1) times (5, 0, 4, 0),
 * so out = MixColumns(X + 4(X + R^2(X))).
 */
function invMixColumns(): void {
  const z0 = s0 ^ rot2(s0), z1 = s1 ^ rot2(s1), z2 = s2 ^ rot2(s2), z3 = s3 ^ rot2(s3);
  const z4 = s4 ^ rot2(s4), z5 = s5 ^ rot2(s5), z6 = s6 ^ rot2(s6), z7 = s7 ^ rot2(s7);
  // 4Z: plane m of the result is plane m - 2 of Z, with planes 6 and 7 reduced in.
  s0 ^= z6;
  s1 ^= z7 ^ z6;
  s2 ^= z0 ^ z7;
  s3 ^= z1 ^ z6;
  s4 ^= z2 ^ z7 ^ z6;
  s5 ^= z3 ^ z7;
  s6 ^= z4;
  s7 ^= z5;
  mixColumns();
}

/** AddRoundKey with the planes of round key `r` at `keys`. */
// @ts-ignore: decorator
@inline function addRoundKey(keys: usize, r: i32): void {
  const k = keys + (<usize>r << 5);
  s0 ^= load<u32>(k, 0); s1 ^= load<u32>(k, 4); s2 ^= load<u32>(k, 8); s3 ^= load<u32>(k, 12);
  s4 ^= load<u32>(k, 16); s5 ^= load<u32>(k, 20); s6 ^= load<u32>(k, 24); s7 ^= load<u32>(k, 28);
}

/**
 * Writes the planes of the 15 round keys (FIPS-197 §5.2, 240 bytes at `expanded`) to `keys`
 * (BS_KEY_BYTES). The state planes are used as scratch and cleared.
 */
export function bsSetKeys(expanded: usize, keys: usize): void {
  for (let r = 0; r < 15; r++) {
    toPlanes(load<u64>(expanded + (<usize>r << 4)), load<u64>(expanded + (<usize>r << 4), 8));
    const k = keys + (<usize>r << 5);
    store<u32>(k, s0, 0); store<u32>(k, s1, 4); store<u32>(k, s2, 8); store<u32>(k, s3, 12);
    store<u32>(k, s4, 16); store<u32>(k, s5, 20); store<u32>(k, s6, 24); store<u32>(k, s7, 28);
  }
  bsWipe();
}

/** SubWord of the key schedule (FIPS-197 §5.2): the S-box on each byte of `w`, constant time. */
export function bsSubWord(w: u32): u32 {
  toPlanes(<u64>w, 0);
  subBytes();
  const out = <u32>lowBytes();
  bsWipe();
  return out;
}

/** The result of bsEncrypt / bsDecrypt: bytes 0..7 and 8..15. */
export let bsOutLo: u64 = 0;
export let bsOutHi: u64 = 0;

/** Encrypts the block `lo`, `hi` (bytes 0..7, 8..15) with the round keys at `keys`; result in bsOut. */
export function bsEncrypt(keys: usize, lo: u64, hi: u64): void {
  toPlanes(lo, hi);
  addRoundKey(keys, 0);
  for (let r = 1; r < 14; r++) {
    subBytes();
    shiftRows();
    mixColumns();
    addRoundKey(keys, r);
  }
  subBytes();
  shiftRows();
  addRoundKey(keys, 14);
  bsOutLo = lowBytes();
  bsOutHi = highBytes();
}

/** Decrypts the block `lo`, `hi` with the round keys at `keys` (FIPS-197 §5.3); result in bsOut. */
export function bsDecrypt(keys: usize, lo: u64, hi: u64): void {
  toPlanes(lo, hi);
  addRoundKey(keys, 14);
  for (let r = 13; r > 0; r--) {
    invShiftRows();
    invSubBytes();
    addRoundKey(keys, r);
    invMixColumns();
  }
  invShiftRows();
  invSubBytes();
  addRoundKey(keys, 0);
  bsOutLo = lowBytes();
  bsOutHi = highBytes();
}

/** Clears the state planes and the last result. */
export function bsWipe(): void {
  s0 = 0; s1 = 0; s2 = 0; s3 = 0; s4 = 0; s5 = 0; s6 = 0; s7 = 0;
  bsOutLo = 0;
  bsOutHi = 0;
}
