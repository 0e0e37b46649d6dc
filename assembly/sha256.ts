// SHA-256 (FIPS 180-4 §6.2) over the core's static buffers, for MTProto 2.0 message keys
// (https://core.telegram.org/mtproto/description: msg_key and the AES key and IV are SHA-256 of
// auth key slices and the message). One implementation serves both builds: a block's rounds are
// serial, and the measured gain of a SIMD message schedule was not worth a second copy.
// The TypeScript side streams a message through INPUT: sha256Init, sha256Update (chunks of at
// most INPUT_BYTES), sha256Final, all within one synchronous call of src/core/wasm.ts, so the state
// below never has to be saved for another message. Every round index is public (the round
// counter); nothing is looked up or branched on by message or key bytes.
import { inputPtr, outputPtr } from './core';

/** Bytes of a SHA-256 digest. */
export const SHA256_DIGEST_BYTES: i32 = 32;

// State layout (SHA256_STATE_BYTES bytes):
//   [0, 32)    H0..H7, native byte order
//   [32, 40)   total message length in bytes, u64
//   [40, 44)   bytes pending in the block buffer, u32
//   [64, 128)  block buffer
//   [128, 384) message schedule W0..W63
export const SHA256_STATE_BYTES: i32 = 384;
const TOTAL: usize = 32;
const PENDING: usize = 40;
const BLOCK: usize = 64;
const W: usize = 128;

const st: usize = memory.data(SHA256_STATE_BYTES, 16);

// FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the first
// 64 primes.
const K: usize = memory.data<u32>([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

export function sha256StatePtr(): usize { return st; }

/** Compresses the 64-byte block at `p` into the state (FIPS 180-4 §6.2.2). */
function compress(p: usize): void {
  // Step 1: the message schedule, big-endian words.
  for (let t: usize = 0; t < 16; t++) store<u32>(W + st + (t << 2), bswap<u32>(load<u32>(p + (t << 2))));
  for (let t: usize = 16; t < 64; t++) {
    const w15 = load<u32>(st + W + ((t - 15) << 2));
    const w2 = load<u32>(st + W + ((t - 2) << 2));
    const s0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >>> 3);
    const s1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >>> 10);
    store<u32>(st + W + (t << 2), load<u32>(st + W + ((t - 16) << 2)) + s0 + load<u32>(st + W + ((t - 7) << 2)) + s1);
  }
  // Steps 2-4.
  let a = load<u32>(st, 0);
  let b = load<u32>(st, 4);
  let c = load<u32>(st, 8);
  let d = load<u32>(st, 12);
  let e = load<u32>(st, 16);
  let f = load<u32>(st, 20);
  let g = load<u32>(st, 24);
  let h = load<u32>(st, 28);
  // Eight rounds per pass with the variables' roles rotated instead of moved (the same
  // T1/T2 of §6.2.2 step 3): round t + i computes the new e into d's role and the new a into h's.
  for (let t: usize = 0; t < 256; t += 32) {
    h += (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25)) + (g ^ (e & (f ^ g))) + load<u32>(K + t, 0) + load<u32>(st + W + t, 0);
    d += h;
    h += (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22)) + ((a & b) | (c & (a | b)));
    g += (rotr<u32>(d, 6) ^ rotr<u32>(d, 11) ^ rotr<u32>(d, 25)) + (f ^ (d & (e ^ f))) + load<u32>(K + t, 4) + load<u32>(st + W + t, 4);
    c += g;
    g += (rotr<u32>(h, 2) ^ rotr<u32>(h, 13) ^ rotr<u32>(h, 22)) + ((h & a) | (b & (h | a)));
    f += (rotr<u32>(c, 6) ^ rotr<u32>(c, 11) ^ rotr<u32>(c, 25)) + (e ^ (c & (d ^ e))) + load<u32>(K + t, 8) + load<u32>(st + W + t, 8);
    b += f;
    f += (rotr<u32>(g, 2) ^ rotr<u32>(g, 13) ^ rotr<u32>(g, 22)) + ((g & h) | (a & (g | h)));
    e += (rotr<u32>(b, 6) ^ rotr<u32>(b, 11) ^ rotr<u32>(b, 25)) + (d ^ (b & (c ^ d))) + load<u32>(K + t, 12) + load<u32>(st + W + t, 12);
    a += e;
    e += (rotr<u32>(f, 2) ^ rotr<u32>(f, 13) ^ rotr<u32>(f, 22)) + ((f & g) | (h & (f | g)));
    d += (rotr<u32>(a, 6) ^ rotr<u32>(a, 11) ^ rotr<u32>(a, 25)) + (c ^ (a & (b ^ c))) + load<u32>(K + t, 16) + load<u32>(st + W + t, 16);
    h += d;
    d += (rotr<u32>(e, 2) ^ rotr<u32>(e, 13) ^ rotr<u32>(e, 22)) + ((e & f) | (g & (e | f)));
    c += (rotr<u32>(h, 6) ^ rotr<u32>(h, 11) ^ rotr<u32>(h, 25)) + (b ^ (h & (a ^ b))) + load<u32>(K + t, 20) + load<u32>(st + W + t, 20);
    g += c;
    c += (rotr<u32>(d, 2) ^ rotr<u32>(d, 13) ^ rotr<u32>(d, 22)) + ((d & e) | (f & (d | e)));
    b += (rotr<u32>(g, 6) ^ rotr<u32>(g, 11) ^ rotr<u32>(g, 25)) + (a ^ (g & (h ^ a))) + load<u32>(K + t, 24) + load<u32>(st + W + t, 24);
    f += b;
    b += (rotr<u32>(c, 2) ^ rotr<u32>(c, 13) ^ rotr<u32>(c, 22)) + ((c & d) | (e & (c | d)));
    a += (rotr<u32>(f, 6) ^ rotr<u32>(f, 11) ^ rotr<u32>(f, 25)) + (h ^ (f & (g ^ h))) + load<u32>(K + t, 28) + load<u32>(st + W + t, 28);
    e += a;
    a += (rotr<u32>(b, 2) ^ rotr<u32>(b, 13) ^ rotr<u32>(b, 22)) + ((b & c) | (d & (b | c)));
  }
  store<u32>(st, load<u32>(st, 0) + a, 0);
  store<u32>(st, load<u32>(st, 4) + b, 4);
  store<u32>(st, load<u32>(st, 8) + c, 8);
  store<u32>(st, load<u32>(st, 12) + d, 12);
  store<u32>(st, load<u32>(st, 16) + e, 16);
  store<u32>(st, load<u32>(st, 20) + f, 20);
  store<u32>(st, load<u32>(st, 24) + g, 24);
  store<u32>(st, load<u32>(st, 28) + h, 28);
}

/** Starts a new message (FIPS 180-4 §5.3.3 initial hash value). */
export function sha256Init(): void {
  store<u32>(st, 0x6a09e667, 0);
  store<u32>(st, 0xbb67ae85, 4);
  store<u32>(st, 0x3c6ef372, 8);
  store<u32>(st, 0xa54ff53a, 12);
  store<u32>(st, 0x510e527f, 16);
  store<u32>(st, 0x9b05688c, 20);
  store<u32>(st, 0x1f83d9ab, 24);
  store<u32>(st, 0x5be0cd19, 28);
  store<u64>(st, 0, TOTAL);
  store<u32>(st, 0, PENDING);
}

/** Adds the first `len` bytes of INPUT (at most INPUT_BYTES) to the message; does not clear INPUT. */
export function sha256Update(len: i32): void {
  absorb(inputPtr(), <usize>len);
}

