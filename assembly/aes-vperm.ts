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
//   SR_R1..SR_R3: ShiftRows after ROT1..ROT3 (lane i takes lane ROTk[SR[i]]), and ISR_R1..ISR_R3
//   the same with InvShiftRows: the rounds keep the state shifted (see vpIgeEncrypt), so each
//   MixColumns rotation and the next round's (Inv)ShiftRows are one swizzle, side by side.
const MASKS: usize = memory.data<u8>([
  15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
  0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11,
  0, 13, 10, 7, 4, 1, 14, 11, 8, 5, 2, 15, 12, 9, 6, 3,
  1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12,
  2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
  3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14,
  1, 6, 11, 12, 5, 10, 15, 0, 9, 14, 3, 4, 13, 2, 7, 8,
  2, 7, 8, 13, 6, 11, 12, 1, 10, 15, 0, 5, 14, 3, 4, 9,
  3, 4, 9, 14, 7, 8, 13, 2, 11, 12, 1, 6, 15, 0, 5, 10,
  1, 14, 11, 4, 5, 2, 15, 8, 9, 6, 3, 12, 13, 10, 7, 0,
  2, 15, 8, 5, 6, 3, 12, 9, 10, 7, 0, 13, 14, 11, 4, 1,
  3, 12, 9, 6, 7, 0, 13, 10, 11, 4, 1, 14, 15, 8, 5, 2,
], 16);
const MASK_0F: usize = 0;
const SR: usize = 16;
const ISR: usize = 32;
const ROT1: usize = 48;
const ROT2: usize = 64;
const ROT3: usize = 80;
const SR_R1: usize = 96;
const SR_R2: usize = 112;
const SR_R3: usize = 128;
const ISR_R1: usize = 144;
const ISR_R2: usize = 160;
const ISR_R3: usize = 176;

// @ts-ignore: decorator
@inline function mask(offset: usize): v128 {
  return v128.load(MASKS + offset);
}

/** Each byte of `x` through the linear map given by its low-nibble and high-nibble tables. */
// @ts-ignore: decorator
@inline function transform(x: v128, lo: v128, hi: v128, m0f: v128): v128 {
  return v128.xor(i8x16.swizzle(lo, v128.and(x, m0f)), i8x16.swizzle(hi, v128.and(i16x8.shr_u(x, 4), m0f)));
}

