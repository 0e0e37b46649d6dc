import { DIGEST_BYTES, KEY_BYTES, engine } from './wasm.js';
import { DIGEST_AT, ID_AT, RECORD_BYTES, arena, sameKey } from './records.js';
import { type IdHalves, idHex, u32be } from './ids.js';
import { checkBytes, describe } from './validate.js';

/** 2**2048: auth keys are below it. */
const KEY_LIMIT = 1n << 2048n;
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** Token for the internal constructor path that adopts a record already hashed. */
export const ADOPT: unique symbol = Symbol('AuthKey.adopt');

// Eight bytes are copied here and read as one big-endian u64: one bigint made, not three.
const scratch = new Uint8Array(8);
const scratchView = new DataView(scratch.buffer);

function readU64(data: Uint8Array, at: number): bigint {
  for (let i = 0; i < 8; i++) scratch[i] = data[at + i];
  return scratchView.getBigUint64(0);
}

/**
 * Rejects an all-zero key. SHA-1 of 256 zero bytes begins b376885a; only a key whose digest
 * begins so needs the full look, so the common case costs four compares.
 */
function checkNotZero(data: Uint8Array, at: number): void {
  const d = at + DIGEST_AT;
  if (data[d] !== 0xb3 || data[d + 1] !== 0x76 || data[d + 2] !== 0x88 || data[d + 3] !== 0x5a) return;
  let or = 0;
  for (let i = at; i < at + KEY_BYTES; i++) or |= data[i];
  if (or === 0) throw new RangeError('auth key: expected a value in [1, 2**2048), got 0 (256 zero bytes)');
}

/** Runs `check`, naming element `i` of `AuthKey.many` in the message of what it throws. */
function atIndex(i: number, check: () => unknown): void {
  try {
    check();
  } catch (e) {
    (e as Error).message = `AuthKey.many element ${i}: ${(e as Error).message}`;
    throw e;
  }
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
  /** @internal adopts a record that is already hashed and never written again */
  constructor(value: typeof ADOPT, data: Uint8Array, at: number);
  constructor(value: bigint | Uint8Array | typeof ADOPT, data?: Uint8Array, at?: number) {
    if (value === ADOPT) {
      this.#data = data!;
      this.#at = at!;
      return;
    }
    if (typeof value === 'bigint') {
      if (value < 1n || value >= KEY_LIMIT) {
        throw new RangeError(
          `auth key: expected a bigint in [1, 2**2048), got ${value < 1n ? (value === 0n ? '0' : 'a negative value') : `a value of ${value.toString(2).length} bits`}`,
        );
      }
      const slot = arena.take();
      this.#data = arena.page;
      this.#at = slot;
      engine.keyFromBigint(value, this.#data, slot);
      this.#value = value;
      return;
    }
    if (!(value instanceof Uint8Array)) {
      throw new TypeError(`auth key: expected a bigint or a Uint8Array of 256 bytes, got ${describe(value)}`);
    }
    if (value.length !== KEY_BYTES) {
      throw new RangeError(`auth key: expected 256 bytes, got ${value.length}`);
    }
    const slot = arena.take();
    const page = arena.page;
    page.set(value, slot);
    engine.hashRecords(page, slot, 1);
    checkNotZero(page, slot);
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
   * @param values keys as bigints or 256-byte arrays, as `new AuthKey` takes them
   * @returns the keys, in order
   * @throws TypeError if `values` is not an array, or as `new AuthKey` for an element (with its index)
   * @throws RangeError as `new AuthKey` for an element (with its index); nothing is returned then
   */
  static many(values: ReadonlyArray<bigint | Uint8Array>): AuthKey[] {
    if (!Array.isArray(values)) throw new TypeError(`AuthKey.many: expected an array of keys, got ${describe(values)}`);
    const n = values.length;
    // Check every element before any work, so a bad one is reported with its index.
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v instanceof Uint8Array ? v.length !== KEY_BYTES : typeof v !== 'bigint' || v < 1n || v >= KEY_LIMIT) {
        atIndex(i, () => new AuthKey(v));
      }
    }
    // One run of records: every key's bytes are written in, then all are hashed together (one
    // copy in and one out per 256 keys, four keys per SIMD pass).
    const start = arena.takeRun(n);
    const page = arena.page;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v instanceof Uint8Array) page.set(v, start + i * RECORD_BYTES);
      else engine.bigintToKey(v, page, start + i * RECORD_BYTES);
    }
    engine.hashRecords(page, start, n);
    const keys = new Array<AuthKey>(n);
    for (let i = 0; i < n; i++) {
      const at = start + i * RECORD_BYTES;
      atIndex(i, () => checkNotZero(page, at));
      keys[i] = new AuthKey(ADOPT, page, at);
    }
    return keys;
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
    const message = new Uint8Array(41);
    message.set(newNonce, 0);
    message[32] = n;
    const d = this.#at + DIGEST_AT;
    message.set(this.#data.subarray(d, d + 8), 33);
    const digest = engine.sha1(message);
    message.fill(0);
    return digest.slice(4);
  }

  /**
   * Whether `other` is the same key, in time that does not depend on where the bytes differ.
   * @throws TypeError if `other` is not an AuthKey
   */
  equals(other: AuthKey): boolean {
    if (!(other instanceof AuthKey)) throw new TypeError(`AuthKey.equals: expected an AuthKey, got ${describe(other)}`);
    return sameKey(this.#data, this.#at, other.#data, other.#at);
  }

  /** `AuthKey(id=0x…)`: the id only; the key itself is secret. */
  toString(): string {
    return `AuthKey(id=0x${this.#idHex()})`;
  }

  /** `{ "id": "0x…" }`: the id only; the key itself is secret. */
  toJSON(): { id: string } {
    return { id: `0x${this.#idHex()}` };
  }

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

