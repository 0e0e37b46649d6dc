/**
 * MTProto 2.0 message encryption (https://core.telegram.org/mtproto/description, "Defining AES
 * Key and Initialization Vector"), given an auth key's record: its 256 key bytes at `at` of
 * `rec` and its auth_key_id at `at + ID_AT` (records.ts). The AuthKey methods and the managers'
 * decryptPacket delegate here; this module never sees an AuthKey, so it imports nothing above it.
 *
 * x = 0 for a message the client sends, 8 for one the server sends:
 *   msg_key_large = SHA256(substr(auth_key, 88 + x, 32) ‖ plaintext ‖ random_padding)
 *   msg_key = substr(msg_key_large, 8, 16)
 *   sha256_a = SHA256(msg_key ‖ substr(auth_key, x, 36))
 *   sha256_b = SHA256(substr(auth_key, 40 + x, 36) ‖ msg_key)
 *   aes_key = substr(sha256_a, 0, 8) ‖ substr(sha256_b, 8, 16) ‖ substr(sha256_a, 24, 8)
 *   aes_iv = substr(sha256_b, 0, 8) ‖ substr(sha256_a, 8, 16) ‖ substr(sha256_b, 24, 8)
 *   packet = auth_key_id ‖ msg_key ‖ AES-256-IGE(aes_key, aes_iv, plaintext ‖ padding)
 * with 12 to 1024 bytes of padding making the encrypted part a multiple of 16 bytes. msg_key is
 * hashed over its two parts in place (sha256.ts's sha256Pair, by the faster route for the
 * length): the message is never concatenated with a key slice. sha256_a and sha256_b, one block
 * each, the key and IV assembly and the AES pass run in the WebAssembly core with the key and IV
 * kept in its memory (wasm.ts's messageAes). A packet whose msg_key input is short enough for
 * the core's SHA-256 route is decrypted and checked wholly in the core (wasm.ts's openMessage):
 * the plaintext leaves it only as the accepted data. Most of a short message's cost is fixed
 * (calls into the core, allocations), so each step saved there was measured side by side.
 * Derived keys, IVs and every plaintext copy of ours are zeroed before a call returns or throws.
 * @internal
 */
import { aes256IgeEncrypt, aesEncryptRoute } from './aes.js';
import { MessageRejected } from './errors.js';
import { ID_AT } from './records.js';
import { sha256InCore, sha256Pair, sha256Whole } from './sha256.js';
import { engine } from './engine.js';
import { checkBytes, describe, plainBytes } from './validate.js';

/** Who sends the message: it picks x (0 for the client, 8 for the server). */
export type MessageSender = 'client' | 'server';

/** Options of `encryptMessage`. */
export interface EncryptMessageOptions {
  /**
   * The least padding, in bytes: an integer in [12, 1024], default 12. The padding used is the
   * smallest number of bytes at least this large that makes `data` plus padding a multiple of 16
   * (so at most 15 more); ask for more to hide the length of short messages. A RangeError if
   * that exceeds 1024.
   */
  padding?: number;
}

/** Bytes of the header before message_data: salt, session_id, msg_id, seq_no, message_data_length. */
export const HEADER_BYTES = 32;
/** Least padding bytes of an MTProto 2.0 message. */
export const MIN_PADDING = 12;
/** Most padding bytes of an MTProto 2.0 message. */
export const MAX_PADDING = 1024;
/** auth_key_id (8) and msg_key (16) before the encrypted data. */
const PREFIX_BYTES = 24;
/** The shortest packet: the prefix, the header, then padding making the encrypted part 48 bytes. */
const MIN_PACKET = PREFIX_BYTES + 48;

// Random padding comes from a pool refilled by one Web Crypto call per POOL_BYTES: a
// getRandomValues call measured about 4 µs in Node 20 whatever its size up to a few KiB (most of
// it argument conversion), against under 2 µs for the AES of a 64-byte message. Each slice is
// zeroed in the pool as it is handed out, so no byte is used twice or kept after use.
const POOL_BYTES = 4096;
const pool = new Uint8Array(POOL_BYTES);
let poolAt = POOL_BYTES;

/** Refills the whole pool with fresh random bytes. */
function refillPool(): void {
  // Web Crypto: a global in Node 20, Deno, Bun and browsers; 4096 bytes is under its 65536 limit.
  crypto.getRandomValues(pool);
  poolAt = 0;
}

/** Fills `out` (at most POOL_BYTES) with random bytes from the pool. */
function randomInto(out: Uint8Array): void {
  const n = out.length;
  if (poolAt + n > POOL_BYTES) refillPool();
  out.set(pool.subarray(poolAt, poolAt + n));
  pool.fill(0, poolAt, poolAt + n);
  poolAt += n;
}