/** Adds the `n` bytes at `p` to the message. */
function absorb(p: usize, n: usize): void {
  let pending = <usize>load<u32>(st, PENDING);
  store<u64>(st, load<u64>(st, TOTAL) + <u64>n, TOTAL);
  if (pending != 0) {
    const take = min<usize>(64 - pending, n);
    memory.copy(st + BLOCK + pending, p, take);
    pending += take;
    p += take;
    n -= take;
    if (pending < 64) {
      store<u32>(st, <u32>pending, PENDING);
      return;
    }
    compress(st + BLOCK);
  }
  while (n >= 64) {
    compress(p);
    p += 64;
    n -= 64;
  }
  memory.copy(st + BLOCK, p, n);
  store<u32>(st, <u32>n, PENDING);
}

/**
 * Pads the message (FIPS 180-4 §5.1.1: 0x80, zeros, 64-bit big-endian bit length), compresses
 * the last block(s), writes the 32-byte digest to OUTPUT and zeroes the whole state (the block
 * buffer and the schedule may hold secret message bytes).
 */
export function sha256Final(): void {
  finish(outputPtr());
}

/** sha256Final with the digest written at `out`. */
function finish(out: usize): void {
  const block = st + BLOCK;
  const pending = <usize>load<u32>(st, PENDING);
  store<u8>(block + pending, 0x80);
  if (pending >= 56) {
    memory.fill(block + pending + 1, 0, 63 - pending);
    compress(block);
    memory.fill(block, 0, 56);
  } else {
    memory.fill(block + pending + 1, 0, 55 - pending);
  }
  store<u64>(block, bswap<u64>(load<u64>(st, TOTAL) << 3), 56);
  compress(block);
  for (let i: usize = 0; i < 32; i += 4) store<u32>(out + i, bswap<u32>(load<u32>(st + i)));
  memory.fill(st, 0, <usize>SHA256_STATE_BYTES);
}

/**
 * SHA-256 of the first `len` bytes of INPUT (at most INPUT_BYTES), digest to OUTPUT, in one call;
 * those `len` bytes of INPUT are zeroed before it returns.
 */
export function sha256Digest(len: i32): void {
  sha256Init();
  sha256Update(len);
  sha256Final();
  memory.fill(inputPtr(), 0, <usize>len);
}

// INPUT layout of sha256KeyIv: the two messages of MTProto 2.0's AES key derivation
// (https://core.telegram.org/mtproto/description), 52 bytes each, staged by src/core/wasm.ts.
const KEY_IV_A: usize = 0; // msg_key (16) ‖ substr(auth_key, x, 36)
const KEY_IV_B: usize = 64; // substr(auth_key, 40 + x, 36) ‖ msg_key (16)
/** Bytes of INPUT that sha256KeyIv reads (and zeroes). */
export const KEY_IV_INPUT_BYTES: i32 = 128;
// The two digests, between the hashes and the assembly of key and IV.
const keyIvDigests: usize = memory.data(64, 16);

/**
 * MTProto 2.0's aes_key and aes_iv in one call: sha256_a of the 52 bytes at INPUT + 0 and
 * sha256_b of the 52 bytes at INPUT + 64, then aes_key = a[0, 8) ‖ b[8, 24) ‖ a[24, 32) to
 * OUTPUT[0, 32) and aes_iv = b[0, 8) ‖ a[8, 24) ‖ b[24, 32) to OUTPUT[32, 64). INPUT[0, 128),
 * the digests and the hash state are zeroed before it returns.
 */
export function sha256KeyIv(): void {
  const input = inputPtr();
  const a = keyIvDigests;
  const b = keyIvDigests + 32;
  sha256Init();
  absorb(input + KEY_IV_A, 52);
  finish(a);
  sha256Init();
  absorb(input + KEY_IV_B, 52);
  finish(b);
  const out = outputPtr();
  memory.copy(out, a, 8);
  memory.copy(out + 8, b + 8, 16);
  memory.copy(out + 24, a + 24, 8);
  memory.copy(out + 32, b, 8);
  memory.copy(out + 40, a + 8, 16);
  memory.copy(out + 56, b + 24, 8);
  memory.fill(keyIvDigests, 0, 64);
  memory.fill(input, 0, <usize>KEY_IV_INPUT_BYTES);
}