// The inversion of the working-basis bytes z: io and jo of the generator's comment, each
// computed by its own inlined function (the shared steps are the same pure SIMD values).
// @ts-ignore: decorator
@inline function invertIo(z: v128, inv: v128, inva: v128, m0f: v128): v128 {
  // High nibbles: a 16-bit shift then the mask already in a register (V8 lowers i8x16.shr_u
  // with a mask it rebuilds from a general register each time).
  const i = v128.and(i16x8.shr_u(z, 4), m0f);
  const k = v128.and(z, m0f);
  const j = v128.xor(i, k);
  const ak = i8x16.swizzle(inva, k);
  const iak = v128.xor(i8x16.swizzle(inv, i), ak);
  return v128.xor(i8x16.swizzle(inv, iak), j);
}
// @ts-ignore: decorator
@inline function invertJo(z: v128, inv: v128, inva: v128, m0f: v128): v128 {
  // High nibbles: a 16-bit shift then the mask already in a register (V8 lowers i8x16.shr_u
  // with a mask it rebuilds from a general register each time).
  const i = v128.and(i16x8.shr_u(z, 4), m0f);
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

// One middle round of each direction on the state w kept (Inv)ShiftRows'd, with round key k
// (not shifted). Inlined thirteen times by the callers: the rounds are unrolled, so V8 sees
// straight-line code with the key addresses constant and no loop check between rounds.
//   encryption: SR(MixColumns(A) + k) = SR(2A + k) + SR.R(2A + A) + SR.R^2(A) + SR.R^3(A);
//   decryption: ISR(InvMixColumns(W) + k) = ISR(14W + k) + ISR.R(11W) + ISR.R^2(13W) + ISR.R^3(9W).
// Each term is one swizzle, independent of the others (no chain of rotations then (Inv)ShiftRows),
// and the key joins the first term's table half read by io, which is ready a step before jo.
// @ts-ignore: decorator
@inline function encRound(
  w: v128, k: v128, inv: v128, inva: v128, m0f: v128,
  sb1u: v128, sb1t: v128, sb2u: v128, sb2t: v128, sr: v128, sr1: v128, sr2: v128, sr3: v128,
): v128 {
  const io = invertIo(w, inv, inva, m0f);
  const jo = invertJo(w, inv, inva, m0f);
  const a = v128.xor(i8x16.swizzle(sb1u, io), i8x16.swizzle(sb1t, jo));
  const a2u = i8x16.swizzle(sb2u, io), a2t = i8x16.swizzle(sb2t, jo);
  const a2k = v128.xor(v128.xor(a2u, k), a2t);
  const a3 = v128.xor(v128.xor(a2u, a2t), a);
  const u = v128.xor(i8x16.swizzle(a2k, sr), i8x16.swizzle(a3, sr1));
  return v128.xor(u, v128.xor(i8x16.swizzle(a, sr2), i8x16.swizzle(a, sr3)));
}

// @ts-ignore: decorator
@inline function decRound(
  w: v128, k: v128, inv: v128, inva: v128, m0f: v128,
  dsb9u: v128, dsb9t: v128, dsbdu: v128, dsbdt: v128, dsbbu: v128, dsbbt: v128, dsbeu: v128, dsbet: v128,
  isr: v128, isr1: v128, isr2: v128, isr3: v128,
): v128 {
  const io = invertIo(w, inv, inva, m0f);
  const jo = invertJo(w, inv, inva, m0f);
  const m9 = v128.xor(i8x16.swizzle(dsb9u, io), i8x16.swizzle(dsb9t, jo));
  const md = v128.xor(i8x16.swizzle(dsbdu, io), i8x16.swizzle(dsbdt, jo));
  const mb = v128.xor(i8x16.swizzle(dsbbu, io), i8x16.swizzle(dsbbt, jo));
  const me = v128.xor(v128.xor(i8x16.swizzle(dsbeu, io), k), i8x16.swizzle(dsbet, jo));
  const u = v128.xor(i8x16.swizzle(me, isr), i8x16.swizzle(mb, isr1));
  return v128.xor(u, v128.xor(i8x16.swizzle(md, isr2), i8x16.swizzle(m9, isr3)));
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
  const sr = mask(SR), sr1 = mask(SR_R1), sr2 = mask(SR_R2), sr3 = mask(SR_R3);
  let y = v128.load(chain);
  let xPrev = v128.load(chain, 16);
  const end = data + len;
  for (let p = data; p < end; p += 16) {
    const x = v128.load(p);
    // The state is kept ShiftRows'd between rounds (see encRound).
    let z = i8x16.swizzle(v128.xor(transform(v128.xor(x, y), iptLo, iptHi, m0f), v128.load(keys)), sr);
    z = encRound(z, v128.load(keys, 16), inv, inva, m0f, sb1u, sb1t, sb2u, sb2t, sr, sr1, sr2, sr3);
    z = encRound(z, v128.load(keys, 32), inv, inva, m0f, sb1u, sb1t, sb2u, sb2t, sr, sr1, sr2, sr3);
    z = encRound(z, v128.load(keys, 48), inv, inva, m0f, sb1u, sb1t, sb2u, sb2t, sr, sr1, sr2, sr3);
    z = encRound(z, v128.load(keys, 64), inv, inva, m0f, sb1u, sb1t, sb2u, sb2t, sr, sr1, sr2, sr3);
    z = encRound(z, v128.load(keys, 80), inv, inva, m0f, sb1u, sb1t, sb2u, sb2t, sr, sr1, sr2, sr3);
    z = encRound(z, v128.load(keys, 96), inv, inva, m0f, sb1u, sb1t, sb2u, sb2t, sr, sr1, sr2, sr3);
    z = encRound(z, v128.load(keys, 112), inv, inva, m0f, sb1u, sb1t, sb2u, sb2t, sr, sr1, sr2, sr3);
    z = encRound(z, v128.load(keys, 128), inv, inva, m0f, sb1u, sb1t, sb2u, sb2t, sr, sr1, sr2, sr3);
    z = encRound(z, v128.load(keys, 144), inv, inva, m0f, sb1u, sb1t, sb2u, sb2t, sr, sr1, sr2, sr3);
    z = encRound(z, v128.load(keys, 160), inv, inva, m0f, sb1u, sb1t, sb2u, sb2t, sr, sr1, sr2, sr3);
    z = encRound(z, v128.load(keys, 176), inv, inva, m0f, sb1u, sb1t, sb2u, sb2t, sr, sr1, sr2, sr3);
    z = encRound(z, v128.load(keys, 192), inv, inva, m0f, sb1u, sb1t, sb2u, sb2t, sr, sr1, sr2, sr3);
    z = encRound(z, v128.load(keys, 208), inv, inva, m0f, sb1u, sb1t, sb2u, sb2t, sr, sr1, sr2, sr3);
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
  const isr = mask(ISR), isr1 = mask(ISR_R1), isr2 = mask(ISR_R2), isr3 = mask(ISR_R3);
  const dsb9u = tab(DSB9U), dsb9t = tab(DSB9T), dsbdu = tab(DSBDU), dsbdt = tab(DSBDT);
  const dsbbu = tab(DSBBU), dsbbt = tab(DSBBT), dsbeu = tab(DSBEU), dsbet = tab(DSBET);
  let yPrev = v128.load(chain);
  let x = v128.load(chain, 16);
  const end = data + len;
  for (let p = data; p < end; p += 16) {
    const y = v128.load(p);
    // The state is kept InvShiftRows'd between rounds (see decRound).
    let z = i8x16.swizzle(v128.xor(transform(v128.xor(y, x), diptLo, diptHi, m0f), v128.load(keys, 14 * 16)), isr);
    z = decRound(z, v128.load(keys, 208), inv, inva, m0f, dsb9u, dsb9t, dsbdu, dsbdt, dsbbu, dsbbt, dsbeu, dsbet, isr, isr1, isr2, isr3);
    z = decRound(z, v128.load(keys, 192), inv, inva, m0f, dsb9u, dsb9t, dsbdu, dsbdt, dsbbu, dsbbt, dsbeu, dsbet, isr, isr1, isr2, isr3);
    z = decRound(z, v128.load(keys, 176), inv, inva, m0f, dsb9u, dsb9t, dsbdu, dsbdt, dsbbu, dsbbt, dsbeu, dsbet, isr, isr1, isr2, isr3);
    z = decRound(z, v128.load(keys, 160), inv, inva, m0f, dsb9u, dsb9t, dsbdu, dsbdt, dsbbu, dsbbt, dsbeu, dsbet, isr, isr1, isr2, isr3);
    z = decRound(z, v128.load(keys, 144), inv, inva, m0f, dsb9u, dsb9t, dsbdu, dsbdt, dsbbu, dsbbt, dsbeu, dsbet, isr, isr1, isr2, isr3);
    z = decRound(z, v128.load(keys, 128), inv, inva, m0f, dsb9u, dsb9t, dsbdu, dsbdt, dsbbu, dsbbt, dsbeu, dsbet, isr, isr1, isr2, isr3);
    z = decRound(z, v128.load(keys, 112), inv, inva, m0f, dsb9u, dsb9t, dsbdu, dsbdt, dsbbu, dsbbt, dsbeu, dsbet, isr, isr1, isr2, isr3);
    z = decRound(z, v128.load(keys, 96), inv, inva, m0f, dsb9u, dsb9t, dsbdu, dsbdt, dsbbu, dsbbt, dsbeu, dsbet, isr, isr1, isr2, isr3);
    z = decRound(z, v128.load(keys, 80), inv, inva, m0f, dsb9u, dsb9t, dsbdu, dsbdt, dsbbu, dsbbt, dsbeu, dsbet, isr, isr1, isr2, isr3);
    z = decRound(z, v128.load(keys, 64), inv, inva, m0f, dsb9u, dsb9t, dsbdu, dsbdt, dsbbu, dsbbt, dsbeu, dsbet, isr, isr1, isr2, isr3);
    z = decRound(z, v128.load(keys, 48), inv, inva, m0f, dsb9u, dsb9t, dsbdu, dsbdt, dsbbu, dsbbt, dsbeu, dsbet, isr, isr1, isr2, isr3);
    z = decRound(z, v128.load(keys, 32), inv, inva, m0f, dsb9u, dsb9t, dsbdu, dsbdt, dsbbu, dsbbt, dsbeu, dsbet, isr, isr1, isr2, isr3);
    z = decRound(z, v128.load(keys, 16), inv, inva, m0f, dsb9u, dsb9t, dsbdu, dsbdt, dsbbu, dsbbt, dsbeu, dsbet, isr, isr1, isr2, isr3);
    const io = invertIo(z, inv, inva, m0f);
    const jo = invertJo(z, inv, inva, m0f);
    x = v128.xor(v128.xor(v128.xor(i8x16.swizzle(dsbou, io), i8x16.swizzle(dsbot, jo)), v128.load(keys)), yPrev);
    v128.store(p, x);
    yPrev = y;
  }
  v128.store(chain, yPrev);
  v128.store(chain, x, 16);
}

/**
 * SubWord of FIPS-197 §5.2 (the S-box on each byte of `w`) for the key schedule of the SIMD
 * core: the byte in the working basis, the same inversion and output tables as the last
 * encryption round, then 0x63 (which the round keys otherwise carry). Constant time like the
 * rounds, and cheaper than the bitsliced S-box the scalar core uses.
 */
export function vpSubWord(w: u32): u32 {
  const m0f = mask(MASK_0F);
  const z = transform(i32x4.splat(w), tab(IPT_LO), tab(IPT_HI), m0f);
  const io = invertIo(z, tab(INV), tab(INVA), m0f);
  const jo = invertJo(z, tab(INV), tab(INVA), m0f);
  const s = v128.xor(v128.xor(i8x16.swizzle(tab(SBOU), io), i8x16.swizzle(tab(SBOT), jo)), i8x16.splat(0x63));
  return <u32>i32x4.extract_lane(s, 0);
}