/**
 * x of `sender`: 0 for 'client', 8 for 'server'.
 * @throws TypeError if `sender` is not a string
 * @throws RangeError if it is another string
 */
export function senderX(sender: unknown, what: string): number {
  if (sender === 'client') return 0;
  if (sender === 'server') return 8;
  if (typeof sender !== 'string') throw new TypeError(`${what} sender: expected 'client' or 'server', got ${describe(sender)}`);
  throw new RangeError(`${what} sender: expected 'client' or 'server', got ${JSON.stringify(sender.slice(0, 32))}${sender.length > 32 ? '…' : ''}`);
}

// Scratch for the msg_key digests: module-level (every call is synchronous) and zeroed before each
// call returns or throws, so none is allocated per message and none keeps a byte.
const digest = new Uint8Array(32);
const check = new Uint8Array(16);

/** Writes the 16-byte msg_key of `msg[0, len)` (plaintext and padding) into `out` at `outAt`. */
function msgKeyInto(rec: Uint8Array, at: number, x: number, msg: Uint8Array, len: number, scratch: Uint8Array, out: Uint8Array, outAt: number): void {
  sha256Pair(rec, at + 88 + x, 32, msg, 0, len, scratch, 0);
  out.set(scratch.subarray(8, 24), outAt);
  scratch.fill(0, 0, 32);
}

/** Bytes of the auth key slice that msg_key hashes before the message. */
const KEY_SLICE = 32;

/**
 * Writes the 16-byte msg_key of `buf[KEY_SLICE, end)` (plaintext and padding, a buffer of ours)
 * into `out` at `outAt`, after writing substr(auth_key, 88 + x, 32) into `buf[0, KEY_SLICE)`:
 * the hash then reads one buffer (sha256Whole). The caller zeroes `buf`.
 */
function msgKeyOfPrefixed(rec: Uint8Array, at: number, x: number, buf: Uint8Array, out: Uint8Array, outAt: number): void {
  const k = at + 88 + x;
  for (let i = 0; i < KEY_SLICE; i++) buf[i] = rec[k + i];
  try {
    sha256Whole(buf, buf.length, digest, 0);
    for (let i = 0; i < 16; i++) out[outAt + i] = digest[8 + i];
  } finally {
    digest.fill(0);
  }
}

/**
 * Writes aes_key (32 bytes) then aes_iv (32 bytes) for the msg_key at `mk[mkAt, mkAt + 16)` into
 * `out` (64 bytes).
 */
function keyIvInto(rec: Uint8Array, at: number, x: number, mk: Uint8Array, mkAt: number, out: Uint8Array): void {
  // Two one-block hashes (52 bytes each): the WebAssembly core is the faster route for both (see
  // sha256.ts), and one call does both and the assembly, leaving nothing derived in its memory.
  engine.sha256KeyIv(rec, at, x, mk, mkAt, out, 0);
}

/**
 * msg_key of `plaintextWithPadding` (any length) sent by `sender`, with the key at `at` of `rec`.
 * @returns 16 new bytes
 * @throws TypeError / RangeError for a bad argument
 */
export function messageKey(rec: Uint8Array, at: number, plaintextWithPadding: Uint8Array, sender: MessageSender): Uint8Array {
  const n = checkBytes(plaintextWithPadding, 'messageKey plaintextWithPadding');
  const x = senderX(sender, 'messageKey');
  const out = new Uint8Array(16);
  msgKeyInto(rec, at, x, plainBytes(plaintextWithPadding, n), n, new Uint8Array(32), out, 0);
  return out;
}

/**
 * aes_key and aes_iv for `msgKey` (16 bytes) of a message sent by `sender`.
 * @returns two new 32-byte arrays
 * @throws TypeError / RangeError for a bad argument
 */
export function aesKeyIv(rec: Uint8Array, at: number, msgKey: Uint8Array, sender: MessageSender): { key: Uint8Array; iv: Uint8Array } {
  checkBytes(msgKey, 'aesKeyIv msgKey', 16);
  const x = senderX(sender, 'aesKeyIv');
  const both = new Uint8Array(64);
  keyIvInto(rec, at, x, plainBytes(msgKey, 16), 0, both);
  // Two arrays on buffers of their own: neither gives the other away through `.buffer`.
  const key = both.slice(0, 32);
  const iv = both.slice(32, 64);
  both.fill(0);
  return { key, iv };
}

/** The padding length for `n` data bytes and a least padding `least`, or -1 if above 1024. */
function paddingFor(n: number, least: number): number {
  const p = least + ((16 - ((n + least) % 16)) % 16);
  return p <= MAX_PADDING ? p : -1;
}

