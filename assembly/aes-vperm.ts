// Constant-time AES-256 with WebAssembly SIMD (the SIMD core): the vector-permute technique of
// M. Hamburg, "Accelerating AES with Vector Permute Instructions" (CHES 2009). SubBytes is an
// inversion in GF(2^8) computed in a tower basis over GF(16), where every step is a lookup of
// one nibble in a sixteen-entry table held in a register: `i8x16.swizzle`, which reads the table
// at all sixteen indices at once, so which entry is read never reaches a memory address or a
// branch. The tables and their derivation are in scripts/gen-aes-tables.mjs.
//
// pshufb returns 0 for an index with its top bit set and otherwise uses the low four bits;
// `i8x16.swizzle` returns 0 for any index >= 16. The two agree here because every index this
// code passes is either a nibble (0..15) or 0x80..0x8f (the tables' "infinity", 0x80, XORed with
// a nibble): never 16..127. The generator checks that for every byte.
//
// The state between rounds is in the "working basis" of the tables (the input of the inversion),
// with the S-box and MixColumns constants folded into the round keys:
//   encryption: z = T(p ^ k0); each round z = MixColumns(ShiftRows(S(z))) in the working basis,
//   + T(k_r ^ 0x63..) (the tables give the S-box's linear part; 0x63 is carried by the key);
//   the last round gives ShiftRows(S(z)) in the standard basis + (k14 ^ 0x63..).
//   decryption (FIPS-197 §5.3.5, the equivalent inverse cipher): z = Td(c ^ k14) + T(0x05);
//   each round z = InvMixColumns(InvShiftRows(InvS(z))) in the decryption basis
//   + Td(InvMixColumns(k_r)) + T(0x05); the last round gives InvShiftRows(InvS(z)) + k0.
import {
  AES_TABLES, D05, DIPT_HI, DIPT_LO, DSB9T, DSB9U, DSBBT, DSBBU, DSBDT, DSBDU, DSBET, DSBEU, DSBOT, DSBOU,
  INV, INVA, IPT_HI, IPT_LO, S63, SB1T, SB1U, SB2T, SB2U, SBOT, SBOU,
} from './aes-tables';

/** Bytes of the vector round keys of one direction: 15 keys of 16 bytes. */
export const VP_KEY_BYTES: i32 = 15 * 16;

// @ts-ignore: decorator
@inline function tab(offset: usize): v128 {
  return v128.load(AES_TABLES + offset);
}

// Constants are loaded from memory, never written as v128 literals: Binaryen folds a hoisted
// literal back into each use, and V8 then rebuilds it from general registers every time. The
// byte permutations are swizzles by masks loaded once per call for the same reason (all lanes
// are 0..15, where swizzle and pshufb agree).
//   MASK_0F: 0x0f in every byte.
//   SR:  ShiftRows, byte (row r, column c) = index 4c + r takes the byte at 4((c + r) % 4) + r.
//   ISR: InvShiftRows, index 4c + r takes the byte at 4((c - r) % 4) + r.
//   ROT1: each byte takes the byte one row down in its column (row 3 takes row 0).
//   ROT2, ROT3: two and three rows down.
const MASKS: usize = memory.data<u8>([
  15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
  0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11,
  0, 13, 10, 7, 4, 1, 14, 11, 8, 5, 2, 15, 12, 9, 6, 3,
  1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12,
  2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
  3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14,
], 16);
const MASK_0F: usize = 0;
const SR: usize = 16;
const ISR: usize = 32;
const ROT1: usize = 48;
const ROT2: usize = 64;
const ROT3: usize = 80;

// @ts-ignore: decorator
@inline function mask(offset: usize): v128 {
  return v128.load(MASKS + offset);
}

/** Each byte of `x` through the linear map given by its low-nibble and high-nibble tables. */
// @ts-ignore: decorator
@inline function transform(x: v128, lo: v128, hi: v128, m0f: v128): v128 {
  return v128.xor(i8x16.swizzle(lo, v128.and(x, m0f)), i8x16.swizzle(hi, i8x16.shr_u(x, 4)));
}

