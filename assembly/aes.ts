// AES-256 in IGE mode (the mode of MTProto, https://core.telegram.org/mtproto/description, as
// OpenSSL's AES_ige_encrypt) over static buffers: the TypeScript side writes the 32-byte key
// and the 32-byte IV at AES_KEY, calls aesSetKey once per message, then passes the message
// through AES_DATA in chunks of at most AES_DATA_BYTES (each call continues the chain where the
// last one stopped: the IV area holds the last ciphertext and plaintext blocks), and calls
// aesWipe at the end. Both cores export the same functions: the SIMD core runs the
// vector-permute cipher (aes-vperm.ts), the scalar core the bitsliced one (aes-bitslice.ts).
// Neither reads a table at a secret index nor branches on a secret.
import { bsDecrypt, bsEncrypt, bsOutHi, bsOutLo, bsSetKeys, bsSubWord, bsWipe } from './aes-bitslice';
import { vpIgeDecrypt, vpIgeEncrypt, vpSetDecryptKeys, vpSetEncryptKeys, vpSubWord } from './aes-vperm';

/** Most bytes one aesIgeEncrypt or aesIgeDecrypt call takes from AES_DATA. */
export const AES_DATA_BYTES: i32 = 65536;
/** Bytes of the key area: the 32-byte key, then the 32-byte IV (y0, then x0). */
export const AES_KEY_BYTES: i32 = 64;

const aesData: usize = memory.data(AES_DATA_BYTES, 16);
const aesKey: usize = memory.data(AES_KEY_BYTES, 16);
// The IV, then the chaining state: the last ciphertext block y and the last plaintext block x.
const chain: usize = aesKey + 32;
// The key schedule of FIPS-197 §5.2 (60 words), and the cipher's own round keys.
const EXPANDED_BYTES: usize = 240;
// The larger of the two layouts: BS_KEY_BYTES (480) and VP_KEY_BYTES (240).
const ROUND_KEY_BYTES: usize = 480;
const expanded: usize = memory.data(<i32>EXPANDED_BYTES, 16);
const roundKeys: usize = memory.data(480, 16);

/** Bytes of the round-key area (the larger of the two cores' layouts). */
export const AES_ROUND_KEY_BYTES: i32 = <i32>ROUND_KEY_BYTES;

export function aesDataPtr(): usize { return aesData; }
export function aesKeyPtr(): usize { return aesKey; }
/** Where the round keys are: read only by the tests that check aesWipe cleared them. */
export function aesRoundKeysPtr(): usize { return roundKeys; }

// @ts-ignore: decorator
@inline function subWord(w: u32): u32 {
  if (ASC_FEATURE_SIMD) return vpSubWord(w);
  return bsSubWord(w);
}

/**
 * The key schedule of FIPS-197 §5.2 for the 32-byte key at `key` (Nk = 8, 15 round keys), to
 * `expanded`. Words are little-endian u32 of the key's bytes in order, so RotWord is a rotation
 * right by 8 and Rcon goes into the low byte. SubWord is the vector-permute S-box on the SIMD
 * core, the bitsliced one on the scalar core: constant time either way.
 */
function expandKey(key: usize): void {
  memory.copy(expanded, key, 32);
  let rcon: u32 = 1;
  for (let i: usize = 8; i < 60; i++) {
    let t = load<u32>(expanded + ((i - 1) << 2));
    if ((i & 7) == 0) {
      t = subWord(rotr<u32>(t, 8)) ^ rcon;
      // xtime of the round constant: public, not secret.
      rcon = ((rcon << 1) ^ ((rcon >> 7) * 0x1b)) & 0xff;
    } else if ((i & 7) == 4) {
      t = subWord(t);
    }
    store<u32>(expanded + (i << 2), load<u32>(expanded + ((i - 8) << 2)) ^ t);
  }
}

/**
 * Prepares the round keys of the key at AES_KEY for one message, encryption (`decrypt` 0) or
 * decryption (1), and zeroes the 32 key bytes there (the IV stays: it is the chaining state).
 */
export function aesSetKey(decrypt: i32): void {
  expandKey(aesKey);
  if (ASC_FEATURE_SIMD) {
    if (decrypt != 0) vpSetDecryptKeys(expanded, roundKeys);
    else vpSetEncryptKeys(expanded, roundKeys);
  } else {
    bsSetKeys(expanded, roundKeys);
  }
  memory.fill(expanded, 0, EXPANDED_BYTES);
  memory.fill(aesKey, 0, 32);
}

/** Whole blocks of `len`, at most AES_DATA_BYTES: the caller checks, this only keeps memory safe. */
// @ts-ignore: decorator
@inline function blocks(len: i32): usize {
  return <usize>min(max(len, 0), AES_DATA_BYTES) & ~(<usize>15);
}

/** IGE-encrypts `len` bytes (a multiple of 16, at most AES_DATA_BYTES) at AES_DATA in place. */
export function aesIgeEncrypt(len: i32): void {
  const n = blocks(len);
  if (ASC_FEATURE_SIMD) {
    vpIgeEncrypt(roundKeys, chain, aesData, n);
  } else {
    let yLo = load<u64>(chain), yHi = load<u64>(chain, 8);
    let xLo = load<u64>(chain, 16), xHi = load<u64>(chain, 24);
    for (let p = aesData; p < aesData + n; p += 16) {
      const lo = load<u64>(p), hi = load<u64>(p, 8);
      bsEncrypt(roundKeys, lo ^ yLo, hi ^ yHi);
      yLo = bsOutLo ^ xLo;
      yHi = bsOutHi ^ xHi;
      store<u64>(p, yLo);
      store<u64>(p, yHi, 8);
      xLo = lo;
      xHi = hi;
    }
    store<u64>(chain, yLo); store<u64>(chain, yHi, 8);
    store<u64>(chain, xLo, 16); store<u64>(chain, xHi, 24);
    bsWipe();
  }
}

/** IGE-decrypts `len` bytes (a multiple of 16, at most AES_DATA_BYTES) at AES_DATA in place. */
export function aesIgeDecrypt(len: i32): void {
  const n = blocks(len);
  if (ASC_FEATURE_SIMD) {
    vpIgeDecrypt(roundKeys, chain, aesData, n);
  } else {
    let yLo = load<u64>(chain), yHi = load<u64>(chain, 8);
    let xLo = load<u64>(chain, 16), xHi = load<u64>(chain, 24);
    for (let p = aesData; p < aesData + n; p += 16) {
      const lo = load<u64>(p), hi = load<u64>(p, 8);
      bsDecrypt(roundKeys, lo ^ xLo, hi ^ xHi);
      xLo = bsOutLo ^ yLo;
      xHi = bsOutHi ^ yHi;
      store<u64>(p, xLo);
      store<u64>(p, xHi, 8);
      yLo = lo;
      yHi = hi;
    }
    store<u64>(chain, yLo); store<u64>(chain, yHi, 8);
    store<u64>(chain, xLo, 16); store<u64>(chain, xHi, 24);
    bsWipe();
  }
}

/**
 * Zeroes the first `len` bytes of AES_DATA (the most a message staged there), the key and
 * chaining area and the round keys: nothing of a message outlives its last call.
 */
export function aesWipe(len: i32): void {
  memory.fill(aesData, 0, <usize>min(max(len, 0), AES_DATA_BYTES));
  memory.fill(aesKey, 0, <usize>AES_KEY_BYTES);
  memory.fill(expanded, 0, EXPANDED_BYTES);
  memory.fill(roundKeys, 0, ROUND_KEY_BYTES);
  bsWipe();
}
