/**
 * AES-256 in IGE mode, the mode of MTProto 2.0 (https://core.telegram.org/mtproto/description):
 * y_i = E(x_i ^ y_(i-1)) ^ x_(i-1), with the 32-byte IV = y_0 (16 bytes) ‖ x_0 (16 bytes), the
 * convention of OpenSSL's AES_ige_encrypt and of Telegram's clients.
 *
 * Decryption always runs in the WebAssembly core (constant-time: vector-permute AES with SIMD,
 * bitsliced AES without). Encryption has a second route where `node:crypto` exists: IGE is CBC
 * over prepared blocks. With c_i = y_i ^ x_(i-1) = E(x_i ^ y_(i-1)), CBC with IV y_0 gives
 * c_i = E(p_i ^ c_(i-1)) for p_i = x_i ^ y_(i-1) ^ c_(i-1) = x_i ^ x_(i-2) (x_(-1) = 0, so p_1 = x_1
 * and p_2 = x_2 ^ x_0), and one aes-256-cbc pass (AES-NI where the CPU has it) does every block.
 * `node:crypto` is looked up at run time (process.getBuiltinModule, Node >= 20.16), never imported,
 * so the package still loads in browsers, Deno and Bun, where the WebAssembly route is used.
 */
import { AES_BLOCK_BYTES, AES_IV_BYTES, AES_KEY_BYTES } from './sizes.js';
import { engine } from './engine.js';
import { checkBytes, plainBytes } from './validate.js';
import { nodeCrypto as found } from './node-crypto.js';

/** The part of node:crypto this module uses. */
interface NodeCrypto {
  createCipheriv(
    algorithm: 'aes-256-cbc',
    key: Uint8Array,
    iv: Uint8Array,
  ): { setAutoPadding(on: boolean): unknown; update(data: Uint8Array): Uint8Array; final(): Uint8Array };
}

const nodeCrypto: NodeCrypto | undefined = typeof found?.createCipheriv === 'function' ? (found as unknown as NodeCrypto) : undefined;

/** How aes256IgeEncrypt runs: the WebAssembly core, or node:crypto's aes-256-cbc (AES-NI). */
export type AesEncryptRoute = 'wasm' | 'node';

/**
 * Messages shorter than this go to WebAssembly even where node:crypto exists: below it, making
 * a cipher object and the two XOR passes cost more than the SIMD core spends on the whole
 * message. A fixed rule from one side-by-side measurement (Node 20.20, x64 with AES-NI, MB/s,
 * SIMD core vs this route): 256 B 79 vs 26..55, 512 B 91 vs 76, 768 B 95 vs 110, 1 KiB 96 vs
 * 144..161, 64 KiB 77..80 vs 400..425.
 * @internal
 */
export const NODE_ENCRYPT_MIN_BYTES = 768;

// null: the automatic choice; a route: forced by the tests.
let forced: AesEncryptRoute | null = null;

/**
 * The route aes256IgeEncrypt takes for `n` bytes. Without SIMD the bitsliced core is far slower
 * than AES-NI, so node:crypto takes every length there.
 * @internal
 */
export function aesEncryptRoute(n: number): AesEncryptRoute {
  if (forced !== null) return forced;
  if (nodeCrypto === undefined) return 'wasm';
  return !engine.simd || n >= NODE_ENCRYPT_MIN_BYTES ? 'node' : 'wasm';
}

/**
 * Forces the route of aes256IgeEncrypt (null restores the automatic choice), so the tests run
 * both. Not for use in the library.
 * @throws Error if 'node' is asked for where node:crypto is missing
 * @internal
 */
export function forceAesEncryptRouteForTest(route: AesEncryptRoute | null): void {
  if (route === 'node' && nodeCrypto === undefined) throw new Error('AES-IGE: node:crypto is not available in this runtime');
  forced = route;
}

/** Checks the three arguments; returns the data length. */
function check(data: unknown, key: unknown, iv: unknown): number {
  // Types first, then lengths: each length read once, by the intrinsic getter.
  const n = checkBytes(data, 'AES-IGE data');
  const k = checkBytes(key, 'AES-256 key');
  const v = checkBytes(iv, 'AES-IGE iv');
  if (k !== AES_KEY_BYTES) throw new RangeError(`AES-256 key: expected ${AES_KEY_BYTES} bytes, got ${k}`);
  if (v !== AES_IV_BYTES) throw new RangeError(`AES-IGE iv: expected ${AES_IV_BYTES} bytes, got ${v}`);
  if (n % AES_BLOCK_BYTES !== 0) throw new RangeError(`AES-IGE data: expected a multiple of ${AES_BLOCK_BYTES} bytes, got ${n}`);
  return n;
}