/** `options.padding` read once and checked: the least padding. */
function leastPadding(options: unknown): number {
  if (options === undefined) return MIN_PADDING;
  if (options === null || typeof options !== 'object') throw new TypeError(`encryptMessage options: expected an object, got ${describe(options)}`);
  const padding: unknown = (options as EncryptMessageOptions).padding;
  if (padding === undefined) return MIN_PADDING;
  if (typeof padding !== 'number')
    throw new TypeError(`encryptMessage options.padding: expected a number of bytes in [${MIN_PADDING}, ${MAX_PADDING}], got ${describe(padding)}`);
  if (!Number.isInteger(padding) || padding < MIN_PADDING || padding > MAX_PADDING) {
    throw new RangeError(`encryptMessage options.padding: expected an integer in [${MIN_PADDING}, ${MAX_PADDING}], got ${padding}`);
  }
  return padding;
}

/**
 * Checks `data` (its intrinsic length `n`) as the plaintext of a message: at least the 32-byte
 * header, a multiple of 4 bytes (TL serializes in 4-byte words), and message_data_length (bytes
 * 28..31, little-endian) equal to the bytes after the header. A message our own decryptMessage
 * would reject is refused here instead of being sent.
 */
function checkPlaintext(data: Uint8Array, n: number): void {
  if (n < HEADER_BYTES || n % 4 !== 0) {
    throw new RangeError(
      `encryptMessage data: expected salt, session_id, msg_id, seq_no, message_data_length and message_data, a multiple of 4 bytes and at least ${HEADER_BYTES}, got ${n}`,
    );
  }
  const len = (data[28] | (data[29] << 8) | (data[30] << 16) | (data[31] << 24)) >>> 0;
  if (len !== n - HEADER_BYTES) {
    throw new RangeError(
      `encryptMessage data: expected message_data_length (bytes 28..31, little-endian) to be the ${n - HEADER_BYTES} bytes after the header, got ${len}`,
    );
  }
}

/**
 * The packet of `data` sent by `sender`, padded with random bytes (Web Crypto getRandomValues).
 * @throws TypeError / RangeError for a bad argument
 */
export function encryptMessage(rec: Uint8Array, at: number, data: Uint8Array, sender: MessageSender, options?: EncryptMessageOptions): Uint8Array {
  const n = checkBytes(data, 'encryptMessage data');
  const x = senderX(sender, 'encryptMessage');
  const least = leastPadding(options);
  const src = plainBytes(data, n);
  checkPlaintext(src, n);
  const p = paddingFor(n, least);
  if (p < 0)
    throw new RangeError(
      `encryptMessage options.padding: expected at most ${MAX_PADDING} bytes of padding, got ${least} rounded up to ${least + ((16 - ((n + least) % 16)) % 16)} for ${n} bytes of data`,
    );
  if (sealsInCore(n + p)) {
    // The padding goes from the pool straight into the core, and is zeroed in the pool after.
    if (poolAt + p > POOL_BYTES) refillPool();
    const padAt = poolAt;
    poolAt += p;
    try {
      return sealInCore(rec, at, x, src, n, pool, padAt, p);
    } finally {
      pool.fill(0, padAt, padAt + p);
    }
  }
  const msg = new Uint8Array(KEY_SLICE + n + p);
  msg.set(src, KEY_SLICE);
  randomInto(msg.subarray(KEY_SLICE + n));
  return seal(rec, at, x, msg);
}

/**
 * @internal the packet of `data` sent by `sender` with exactly these `padding` bytes (12..1024,
 * data plus padding a multiple of 16), for tests that re-encrypt another library's messages.
 * @throws TypeError / RangeError for a bad argument
 */
export function encryptMessageWithPadding(rec: Uint8Array, at: number, data: Uint8Array, sender: MessageSender, padding: Uint8Array): Uint8Array {
  const n = checkBytes(data, 'encryptMessage data');
  const x = senderX(sender, 'encryptMessage');
  const p = checkBytes(padding, 'encryptMessage padding');
  checkPlaintext(plainBytes(data, n), n);
  if (p < MIN_PADDING || p > MAX_PADDING || (n + p) % 16 !== 0)
    throw new RangeError(`encryptMessage padding: expected 12..1024 bytes making a multiple of 16, got ${p}`);
  if (sealsInCore(n + p)) return sealInCore(rec, at, x, plainBytes(data, n), n, plainBytes(padding, p), 0, p);
  const msg = new Uint8Array(KEY_SLICE + n + p);
  msg.set(plainBytes(data, n), KEY_SLICE);
  msg.set(plainBytes(padding, p), KEY_SLICE + n);
  return seal(rec, at, x, msg);
}

/**
 * Whether a message of `len` bytes (plaintext and padding) is encrypted wholly in the core: AES
 * by the core's route, the msg_key hash fused there (sha256.ts's sha256InCore), and both within
 * one staging (wasm.ts's openFits).
 */
function sealsInCore(len: number): boolean {
  return aesEncryptRoute(len) === 'wasm' && sha256InCore(KEY_SLICE + len) && engine.openFits(len);
}

