/**
 * The bytes of a dump (docs/dump-format.md is the specification): header layout, key derivation,
 * and the sealing and opening of frames with AES-256-GCM. Knows nothing of streams or managers.
 * @internal
 */
import { type KeyObject, createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { u32be } from '../core/ids.js';
import { KEY_BYTES } from '../core/sizes.js';

/** The first 8 bytes of every dump. */
export const MAGIC = new TextEncoder().encode('MTPAKDMP');
/** What a reader says of bytes that do not start with the magic. */
export const NOT_A_DUMP = 'not a mtproto-authkey dump (it does not start with "MTPAKDMP")';
/** The format version this module writes and reads. */
export const VERSION = 1;
/** Key derivation 1 of the header: scrypt of a passphrase. */
export const KDF_SCRYPT = 1;
/** Key derivation 2 of the header: HKDF-SHA-256 of a 32-byte secret. */
export const KDF_HKDF = 2;

// Header: magic 8 ‖ version 1 ‖ kdf 1 ‖ log2 N 1 ‖ r u32 ‖ p u32 ‖ salt 16 ‖ nonce prefix 4 ‖ check tag 16.
const VERSION_AT = 8;
const KDF_AT = 9;
const LOG_N_AT = 10;
const R_AT = 11;
const P_AT = 15;
const SALT_AT = 19;
/** Bytes of the random salt. */
export const SALT_BYTES = 16;
const PREFIX_AT = SALT_AT + SALT_BYTES;
const PREFIX_BYTES = 4;
/** Bytes of the header the check tag covers. */
const CHECKED_BYTES = PREFIX_AT + PREFIX_BYTES;
const TAG_BYTES = 16;
/** Bytes of the whole header. */
export const HEADER_BYTES = CHECKED_BYTES + TAG_BYTES;

/** Frame type of a record: ASCII 'R'. */
export const RECORD = 0x52;
/** Frame type of the trailer that ends the dump: ASCII 'E'. */
export const TRAILER = 0x45;
/** Offset of the key in a record's content, after the 8 id bytes. */
export const CONTENT_KEY_AT = 8;
/** Offset of the expiry (u64) in a record's content, after the key. */
export const CONTENT_EXPIRY_AT = CONTENT_KEY_AT + KEY_BYTES;
/** Sealed content of every frame: a record `id 8 ‖ key 256 ‖ expiresAt u64`, or the trailer `count u64 ‖ 264 zero bytes`. */
export const CONTENT_BYTES = CONTENT_EXPIRY_AT + 8;
/** Bytes of a frame: type ‖ ciphertext ‖ tag. */
export const FRAME_BYTES = 1 + CONTENT_BYTES + TAG_BYTES;

/** scrypt cost parameters (the public type is `ScryptCost` of dump.ts, the same shape). */
export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}

/** The most memory scrypt may take, writing or reading: 128 * N * r bytes at most 256 MiB. */
const SCRYPT_MEMORY_LIMIT = 2 ** 28;

/** Why these scrypt parameters are refused, or undefined if they are acceptable. */
export function scryptProblem(N: number, r: number, p: number): string | undefined {
  if (!Number.isInteger(N) || N < 2 ** 10 || N > 2 ** 20 || (N & (N - 1)) !== 0) return `N: expected a power of two from 2**10 to 2**20, got ${N}`;
  if (!Number.isInteger(r) || r < 1 || r > 32) return `r: expected an integer in 1..32, got ${r}`;
  if (!Number.isInteger(p) || p < 1 || p > 16) return `p: expected an integer in 1..16, got ${p}`;
  if (128 * N * r > SCRYPT_MEMORY_LIMIT) return `N * r: expected 128 * N * r at most 256 MiB, got ${(128 * N * r) / 2 ** 20} MiB`;
  return undefined;
}

/**
 * The work of scrypt with these parameters, N * r * p: the time it takes is proportional to it (p
 * passes of ROMix, each 2 * N BlockMix calls of 2 * r Salsa20/8 cores, RFC 7914 §5), and its memory,
 * 128 * N * r bytes, is at most 128 times it.
 */
export function scryptWork(params: ScryptCost): number {
  return params.N * params.r * params.p;
}

/** `n` as `2**k` when it is a power of two, else in digits. */
function powerOfTwo(n: number): string {
  const k = Math.log2(n);
  return Number.isInteger(k) ? `2**${k}` : String(n);
}

/** `N = 2**17, r = 8, p = 1 (N * r * p = 2**20, 128 MiB)`, as the messages of a limit say it. */
export function describeScrypt(params: ScryptCost): string {
  return `N = ${powerOfTwo(params.N)}, r = ${params.r}, p = ${params.p} (N * r * p = ${powerOfTwo(scryptWork(params))}, ${(128 * params.N * params.r) / 2 ** 20} MiB)`;
}

