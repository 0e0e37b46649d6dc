// Writes assembly/aes-tables.ts: the sixteen-entry tables of the vector-permute AES core
// (assembly/aes-vperm.ts), after M. Hamburg, "Accelerating AES with Vector Permute
// Instructions", CHES 2009. Every table is derived here from field arithmetic, and the whole
// S-box and inverse S-box are then recomputed the way the core does (nibble lookups only) and
// compared with the S-box of FIPS-197 §5.1.1 computed by inversion, before anything is written.
// Run: node scripts/gen-aes-tables.mjs (the output is committed; the tables never change).
//
// The field. GF(2^8) of AES (x^8 + x^4 + x^3 + x + 1) is isomorphic to K = F[t]/(t^2 + t + c)
// with F = GF(16) (x^4 + x + 1) and c = 1/a for an a in F, a != 0, 1, with Tr(c) = 1 (then
// t^2 + t + c is irreducible over F). A byte z = (i << 4) | k of the core's working basis stands
// for the element (a*i)*t + k of K. Its norm is M = a*i^2 + a*i*k + k^2, and its inverse is
// ((a*i)*t + a*i + k) / M. With j = i + k and the convention 1/0 = "infinity" (a table entry of
// 0x80, which every later lookup maps to 0):
//   io = j + 1/(1/i + a/k) = M / (k + a*i)          p = 1/io = (a*i + k) / M  (low coordinate)
//   jo = i + 1/(1/j + a/k) = M / ((1+a)*k + a*i)    q = 1/jo
// and the high coordinate a*i/M = p + (p + q)/a. So the inverse is U(p) + V(q) with U, V linear:
// one lookup of io and one of jo into tables that also apply the inversion 1/x in F and any
// further linear map (the S-box's affine part, MixColumns' doublings, the next round's basis).
// The zero cases (i, k, j or 1/i + a/k zero) all give the right answer with that infinity
// convention; the self-check below covers every byte.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// GF(16) with x^4 + x + 1.
function mul16(x, y) {
  let r = 0;
  for (let b = 0; b < 4; b++) {
    if ((y >> b) & 1) r ^= x << b;
  }
  for (let b = 7; b >= 4; b--) if ((r >> b) & 1) r ^= 0x13 << (b - 4);
  return r;
}
const inv16 = (x) => {
  if (x === 0) return 0;
  for (let y = 1; y < 16; y++) if (mul16(x, y) === 1) return y;
  throw new Error('no inverse');
};
const tr16 = (x) => {
  const x2 = mul16(x, x);
  const x4 = mul16(x2, x2);
  return x ^ x2 ^ x4 ^ mul16(x4, x4);
};

// GF(2^8) of AES.
function mul8(x, y) {
  let r = 0;
  for (let b = 0; b < 8; b++) {
    if ((y >> b) & 1) r ^= x << b;
  }
  for (let b = 15; b >= 8; b--) if ((r >> b) & 1) r ^= 0x11b << (b - 8);
  return r;
}
const inv8 = (x) => {
  if (x === 0) return 0;
  for (let y = 1; y < 256; y++) if (mul8(x, y) === 1) return y;
  throw new Error('no inverse');
};
const rotl8 = (x, n) => ((x << n) | (x >> (8 - n))) & 0xff;
// FIPS-197 §5.1.1: the affine part of SubBytes, without its constant 0x63.
const affine = (x) => x ^ rotl8(x, 1) ^ rotl8(x, 2) ^ rotl8(x, 3) ^ rotl8(x, 4);
// FIPS-197 §5.3.2: the linear part of InvSubBytes' affine map (its constant is 0x05).
const invAffine = (x) => rotl8(x, 1) ^ rotl8(x, 3) ^ rotl8(x, 6);
const SBOX = Array.from({ length: 256 }, (_, x) => affine(inv8(x)) ^ 0x63);
const INV_SBOX = Array.from({ length: 256 }, (_, y) => inv8(invAffine(y) ^ 0x05));

// a: the first element of F that is not 0 or 1 and has Tr(1/a) = 1.
let a = 2;
while (tr16(inv16(a)) !== 1) a++;
const c = inv16(a);

// K as pairs [h, l] = h*t + l.
const mulK = ([h1, l1], [h2, l2]) => {
  const hh = mul16(h1, h2);
  return [hh ^ mul16(h1, l2) ^ mul16(l1, h2), mul16(hh, c) ^ mul16(l1, l2)];
};
const addK = ([h1, l1], [h2, l2]) => [h1 ^ h2, l1 ^ l2];