/**
 * Encrypts `data` with AES-256 in IGE mode.
 * @param data the plaintext, a multiple of 16 bytes (0 allowed: the result is empty)
 * @param key the 32-byte AES-256 key
 * @param iv the 32-byte IV: y_0 (the "previous ciphertext" block), then x_0 (the "previous plaintext")
 * @returns the ciphertext, a new array of `data`'s length
 * @throws TypeError if an argument is not a Uint8Array (a Proxy of one, or one on a detached buffer, is not)
 * @throws RangeError if `key` or `iv` is not 32 bytes, or `data` is not a multiple of 16 bytes
 * @example aes256IgeEncrypt(plaintext, aesKey, aesIv)
 */
export function aes256IgeEncrypt(data: Uint8Array, key: Uint8Array, iv: Uint8Array): Uint8Array {
  const n = check(data, key, iv);
  if (n === 0 || aesEncryptRoute(n) === 'wasm') return engine.aes256Ige(data, key, iv, false);
  return encryptCbc(nodeCrypto!, plainBytes(data, n), n, plainBytes(key, AES_KEY_BYTES), plainBytes(iv, AES_IV_BYTES));
}

/**
 * Decrypts `data` with AES-256 in IGE mode, in the constant-time WebAssembly core.
 * @param data the ciphertext, a multiple of 16 bytes (0 allowed: the result is empty)
 * @param key the 32-byte AES-256 key
 * @param iv the 32-byte IV: y_0, then x_0, as given to {@link aes256IgeEncrypt}
 * @returns the plaintext, a new array of `data`'s length
 * @throws TypeError if an argument is not a Uint8Array (a Proxy of one, or one on a detached buffer, is not)
 * @throws RangeError if `key` or `iv` is not 32 bytes, or `data` is not a multiple of 16 bytes
 */
export function aes256IgeDecrypt(data: Uint8Array, key: Uint8Array, iv: Uint8Array): Uint8Array {
  check(data, key, iv);
  return engine.aes256Ige(data, key, iv, true);
}

/**
 * IGE encryption through one aes-256-cbc pass of node:crypto (see the file's comment); `n` > 0.
 * The plaintext copies made here are zeroed before returning. The key and y_0 are handed to
 * node:crypto, which keeps them in its own (OpenSSL) context until that is collected.
 */
function encryptCbc(crypto: NodeCrypto, data: Uint8Array, n: number, key: Uint8Array, iv: Uint8Array): Uint8Array {
  // x: an aligned copy of the plaintext, with x_0 in front (x[0..16) = x_0, block i at 16 * i).
  const x = new Uint8Array(n + AES_BLOCK_BYTES);
  x.set(iv.subarray(AES_BLOCK_BYTES), 0);
  x.set(data, AES_BLOCK_BYTES);
  const p = new Uint8Array(n);
  const x32 = new Int32Array(x.buffer, 0, x.length >> 2);
  const p32 = new Int32Array(p.buffer, 0, n >> 2);
  // p_1 = x_1; p_i = x_i ^ x_(i-2) for i >= 2. In words: block i of x starts at word 4i.
  p32[0] = x32[4];
  p32[1] = x32[5];
  p32[2] = x32[6];
  p32[3] = x32[7];
  for (let w = 4; w < p32.length; w++) p32[w] = x32[w + 4] ^ x32[w - 4];
  const cipher = crypto.createCipheriv('aes-256-cbc', key, iv.subarray(0, AES_BLOCK_BYTES));
  cipher.setAutoPadding(false);
  const c = cipher.update(p);
  cipher.final(); // no padding and whole blocks: nothing more comes out
  p.fill(0);
  // y_i = c_i ^ x_(i-1): block i - 1 of x (x_0 for i = 1) is at word 4(i - 1).
  const out = new Uint8Array(n);
  out.set(c);
  const out32 = new Int32Array(out.buffer, 0, n >> 2);
  for (let w = 0; w < out32.length; w++) out32[w] ^= x32[w];
  // c ^ y would give the plaintext back: clear c with the plaintext copy.
  c.fill(0);
  x.fill(0);
  return out;
}