/** Why a header's scrypt cost is more than a reader accepts (`limit`), or undefined if it is not. */
export function scryptOverLimit(header: ScryptCost, limit: ScryptCost): string | undefined {
  if (scryptWork(header) <= scryptWork(limit) && header.N * header.r <= limit.N * limit.r) return undefined;
  return `scrypt cost over the limit: the header asks for ${describeScrypt(header)}, and this reader accepts at most the work and memory of ${describeScrypt(limit)}; if the dump is trusted, raise the limit with the maxScrypt option`;
}

/** A new header, without its check tag (see {@link sealHeader}). */
export function newHeader(kdf: number, params: ScryptCost | undefined): Uint8Array {
  const header = new Uint8Array(HEADER_BYTES);
  const view = new DataView(header.buffer);
  header.set(MAGIC, 0);
  header[VERSION_AT] = VERSION;
  header[KDF_AT] = kdf;
  if (params !== undefined) {
    header[LOG_N_AT] = Math.log2(params.N);
    view.setUint32(R_AT, params.r);
    view.setUint32(P_AT, params.p);
  }
  header.set(randomBytes(SALT_BYTES + PREFIX_BYTES), SALT_AT);
  return header;
}

/** Why a header is refused: another magic, another version, or fields this version does not take. */
export type HeaderProblemKind = 'not-a-dump' | 'unsupported-version' | 'unsupported-header';

/** What a header says; `problem` (and its `kind`) is set when it is not one this module reads. */
export interface ParsedHeader {
  problem?: string;
  kind?: HeaderProblemKind;
  kdf: number;
  scrypt?: ScryptCost;
  salt: Uint8Array;
}

/** Reads the fields of a header of HEADER_BYTES bytes; the check tag is not verified here. */
export function parseHeader(header: Uint8Array): ParsedHeader {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const salt = header.slice(SALT_AT, SALT_AT + SALT_BYTES);
  for (let i = 0; i < MAGIC.length; i++) {
    if (header[i] !== MAGIC[i]) return { problem: NOT_A_DUMP, kind: 'not-a-dump', kdf: 0, salt };
  }
  const version = header[VERSION_AT];
  if (version !== VERSION)
    return { problem: `unsupported dump format version ${version} (this version reads ${VERSION})`, kind: 'unsupported-version', kdf: 0, salt };
  const kdf = header[KDF_AT];
  if (kdf === KDF_SCRYPT) {
    const logN = header[LOG_N_AT];
    const params = { N: 2 ** logN, r: view.getUint32(R_AT), p: view.getUint32(P_AT) };
    const problem = scryptProblem(params.N, params.r, params.p);
    if (problem !== undefined)
      return { problem: `unsupported dump header: scrypt parameters out of bounds (${problem})`, kind: 'unsupported-header', kdf, salt };
    return { kdf, scrypt: params, salt };
  }
  if (kdf === KDF_HKDF) {
    if (header[LOG_N_AT] !== 0 || view.getUint32(R_AT) !== 0 || view.getUint32(P_AT) !== 0) {
      return { problem: 'unsupported dump header: scrypt parameters in a header whose key derivation is not scrypt', kind: 'unsupported-header', kdf, salt };
    }
    return { kdf, salt };
  }
  return { problem: `unsupported dump header: unknown key derivation ${kdf}`, kind: 'unsupported-header', kdf, salt };
}

const HKDF_INFO = new TextEncoder().encode('mtproto-authkey dump v1');

/**
 * The dump key: scrypt of the passphrase (`kdf` 1) or HKDF-SHA-256 of the secret (`kdf` 2), with
 * the header's salt. `material` is wiped once scrypt has been handed it (the async form copies it)
 * or the key is made.
 *
 * scrypt runs on libuv's thread pool and cannot be stopped there; when `signal` aborts, this
 * rejects with its reason at once, and the key scrypt makes later is wiped unused.
 */
export async function deriveKey(kdf: number, material: Uint8Array, salt: Uint8Array, params: ScryptCost | undefined, signal?: AbortSignal): Promise<KeyObject> {
  let raw: Uint8Array;
  try {
    signal?.throwIfAborted();
    if (kdf === KDF_SCRYPT) raw = await scryptAbortable(material, salt, params!, signal);
    else raw = new Uint8Array(hkdfSync('sha256', material, salt, HKDF_INFO, 32));
  } finally {
    material.fill(0);
  }
  const key = createSecretKey(raw);
  raw.fill(0);
  return key;
}