// A root beta of the AES polynomial in K: x -> beta extends to the field isomorphism phi.
function aesPoly(beta) {
  let p = [0, 1];
  let sum = [0, 0];
  const powers = [];
  for (let m = 0; m <= 8; m++) {
    powers.push(p);
    p = mulK(p, beta);
  }
  for (const m of [8, 4, 3, 1, 0]) sum = addK(sum, powers[m]);
  return { zero: sum[0] === 0 && sum[1] === 0, powers };
}
let basis;
for (let e = 2; e < 256 && basis === undefined; e++) {
  const r = aesPoly([e >> 4, e & 15]);
  if (r.zero) basis = r.powers.slice(0, 8);
}
if (basis === undefined) throw new Error('no root of the AES polynomial in K');
const phi = (x) => {
  let r = [0, 0];
  for (let m = 0; m < 8; m++) if ((x >> m) & 1) r = addK(r, basis[m]);
  return r;
};
// The working basis: [h, l] -> byte (h/a) << 4 | l.
const toWork = ([h, l]) => (mul16(h, c) << 4) | l;
const T = (x) => toWork(phi(x)); // standard byte -> working byte
const Tinv = new Array(256);
for (let x = 0; x < 256; x++) Tinv[T(x)] = x;
if (Tinv.includes(undefined)) throw new Error('phi is not a bijection');
// phi must be multiplicative too (it is a field isomorphism): check a sample.
for (let x = 0; x < 256; x += 7)
  for (let y = 0; y < 256; y += 11) {
    const [h, l] = mulK(phi(x), phi(y));
    const [h2, l2] = phi(mul8(x, y));
    if (h !== h2 || l !== l2) throw new Error('phi is not multiplicative');
  }
const fromK = (e) => Tinv[toWork(e)]; // element of K -> standard byte
// The decryption input basis: InvSubBytes(y) = inv(invAffine(y) ^ 0x05).
const Td = (y) => T(invAffine(y));

// U(p) and V(q) as standard bytes; p, q are the inverses in F of the looked-up nibbles.
const U = (n) => {
  const p = inv16(n);
  return fromK([mul16(p, 1 ^ c), p]);
};
const V = (n) => fromK([mul16(inv16(n), c), 0]);

const nib = (f) => Array.from({ length: 16 }, (_, n) => f(n));
const tables = {
  // Input transforms: standard byte -> working byte, as low-nibble and high-nibble halves.
  IPT_LO: nib((n) => T(n)),
  IPT_HI: nib((n) => T(n << 4)),
  DIPT_LO: nib((n) => Td(n)),
  DIPT_HI: nib((n) => Td(n << 4)),
  // 1/n and a/n in F, with 0x80 ("infinity") for n = 0.
  INV: nib((n) => (n === 0 ? 0x80 : inv16(n))),
  INVA: nib((n) => (n === 0 ? 0x80 : mul16(a, inv16(n)))),
  // Encryption rounds: S-box output (linear part) and its double, in the working basis.
  SB1U: nib((n) => T(affine(U(n)))),
  SB1T: nib((n) => T(affine(V(n)))),
  SB2U: nib((n) => T(mul8(2, affine(U(n))))),
  SB2T: nib((n) => T(mul8(2, affine(V(n))))),
  // Last encryption round: the S-box's linear part in the standard basis.
  SBOU: nib((n) => affine(U(n))),
  SBOT: nib((n) => affine(V(n))),
  // Decryption rounds: the inverse times 9, 13, 11, 14 (InvMixColumns), in the decryption basis.
  DSB9U: nib((n) => Td(mul8(9, U(n)))),
  DSB9T: nib((n) => Td(mul8(9, V(n)))),
  DSBDU: nib((n) => Td(mul8(13, U(n)))),
  DSBDT: nib((n) => Td(mul8(13, V(n)))),
  DSBBU: nib((n) => Td(mul8(11, U(n)))),
  DSBBT: nib((n) => Td(mul8(11, V(n)))),
  DSBEU: nib((n) => Td(mul8(14, U(n)))),
  DSBET: nib((n) => Td(mul8(14, V(n)))),
  // Last decryption round: the inverse itself, standard basis.
  DSBOU: nib((n) => U(n)),
  DSBOT: nib((n) => V(n)),
};
const constants = {
  // Added once per round (folded into the round keys): the S-box constant 0x63 in the working
  // basis, and the InvSubBytes constant 0x05 after the inverse affine map.
  S63: T(0x63),
  D05: T(0x05),
};

