import { DIGEST_BYTES, KEY_BYTES, KEY_LIMIT } from './sizes.js';
import { engine } from './engine.js';
import { DIGEST_AT, ID_AT, RECORD_BYTES, arena, sameKey } from './records.js';
import { type IdHalves, idHex, u32be } from './ids.js';
import { bytesLength, checkBytes, describe } from './validate.js';
import * as message from './message.js';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** Token for the internal constructor path that adopts a record already hashed. */
export const ADOPT: unique symbol = Symbol('AuthKey.adopt');

// The id and aux hash are read as big-endian u64s through a DataView of the record's page: one
// bigint made, no bytes copied. Keys made one after another share a page, so the last page's view
// is kept and nearly every read reuses it.
let viewed: Uint8Array | undefined;
let view: DataView | undefined;

function readU64(data: Uint8Array, at: number): bigint {
  if (data !== viewed) {
    view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    viewed = data;
  }
  return view!.getBigUint64(at);
}

/**
 * Whether the record at `at` of `data` holds the all-zero key. SHA-1 of 256 zero bytes begins
 * b376885a; only a key whose digest begins so needs the full look, so the common case costs four
 * compares.
 */
function isZeroKey(data: Uint8Array, at: number): boolean {
  const d = at + DIGEST_AT;
  if (data[d] !== 0xb3 || data[d + 1] !== 0x76 || data[d + 2] !== 0x88 || data[d + 3] !== 0x5a) return false;
  let or = 0;
  for (let i = at; i < at + KEY_BYTES; i++) or |= data[i];
  return or === 0;
}

const ZERO_KEY = 'auth key: expected a value in [1, 2**2048), got 0 (256 zero bytes)';

/**
 * The error `new AuthKey(value)` throws for a value it refuses, or undefined if it takes it (as
 * far as can be told without hashing: the all-zero key is found after). Reads nothing the caller
 * defined: a bigint is a primitive, and bytes are judged by the intrinsic getters (validate.ts).
 */
function refusal(value: unknown): Error | undefined {
  if (typeof value === 'bigint') {
    if (value >= 1n && value < KEY_LIMIT) return undefined;
    return new RangeError(
      `auth key: expected a bigint in [1, 2**2048), got ${value < 1n ? (value === 0n ? '0' : 'a negative value') : `a value of ${value.toString(2).length} bits`}`,
    );
  }
  const n = bytesLength(value);
  if (n === KEY_BYTES) return undefined;
  if (n < 0) return new TypeError(`auth key: expected a bigint or a Uint8Array of ${KEY_BYTES} bytes, got ${describe(value)}`);
  return new RangeError(`auth key: expected ${KEY_BYTES} bytes, got ${n}`);
}

/** `error` with its message prefixed by the index of the element of `AuthKey.many` it is about. */
function atIndex(i: number, error: Error): Error {
  error.message = `AuthKey.many element ${i}: ${error.message}`;
  return error;
}

/**
 * An MTProto authorization key: a 2048-bit number, its SHA-1 and the values derived from it
 * (auth_key_id, aux_hash). Immutable: hashed once at construction, and every byte array it
 * returns is a fresh copy. Its string forms show the id only, never key material.
 *
 * @example
 * const key = new AuthKey(bytes256);      // or new AuthKey(2048-bit bigint)
 * key.id;       // 64 lower-order bits of SHA-1(key), a bigint
 * key.idBytes;  // the same 8 bytes as they appear at the start of an encrypted packet
 */
export class AuthKey {
  // Key bytes at [#at, #at + 256) of #data, digest right after; see records.ts. Not readonly
  // only so that `relocate` can move where they live; the bytes themselves never change.
  #data: Uint8Array;
  #at: number;
  #value: bigint | undefined;

  /**
   * @param value the key as a `bigint` in [1, 2**2048), or as exactly 256 big-endian bytes
   *   (copied; later changes to the caller's array do not reach the key)
   * @throws TypeError if `value` is neither a bigint nor a Uint8Array
   * @throws RangeError if the bigint is out of range, the bytes are not 256, or the key is zero
   */
  constructor(value: bigint | Uint8Array);
  /** @internal adopts a record that is already hashed and not written again while this key points at it (a store that reuses it calls `relocate` first) */
  constructor(value: typeof ADOPT, data: Uint8Array, at: number);
  constructor(value: bigint | Uint8Array | typeof ADOPT, data?: Uint8Array, at?: number) {
    if (value === ADOPT) {
      this.#data = data!;
      this.#at = at!;
      return;
    }
    const refused = refusal(value);
    if (refused !== undefined) throw refused;
    const slot = arena.take();
    const page = arena.page;
    if (typeof value === 'bigint') {
      engine.keyFromBigint(value, page, slot);
      this.#value = value;
    } else {
      // Copied once into the core, hashed there, and the record (key, digest) copied out.
      engine.keyRecord(value, page, slot);
      if (isZeroKey(page, slot)) throw new RangeError(ZERO_KEY);
    }
    this.#data = page;
    this.#at = slot;
  }