/** scrypt's 32 bytes, or the signal's reason as soon as it aborts (the work then ends unseen and its result is wiped). */
function scryptAbortable(material: Uint8Array, salt: Uint8Array, { N, r, p }: ScryptCost, signal: AbortSignal | undefined): Promise<Uint8Array> {
  return new Promise<Uint8Array>((resolve, reject) => {
    let settled = false;
    const onAbort = () => {
      if (settled) return;
      settled = true;
      reject(signal!.reason);
    };
    scrypt(material, salt, 32, { N, r, p, maxmem: SCRYPT_MEMORY_LIMIT + 2 ** 24 }, (error, key) => {
      signal?.removeEventListener('abort', onAbort);
      if (settled) {
        key?.fill(0);
        return;
      }
      settled = true;
      if (error) reject(error);
      else resolve(key);
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The 12-byte GCM nonce of frame `index`: the header's prefix, then the index as u64 BE. */
function nonceOf(header: Uint8Array, index: number): Uint8Array {
  const nonce = new Uint8Array(12);
  nonce.set(header.subarray(PREFIX_AT, PREFIX_AT + PREFIX_BYTES), 0);
  writeU64(nonce, 4, index);
  return nonce;
}

/** Frame indices stay below this; it is the nonce counter of the header check. */
const CHECK_INDEX = Number.MAX_SAFE_INTEGER;

/** The check tag: AES-256-GCM of nothing, nonce prefix ‖ 2**53 - 1, the header before the tag as associated data. */
function checkTag(header: Uint8Array, key: KeyObject): Uint8Array {
  const cipher = createCipheriv('aes-256-gcm', key, nonceOf(header, CHECK_INDEX), { authTagLength: TAG_BYTES });
  cipher.setAAD(header.subarray(0, CHECKED_BYTES));
  cipher.final();
  return cipher.getAuthTag();
}

/** Writes the check tag into `header`. */
export function sealHeader(header: Uint8Array, key: KeyObject): void {
  header.set(checkTag(header, key), CHECKED_BYTES);
}

/** Whether `header`'s check tag is the one `key` makes, compared in constant time. */
export function headerChecks(header: Uint8Array, key: KeyObject): boolean {
  return timingSafeEqual(checkTag(header, key), header.subarray(CHECKED_BYTES, HEADER_BYTES));
}

/** Associated data of frame `index` of type `type`: the whole header, the type, the index as u64 BE. */
function aadOf(header: Uint8Array, type: number, index: number): Uint8Array {
  const aad = new Uint8Array(HEADER_BYTES + 9);
  aad.set(header, 0);
  aad[HEADER_BYTES] = type;
  writeU64(aad, HEADER_BYTES + 1, index);
  return aad;
}

/** Seals `content` (CONTENT_BYTES) as frame `index` of type `type` into `out` at `at`. */
export function sealFrame(header: Uint8Array, key: KeyObject, type: number, index: number, content: Uint8Array, out: Uint8Array, at: number): void {
  const cipher = createCipheriv('aes-256-gcm', key, nonceOf(header, index), { authTagLength: TAG_BYTES });
  cipher.setAAD(aadOf(header, type, index));
  out[at] = type;
  const sealed = cipher.update(content);
  cipher.final();
  out.set(sealed, at + 1);
  out.set(cipher.getAuthTag(), at + 1 + CONTENT_BYTES);
}

/**
 * The content of `frame` (FRAME_BYTES) if it authenticates as frame `index`, else undefined.
 * The caller wipes the content it gets; what a failed frame decrypted to is wiped here.
 */
export function openFrame(header: Uint8Array, key: KeyObject, index: number, frame: Uint8Array): Uint8Array | undefined {
  const type = frame[0];
  const decipher = createDecipheriv('aes-256-gcm', key, nonceOf(header, index), { authTagLength: TAG_BYTES });
  decipher.setAAD(aadOf(header, type, index));
  decipher.setAuthTag(frame.subarray(1 + CONTENT_BYTES, FRAME_BYTES));
  const content = decipher.update(frame.subarray(1, 1 + CONTENT_BYTES));
  try {
    decipher.final();
  } catch {
    content.fill(0);
    return undefined;
  }
  return content;
}

/** Writes `value` (an integer in [0, 2**53)) as u64 BE at `at` of `b`. */
export function writeU64(b: Uint8Array, at: number, value: number): void {
  const hi = Math.floor(value / 2 ** 32);
  const lo = value >>> 0;
  b[at] = hi >>> 24;
  b[at + 1] = (hi >>> 16) & 255;
  b[at + 2] = (hi >>> 8) & 255;
  b[at + 3] = hi & 255;
  b[at + 4] = lo >>> 24;
  b[at + 5] = (lo >>> 16) & 255;
  b[at + 6] = (lo >>> 8) & 255;
  b[at + 7] = lo & 255;
}

/** The u64 BE at `at` of `b` as a number, or -1 if it is 2**53 or more. */
export function readU64(b: Uint8Array, at: number): number {
  const hi = u32be(b, at);
  if (hi >= 2 ** 21) return -1;
  return hi * 2 ** 32 + u32be(b, at + 4);
}