// The inversion of the working-basis bytes z: io and jo of the generator's comment, each
// computed by its own inlined function (the shared steps are the same pure SIMD values).
// @ts-ignore: decorator
@inline function invertIo(z: v128, inv: v128, inva: v128, m0f: v128): v128 {
  const i = i8x16.shr_u(z, 4);
  const k = v128.and(z, m0f);
  const j = v128.xor(i, k);
  const ak = i8x16.swizzle(inva, k);
  const iak = v128.xor(i8x16.swizzle(inv, i), ak);
  return v128.xor(i8x16.swizzle(inv, iak), j);
}
// @ts-ignore: decorator
@inline function invertJo(z: v128, inv: v128, inva: v128, m0f: v128): v128 {
  const i = i8x16.shr_u(z, 4);
  const k = v128.and(z, m0f);
  const j = v128.xor(i, k);
  const ak = i8x16.swizzle(inva, k);
  const jak = v128.xor(i8x16.swizzle(inv, j), ak);
  return v128.xor(i8x16.swizzle(inv, jak), i);
}

/** Multiplies each byte by 2 in GF(2^8) (FIPS-197 §4.2.1 xtime), without tables or branches. */
// @ts-ignore: decorator
@inline function xtime(x: v128): v128 {
  return v128.xor(i8x16.add(x, x), v128.and(i8x16.shr_s(x, 7), i8x16.splat(0x1b)));
}

/** InvMixColumns (FIPS-197 §5.3.3) in the standard basis: MixColumns(X + 4(X + R^2 X)). */
function invMixColumnsStd(x: v128): v128 {
  const y = v128.xor(x, xtime(xtime(v128.xor(x, i8x16.swizzle(x, mask(ROT2))))));
  const t = v128.xor(xtime(y), i8x16.swizzle(y, mask(ROT1))); // 2Y + R(Y)
  return v128.xor(v128.xor(t, i8x16.swizzle(t, mask(ROT1))), i8x16.swizzle(y, mask(ROT3))); // 2Y + 3R(Y) + R^2(Y) + R^3(Y)
}

/**
 * Writes the encryption round keys (VP_KEY_BYTES) for the schedule at `expanded` (240 bytes,
 * FIPS-197 §5.2) to `keys`: round 0 in the working basis, 1..13 in the working basis with 0x63,
 * 14 in the standard basis with 0x63.
 */
export function vpSetEncryptKeys(expanded: usize, keys: usize): void {
  const m0f = mask(MASK_0F);
  const lo = tab(IPT_LO);
  const hi = tab(IPT_HI);
  const s63 = i8x16.splat(<i8>S63);
  v128.store(keys, transform(v128.load(expanded), lo, hi, m0f));
  for (let r: usize = 1; r < 14; r++) {
    v128.store(keys + (r << 4), v128.xor(transform(v128.load(expanded + (r << 4)), lo, hi, m0f), s63));
  }
  v128.store(keys + 14 * 16, v128.xor(v128.load(expanded + 14 * 16), i8x16.splat(0x63)));
}

/**
 * Writes the decryption round keys (VP_KEY_BYTES) for the schedule at `expanded` to `keys`:
 * round 14 and (InvMixColumns of) 13..1 in the decryption basis with 0x05, round 0 as is.
 */
export function vpSetDecryptKeys(expanded: usize, keys: usize): void {
  const m0f = mask(MASK_0F);
  const lo = tab(DIPT_LO);
  const hi = tab(DIPT_HI);
  const d05 = i8x16.splat(<i8>D05);
  v128.store(keys + 14 * 16, v128.xor(transform(v128.load(expanded + 14 * 16), lo, hi, m0f), d05));
  for (let r: usize = 1; r < 14; r++) {
    const k = invMixColumnsStd(v128.load(expanded + (r << 4)));
    v128.store(keys + (r << 4), v128.xor(transform(k, lo, hi, m0f), d05));
  }
  v128.store(keys, v128.load(expanded));
}

/**
 * IGE encryption (y_i = E(x_i ^ y_(i-1)) ^ x_(i-1)) of the `len` bytes (a multiple of 16) at
 * `data`, in place, with the round keys at `keys` and the chaining blocks y, x at `chain`
 * (updated, so the next call continues the message).
 */