/** The packet of `data[0, n)` and padding `pad[padAt, padAt + p)`, encrypted wholly in the core. */
function sealInCore(rec: Uint8Array, at: number, x: number, data: Uint8Array, n: number, pad: Uint8Array, padAt: number, p: number): Uint8Array {
  const packet = new Uint8Array(PREFIX_BYTES + n + p);
  for (let i = 0; i < 8; i++) packet[i] = rec[at + ID_AT + i];
  engine.sealMessage(rec, at, x, data, n, pad, padAt, p, packet);
  return packet;
}

/**
 * Encrypts `msg` (ours: KEY_SLICE free bytes, then plaintext and padding) into a packet; zeroes
 * `msg` and everything derived.
 */
function seal(rec: Uint8Array, at: number, x: number, msg: Uint8Array): Uint8Array {
  const len = msg.length - KEY_SLICE;
  // auth_key_id ‖ msg_key written straight into the packet, the ciphertext after them.
  const packet = new Uint8Array(PREFIX_BYTES + len);
  try {
    for (let i = 0; i < 8; i++) packet[i] = rec[at + ID_AT + i];
    msgKeyOfPrefixed(rec, at, x, msg, packet, 8);
    if (aesEncryptRoute(len) === 'wasm') {
      // Key, IV and AES in one pass through the core: the derived bytes never reach JavaScript.
      engine.messageAes(rec, at, x, packet, 8, msg, KEY_SLICE, len, false, packet, PREFIX_BYTES);
    } else {
      const keyIv = new Uint8Array(64);
      try {
        keyIvInto(rec, at, x, packet, 8, keyIv);
        const encrypted = aes256IgeEncrypt(msg.subarray(KEY_SLICE), keyIv.subarray(0, 32), keyIv.subarray(32, 64));
        packet.set(encrypted, PREFIX_BYTES);
        encrypted.fill(0); // ciphertext, not secret, but no copy of ours is left behind
      } finally {
        keyIv.fill(0);
      }
    }
    return packet;
  } finally {
    msg.fill(0);
  }
}

/**
 * `data` of the packet sent by `sender`, checked per https://core.telegram.org/mtproto/security_guidelines.
 * @returns the plaintext from the salt to the end of message_data, a new array
 * @throws MessageRejected, with one message, for any packet that is not a valid message
 * @throws TypeError / RangeError for a bad argument (not a Uint8Array, a bad sender)
 */
export function decryptMessage(rec: Uint8Array, at: number, packet: Uint8Array, sender: MessageSender): Uint8Array {
  const n = checkBytes(packet, 'decryptMessage packet');
  const x = senderX(sender, 'decryptMessage');
  // Checks on public bytes (the length, the id) may stop early: they say nothing of the key.
  if (n < MIN_PACKET || (n - PREFIX_BYTES) % 16 !== 0) throw new MessageRejected();
  const src = plainBytes(packet, n);
  for (let i = 0; i < 8; i++) if (src[i] !== rec[at + ID_AT + i]) throw new MessageRejected();
  const len = n - PREFIX_BYTES;
  if (sha256InCore(32 + len) && engine.openFits(len)) {
    // Short packets (the common case): AES and the msg_key hash both in the core, the plaintext
    // never copied out before the checks pass (wasm.ts's openMessage, same checks as below).
    const data = engine.openMessage(rec, at, x, src);
    if (data === null) throw new MessageRejected();
    return data;
  }
  // Key slice ‖ plaintext in one buffer of ours: the msg_key hash reads it whole (sha256Whole).
  const buf = new Uint8Array(KEY_SLICE + len);
  try {
    engine.messageAes(rec, at, x, src, 8, src, PREFIX_BYTES, len, true, buf, KEY_SLICE);
    // The recomputed msg_key, compared in constant time, and the length checks, all evaluated
    // before any is acted on: the outcome is one bit, taken at the end.
    msgKeyOfPrefixed(rec, at, x, buf, check, 0);
    let diff = 0;
    for (let i = 0; i < 16; i++) diff |= check[i] ^ src[8 + i];
    const p = KEY_SLICE;
    const dataLen = (buf[p + 28] | (buf[p + 29] << 8) | (buf[p + 30] << 16) | (buf[p + 31] << 24)) >>> 0;
    const padding = len - HEADER_BYTES - dataLen;
    const ok = (diff === 0 ? 1 : 0) & (dataLen % 4 === 0 ? 1 : 0) & (padding >= MIN_PADDING ? 1 : 0) & (padding <= MAX_PADDING ? 1 : 0);
    if (ok !== 1) throw new MessageRejected();
    return buf.slice(KEY_SLICE, KEY_SLICE + HEADER_BYTES + dataLen);
  } finally {
    buf.fill(0);
    check.fill(0);
  }
}