// Self-check: the core's route, with wasm's i8x16.swizzle rule (index >= 16 gives 0).
const look = (tab, idx) => (idx < 16 ? tab[idx] : 0);
function invert(z) {
  const i = z >> 4;
  const k = z & 15;
  const j = i ^ k;
  const ak = look(tables.INVA, k);
  const iak = look(tables.INV, i) ^ ak;
  const jak = look(tables.INV, j) ^ ak;
  const io = look(tables.INV, iak) ^ j;
  const jo = look(tables.INV, jak) ^ i;
  for (const v of [ak, iak, jak, io, jo]) if (v >= 16 && (v & 0x70) !== 0) throw new Error(`index ${v} in 16..127 would differ between pshufb and swizzle`);
  return [io, jo];
}
for (let x = 0; x < 256; x++) {
  const z = look(tables.IPT_LO, x & 15) ^ look(tables.IPT_HI, x >> 4);
  if (z !== T(x)) throw new Error('input transform');
  const [io, jo] = invert(z);
  if ((look(tables.DSBOU, io) ^ look(tables.DSBOT, jo)) !== inv8(x)) throw new Error(`inverse of ${x}`);
  if ((look(tables.SBOU, io) ^ look(tables.SBOT, jo) ^ 0x63) !== SBOX[x]) throw new Error(`S-box of ${x}`);
  if ((look(tables.SB1U, io) ^ look(tables.SB1T, jo) ^ constants.S63) !== T(SBOX[x])) throw new Error(`sb1 of ${x}`);
  if ((look(tables.SB2U, io) ^ look(tables.SB2T, jo) ^ T(mul8(2, 0x63))) !== T(mul8(2, SBOX[x]))) throw new Error(`sb2 of ${x}`);
  const zd = look(tables.DIPT_LO, x & 15) ^ look(tables.DIPT_HI, x >> 4) ^ constants.D05;
  const [dio, djo] = invert(zd);
  if ((look(tables.DSBOU, dio) ^ look(tables.DSBOT, djo)) !== INV_SBOX[x]) throw new Error(`inverse S-box of ${x}`);
  for (const [e, u, t] of [
    [9, 'DSB9U', 'DSB9T'],
    [13, 'DSBDU', 'DSBDT'],
    [11, 'DSBBU', 'DSBBT'],
    [14, 'DSBEU', 'DSBET'],
  ]) {
    if ((look(tables[u], dio) ^ look(tables[t], djo)) !== Td(mul8(e, INV_SBOX[x]))) throw new Error(`dsb ${e} of ${x}`);
  }
}
if (SBOX[0x53] !== 0xed || INV_SBOX[0xed] !== 0x53) throw new Error('FIPS-197 S-box example');

const hex2 = (v) => '0x' + v.toString(16).padStart(2, '0');
const lines = [
  '// Generated by scripts/gen-aes-tables.mjs - do not edit. The sixteen-byte tables of the',
  '// vector-permute AES core (assembly/aes-vperm.ts); see the generator for their derivation.',
  `// F = GF(16) mod x^4 + x + 1, a = ${hex2(a)}, c = 1/a = ${hex2(c)}, t^2 + t + c over F.`,
  '',
  '/** Byte offsets of the tables inside AES_TABLES, 16 bytes each. */',
];
const names = Object.keys(tables);
names.forEach((name, n) => lines.push(`export const ${name}: usize = ${n * 16};`));
lines.push('');
lines.push('/** The tables, back to back in the order of the offsets above. */');
lines.push(`export const AES_TABLES: usize = memory.data<u8>([`);
for (const name of names) lines.push(`  ${tables[name].map(hex2).join(', ')}, // ${name}`);
lines.push('], 16);');
lines.push('');
lines.push('/** 0x63 (SubBytes constant) in the working basis, added through the round keys. */');
lines.push(`export const S63: u8 = ${hex2(constants.S63)};`);
lines.push('/** 0x05 (InvSubBytes constant) in the working basis, added through the round keys. */');
lines.push(`export const D05: u8 = ${hex2(constants.D05)};`);
lines.push('');
writeFileSync(join(root, 'assembly/aes-tables.ts'), lines.join('\n'));
console.log(`aes tables: a = ${hex2(a)}, ${names.length} tables, self-check passed`);