export function vpIgeEncrypt(keys: usize, chain: usize, data: usize, len: usize): void {
  const m0f = mask(MASK_0F);
  const iptLo = tab(IPT_LO), iptHi = tab(IPT_HI), inv = tab(INV), inva = tab(INVA);
  const sb1u = tab(SB1U), sb1t = tab(SB1T), sb2u = tab(SB2U), sb2t = tab(SB2T);
  const sbou = tab(SBOU), sbot = tab(SBOT);
  const sr = mask(SR), rot1 = mask(ROT1), rot3 = mask(ROT3);
  let y = v128.load(chain);
  let xPrev = v128.load(chain, 16);
  const end = data + len;
  for (let p = data; p < end; p += 16) {
    const x = v128.load(p);
    let z = v128.xor(transform(v128.xor(x, y), iptLo, iptHi, m0f), v128.load(keys));
    for (let r: usize = 16; r < 14 * 16; r += 16) {
      z = i8x16.swizzle(z, sr);
      const io = invertIo(z, inv, inva, m0f);
      const jo = invertJo(z, inv, inva, m0f);
      const a = v128.xor(i8x16.swizzle(sb1u, io), i8x16.swizzle(sb1t, jo));
      const a2 = v128.xor(i8x16.swizzle(sb2u, io), i8x16.swizzle(sb2t, jo));
      // MixColumns: t = 2A + R(A); out = t + R(t) + R^3(A) = 2A + 3R(A) + R^2(A) + R^3(A).
      const t = v128.xor(a2, i8x16.swizzle(a, rot1));
      z = v128.xor(v128.xor(t, i8x16.swizzle(t, rot1)), v128.xor(i8x16.swizzle(a, rot3), v128.load(keys + r)));
    }
    z = i8x16.swizzle(z, sr);
    const io = invertIo(z, inv, inva, m0f);
    const jo = invertJo(z, inv, inva, m0f);
    const c = v128.xor(v128.xor(i8x16.swizzle(sbou, io), i8x16.swizzle(sbot, jo)), v128.load(keys, 14 * 16));
    y = v128.xor(c, xPrev);
    v128.store(p, y);
    xPrev = x;
  }
  v128.store(chain, y);
  v128.store(chain, xPrev, 16);
}

/**
 * IGE decryption (x_i = D(y_i ^ x_(i-1)) ^ y_(i-1)) of the `len` bytes at `data`, in place, with
 * the decryption round keys at `keys` and the chaining blocks y, x at `chain` (updated).
 */
export function vpIgeDecrypt(keys: usize, chain: usize, data: usize, len: usize): void {
  const m0f = mask(MASK_0F);
  const diptLo = tab(DIPT_LO), diptHi = tab(DIPT_HI), inv = tab(INV), inva = tab(INVA);
  const dsbou = tab(DSBOU), dsbot = tab(DSBOT);
  const isr = mask(ISR), rot1 = mask(ROT1);
  const dsb9u = tab(DSB9U), dsb9t = tab(DSB9T), dsbdu = tab(DSBDU), dsbdt = tab(DSBDT);
  const dsbbu = tab(DSBBU), dsbbt = tab(DSBBT), dsbeu = tab(DSBEU), dsbet = tab(DSBET);
  let yPrev = v128.load(chain);
  let x = v128.load(chain, 16);
  const end = data + len;
  for (let p = data; p < end; p += 16) {
    const y = v128.load(p);
    let z = v128.xor(transform(v128.xor(y, x), diptLo, diptHi, m0f), v128.load(keys, 14 * 16));
    for (let r: usize = 13 * 16; r > 0; r -= 16) {
      z = i8x16.swizzle(z, isr);
      const io = invertIo(z, inv, inva, m0f);
      const jo = invertJo(z, inv, inva, m0f);
      // InvMixColumns by Horner: R(R(R(9W) + 13W) + 11W) + 14W, W the inverse S-box output.
      let m = v128.xor(i8x16.swizzle(dsb9u, io), i8x16.swizzle(dsb9t, jo));
      m = v128.xor(i8x16.swizzle(m, rot1), v128.xor(i8x16.swizzle(dsbdu, io), i8x16.swizzle(dsbdt, jo)));
      m = v128.xor(i8x16.swizzle(m, rot1), v128.xor(i8x16.swizzle(dsbbu, io), i8x16.swizzle(dsbbt, jo)));
      m = v128.xor(i8x16.swizzle(m, rot1), v128.xor(i8x16.swizzle(dsbeu, io), i8x16.swizzle(dsbet, jo)));
      z = v128.xor(m, v128.load(keys + r));
    }
    z = i8x16.swizzle(z, isr);
    const io = invertIo(z, inv, inva, m0f);
    const jo = invertJo(z, inv, inva, m0f);
    x = v128.xor(v128.xor(v128.xor(i8x16.swizzle(dsbou, io), i8x16.swizzle(dsbot, jo)), v128.load(keys)), yPrev);
    v128.store(p, x);
    yPrev = y;
  }
  v128.store(chain, yPrev);
  v128.store(chain, x, 16);
}