  /**
   * A key from its hexadecimal form (`0x` prefix optional, at most 512 digits, case-insensitive).
   * @throws TypeError if `hex` is not a string
   * @throws RangeError if it is empty, not hexadecimal, longer than 512 digits, or zero
   */
  static fromHex(hex: string): AuthKey {
    if (typeof hex !== 'string') throw new TypeError(`AuthKey.fromHex: expected a string, got ${describe(hex)}`);
    const digits = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex;
    if (digits.length === 0 || digits.length > 2 * KEY_BYTES || !/^[0-9a-fA-F]+$/.test(digits)) {
      throw new RangeError(
        `AuthKey.fromHex: expected 1 to 512 hexadecimal digits, got ${digits.length} characters${/^[0-9a-fA-F]*$/.test(digits) ? '' : ' with non-hex characters'}`,
      );
    }
    return new AuthKey(BigInt('0x' + digits));
  }

  /**
   * Many keys at once, hashed in batches (four per SIMD pass): for bulk imports at start-up.
   * The array is read once (its length, then each element) before anything is checked or used.
   * @param values keys as bigints or 256-byte arrays, as `new AuthKey` takes them
   * @returns the keys, in order
   * @throws TypeError if `values` is not an array, or as `new AuthKey` for an element (with its index)
   * @throws RangeError as `new AuthKey` for an element (with its index); nothing is returned then
   */
  static many(values: ReadonlyArray<bigint | Uint8Array>): AuthKey[] {
    if (!Array.isArray(values)) throw new TypeError(`AuthKey.many: expected an array of keys, got ${describe(values)}`);
    // The caller's array is read once, length then each element, into an array of ours: a Proxy
    // or an element getter cannot hand one value to the checks and another to the copy.
    const n: unknown = values.length;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      throw new TypeError(`AuthKey.many: expected an array of keys, got an array whose length reads as ${typeof n === 'number' ? n : describe(n)}`);
    }
    const list: unknown[] = [];
    for (let i = 0; i < n; i++) list.push(values[i]);
    // Chunks of records: each checked, staged in the core, hashed in one call (four keys per SIMD
    // pass), and copied out into a page of its own, which its keys share. A page per chunk bounds
    // what one held key keeps alive (70 KB) and costs one allocation per 256 keys; checking a chunk
    // just before using it keeps its arrays in cache. A bad element stops the call with its index
    // before its chunk is staged, and the pages made so far are wiped: nothing is returned.
    const per = engine.recordsPerCall;
    const keys: AuthKey[] = [];
    const pages: Uint8Array[] = [];
    const fail = (error: Error): Error => {
      for (const p of pages) p.fill(0);
      return error;
    };
    for (let from = 0; from < n; from += per) {
      const count = Math.min(per, n - from);
      for (let i = from; i < from + count; i++) {
        const refused = refusal(list[i]);
        if (refused !== undefined) throw fail(atIndex(i, refused));
      }
      const page = new Uint8Array(count * RECORD_BYTES);
      pages.push(page);
      engine.recordsInto(list as ReadonlyArray<bigint | Uint8Array>, from, count, page, 0);
      for (let j = 0; j < count; j++) {
        const at = j * RECORD_BYTES;
        if (isZeroKey(page, at)) throw fail(atIndex(from + j, new RangeError(ZERO_KEY)));
        keys.push(new AuthKey(ADOPT, page, at));
      }
    }
    return keys;
  }

  /**
   * @internal whether `value` is an AuthKey made by this class. A Proxy of one is not: its
   * private fields cannot be reached through the Proxy.
   */
  static isAuthKey(value: unknown): value is AuthKey {
    return typeof value === 'object' && value !== null && #data in value;
  }

  /** The key as a 2048-bit number (computed on first use when the key was made from bytes). */
  get value(): bigint {
    return (this.#value ??= engine.keyToBigint(this.#data, this.#at));
  }

  /** The 256 big-endian key bytes, a fresh copy. */
  get bytes(): Uint8Array {
    return this.#data.slice(this.#at, this.#at + KEY_BYTES);
  }

  /** SHA-1 of the 256 key bytes, as a 160-bit big-endian integer. */
  get hash(): bigint {
    const d = this.#at + DIGEST_AT;
    // bytes 0..7, 8..15 and 16..19 of the digest, most significant first.
    return (readU64(this.#data, d) << 96n) | (readU64(this.#data, d + 8) << 32n) | (readU64(this.#data, d + 12) & 0xffffffffn);
  }

  /** auth_key_id: the 64 lower-order bits of `hash` (digest bytes 12..19 read big-endian). */
  get id(): bigint {
    return readU64(this.#data, this.#at + ID_AT);
  }

  /** aux_hash: the 64 higher-order bits of `hash` (digest bytes 0..7 read big-endian). */
  get auxHash(): bigint {
    return readU64(this.#data, this.#at + DIGEST_AT);
  }

  /** The 20-byte SHA-1 digest of the key, a fresh copy. */
  get hashBytes(): Uint8Array {
    const d = this.#at + DIGEST_AT;
    return this.#data.slice(d, d + DIGEST_BYTES);
  }

  /** The 8 auth_key_id bytes exactly as a client writes them at the start of an encrypted packet. */
  get idBytes(): Uint8Array {
    return this.#data.slice(this.#at + ID_AT, this.#at + ID_AT + 8);
  }

  /** The 8 aux_hash bytes (digest bytes 0..7), as appended to new_nonce in the handshake. */
  get auxHashBytes(): Uint8Array {
    const d = this.#at + DIGEST_AT;
    return this.#data.slice(d, d + 8);
  }

  /**
   * new_nonce_hash1/2/3 of the MTProto handshake (dh_gen_ok, dh_gen_retry, dh_gen_fail): the 128
   * lower-order bits of SHA-1(new_nonce ‖ byte n ‖ aux_hash).
   * @param newNonce the 32-byte new_nonce
   * @param n 1 for dh_gen_ok, 2 for dh_gen_retry, 3 for dh_gen_fail
   * @returns 16 bytes
   * @throws TypeError if `newNonce` is not a Uint8Array or `n` not a number
   * @throws RangeError if `newNonce` is not 32 bytes or `n` is not 1, 2 or 3
   */
  calcNewNonceHash(newNonce: Uint8Array, n: 1 | 2 | 3): Uint8Array {
    checkBytes(newNonce, 'calcNewNonceHash newNonce', 32);
    if (typeof n !== 'number') throw new TypeError(`calcNewNonceHash n: expected 1, 2 or 3, got ${describe(n)}`);
    if (n !== 1 && n !== 2 && n !== 3) throw new RangeError(`calcNewNonceHash n: expected 1, 2 or 3, got ${n}`);
    const input = new Uint8Array(41);
    input.set(newNonce, 0);
    input[32] = n;
    const d = this.#at + DIGEST_AT;
    input.set(this.#data.subarray(d, d + 8), 33);
    const digest = engine.sha1(input);
    input.fill(0);
    return digest.slice(4);
  }

  /**
   * msg_key of an MTProto 2.0 message (https://core.telegram.org/mtproto/description): bytes
   * 8..23 of SHA-256(substr(auth_key, 88 + x, 32) ‖ plaintext ‖ padding), x = 0 for a message
   * the client sends and 8 for one the server sends. For callers who frame messages themselves;
   * `encryptMessage` and `decryptMessage` do it all.
   * @param plaintextWithPadding the plaintext (from the salt on) followed by its padding
   * @param sender who sends the message: 'client' or 'server'
   * @returns 16 new bytes
   * @throws TypeError if `plaintextWithPadding` is not a Uint8Array or `sender` not a string
   * @throws RangeError if `sender` is neither 'client' nor 'server'
   */
  messageKey(plaintextWithPadding: Uint8Array, sender: message.MessageSender): Uint8Array {
    return message.messageKey(this.#data, this.#at, plaintextWithPadding, sender);
  }

  /**
   * The AES-256-IGE key and IV of an MTProto 2.0 message with this `msgKey`: from
   * sha256_a = SHA-256(msg_key ‖ substr(auth_key, x, 36)) and
   * sha256_b = SHA-256(substr(auth_key, 40 + x, 36) ‖ msg_key). They are secret: zero them when done.
   * @param msgKey the 16-byte msg_key
   * @param sender who sends the message: 'client' or 'server'
   * @returns `{ key, iv }`, 32 new bytes each
   * @throws TypeError if `msgKey` is not a Uint8Array or `sender` not a string
   * @throws RangeError if `msgKey` is not 16 bytes or `sender` is neither 'client' nor 'server'
   */
  aesKeyIv(
    msgKey: Uint8Array,
    sender: message.MessageSender,
  ): {
    /** The 32-byte AES-256 key. */
    key: Uint8Array;
    /** The 32-byte IGE initialisation vector. */
    iv: Uint8Array;
  } {
    return message.aesKeyIv(this.#data, this.#at, msgKey, sender);
  }

  /**
   * Encrypts an MTProto 2.0 message: `auth_key_id (8) ‖ msg_key (16) ‖ AES-256-IGE(data ‖ padding)`,
   * with random padding (Web Crypto `getRandomValues`) of 12 to 27 bytes by default, making the
   * encrypted part a multiple of 16 bytes.
   * @param data the plaintext: salt (8) ‖ session_id (8) ‖ msg_id (8) ‖ seq_no (4) ‖
   *   message_data_length (4, little-endian) ‖ message_data; its length must be 32 plus
   *   message_data_length, a multiple of 4 (so that `decryptMessage` takes the packet)
   * @param sender who sends the message: 'client' or 'server'
   * @param options `padding`: the least padding in bytes, an integer in [12, 1024] (default 12);
   *   the padding is the smallest length at least that making the total a multiple of 16
   * @returns the packet, a new array
   * @throws TypeError if `data` is not a Uint8Array, `sender` not a string, `options` not an
   *   object or `options.padding` not a number
   * @throws RangeError if `data` is shorter than 32 bytes, not a multiple of 4 or its
   *   message_data_length disagrees with its length, if `sender` is neither 'client' nor 'server',
   *   or if `options.padding` is not an integer in [12, 1024] or would need more than 1024 bytes
   */
  encryptMessage(data: Uint8Array, sender: message.MessageSender, options?: message.EncryptMessageOptions): Uint8Array {
    return message.encryptMessage(this.#data, this.#at, data, sender, options);
  }

  /**
   * Decrypts an MTProto 2.0 packet sent by `sender` with this key, checked as
   * https://core.telegram.org/mtproto/security_guidelines asks: the packet starts with this key's
   * id, its length is at least 72 bytes and 24 plus a multiple of 16, the msg_key matches the
   * decrypted message (compared in constant time), message_data_length is a multiple of 4 and
   * leaves 12 to 1024 bytes of padding.
   * @param packet `auth_key_id (8) ‖ msg_key (16) ‖ encrypted data`
   * @param sender who sent the packet: 'client' or 'server'
   * @returns the plaintext from the salt to the end of message_data, without padding, a new array
   * @throws MessageRejected if any check fails: one message for every cause, and nothing decrypted kept
   * @throws TypeError if `packet` is not a Uint8Array or `sender` not a string
   * @throws RangeError if `sender` is neither 'client' nor 'server'
   */
  decryptMessage(packet: Uint8Array, sender: message.MessageSender): Uint8Array {
    return message.decryptMessage(this.#data, this.#at, packet, sender);
  }

  /**
   * Whether `other` is the same key, in time that does not depend on where the bytes differ.
   * @throws TypeError if `other` is not an AuthKey
   */
  equals(other: AuthKey): boolean {
    if (!AuthKey.isAuthKey(other)) throw new TypeError(`AuthKey.equals: expected an AuthKey, got ${describe(other)}`);
    return sameKey(this.#data, this.#at, other.#data, other.#at);
  }

  /** `AuthKey(id=0x…)`: the id only; the key itself is secret. */
  toString(): string {
    return `AuthKey(id=0x${this.#idHex()})`;
  }

  /** `{ "id": "0x…" }`: the id only; the key itself is secret. */
  toJSON(): {
    /** The auth_key_id as `0x` and 16 lowercase hex digits. */
    id: string;
  } {
    return { id: `0x${this.#idHex()}` };
  }

  /** What `util.inspect` and `console.log` show: `toString()`, so the key never reaches a log. */
  [INSPECT](): string {
    return this.toString();
  }

  #idHex(): string {
    const { hi, lo } = AuthKey.idHalvesOf(this);
    return idHex(hi, lo);
  }

  /** @internal the id of `key` as its two 32-bit halves (no bigint made). */
  static idHalvesOf(key: AuthKey): IdHalves {
    const at = key.#at + ID_AT;
    return { hi: u32be(key.#data, at), lo: u32be(key.#data, at + 4) };
  }

  /**
   * @internal points `key` at another copy of its own record: `data` at `at` must hold exactly the
   * bytes it has now. The key's value never changes, only where its bytes live, so the key stays
   * immutable to its users. A store whose pages keys point into calls this before it zeroes or
   * reuses a record (it hands the key a copy of its own) and when it moves a record.
   */
  static relocate(key: AuthKey, data: Uint8Array, at: number): void {
    key.#data = data;
    key.#at = at;
  }

  /** @internal the record (key bytes then digest) of `key`: its page and offset. */
  static recordOf(key: AuthKey): { data: Uint8Array; at: number } {
    return { data: key.#data, at: key.#at };
  }
}
