import { AuthKey } from './auth-key.js';
import { AuthKeyCollision, AuthKeyDoesNotExist } from './errors.js';
import { COLLISION, KeyTable } from './key-table.js';
import { ID_AT, u32be } from './records.js';
import { describe } from './validate.js';

/**
 * An auth key id: the `AuthKey.id` bigint (in [0, 2**64)), or the 8 `AuthKey.idBytes` exactly as
 * read off the wire.
 */
export type AuthKeyId = bigint | Uint8Array;

/** Options of `setKey`. */
export interface SetKeyOptions {
  /**
   * When the key stops being valid (MTProto temporary keys carry an `expires_at`): a `Date` or
   * epoch milliseconds. After it, the key is not found. Omit for a key that never expires.
   */
  expiresAt?: Date | number;
}

/**
 * What every auth key manager offers: the reference chapter's AuthKeyManagerProtocol. All
 * methods return promises, so a store may live in another service.
 */
export interface AuthKeyManagerProtocol {
  /**
   * Stores a key, given as an AuthKey or as its 2048-bit value. Storing a key that is already
   * stored changes nothing.
   * @throws AuthKeyCollision (rejects) if a different key already has the same id
   */
  setKey(value: AuthKey | bigint, options?: SetKeyOptions): Promise<void>;
  /** Whether a key with this id (or the id of this AuthKey) is stored. */
  hasKey(value: AuthKey | AuthKeyId): Promise<boolean>;
  /**
   * The key stored under this id (an AuthKey is accepted too, for its id).
   * @throws AuthKeyDoesNotExist (rejects) if there is none
   */
  getKey(id: AuthKeyId | AuthKey): Promise<AuthKey>;
  /**
   * Removes the key with this id (or the id of this AuthKey).
   * @throws AuthKeyDoesNotExist (rejects) if there is none
   */
  delKey(value: AuthKey | AuthKeyId): Promise<void>;
}

const U64_LIMIT = 1n << 64n;
const U32_MASK = 0xffffffffn;

/** Halves of the id parsed last by `parseId` (module state: no allocation per lookup). */
export let idHi = 0;
export let idLo = 0;

/**
 * Parses an id argument into `idHi`/`idLo`.
 * @param what the method name, for messages
 * @throws TypeError for a wrong type (a `number` is refused: it loses precision above 2**53)
 * @throws RangeError for a bigint outside [0, 2**64) or id bytes that are not 8
 */
export function parseId(value: unknown, what: string): void {
  if (typeof value === 'bigint') {
    if (value < 0n || value >= U64_LIMIT) {
      throw new RangeError(`${what}: expected an auth key id in [0, 2**64), got ${value < 0n ? 'a negative value' : `a value of ${value.toString(2).length} bits`}`);
    }
    idHi = Number(value >> 32n);
    idLo = Number(value & U32_MASK);
    return;
  }
  if (value instanceof Uint8Array) {
    if (value.length !== 8) throw new RangeError(`${what}: expected 8 auth key id bytes, got ${value.length}`);
    idHi = u32be(value, 0);
    idLo = u32be(value, 4);
    return;
  }
  if (value instanceof AuthKey) {
    const { data, at } = AuthKey.recordOf(value);
    idHi = u32be(data, at + ID_AT);
    idLo = u32be(data, at + ID_AT + 4);
    return;
  }
  const expected = 'an AuthKey, a bigint id or 8 id bytes';
  if (typeof value === 'number') {
    throw new TypeError(`${what}: expected ${expected}, got a number, which loses precision above 2**53; pass a bigint (${Number.isInteger(value) ? `${value}n` : 'e.g. 123n'}) or the 8 id bytes`);
  }
  throw new TypeError(`${what}: expected ${expected}, got ${describe(value)}`);
}

/** The id last parsed, as a bigint (for error messages). */
export function parsedId(): bigint {
  return (BigInt(idHi) << 32n) | BigInt(idLo);
}

/**
 * The key argument of `setKey` as an AuthKey.
 * @throws TypeError / RangeError as `new AuthKey` does
 */
export function toAuthKey(value: unknown, what: string): AuthKey {
  if (value instanceof AuthKey) return value;
  if (typeof value === 'bigint') return new AuthKey(value);
  throw new TypeError(`${what}: expected an AuthKey or a 2048-bit bigint, got ${describe(value)}`);
}

/**
 * The `expiresAt` of `setKey` options as epoch milliseconds, 0 for never.
 * @throws TypeError if options or expiresAt have a wrong type
 * @throws RangeError if expiresAt is not a finite positive time
 */
export function parseExpiresAt(options: unknown, what: string): number {
  if (options === undefined) return 0;
  if (options === null || typeof options !== 'object') throw new TypeError(`${what}: expected an options object, got ${describe(options)}`);
  const t = (options as SetKeyOptions).expiresAt;
  if (t === undefined) return 0;
  const ms = t instanceof Date ? t.getTime() : t;
  if (typeof ms !== 'number') throw new TypeError(`${what}: expected expiresAt as a Date or epoch milliseconds, got ${describe(t)}`);
  if (!Number.isFinite(ms) || ms <= 0) throw new RangeError(`${what}: expected expiresAt as a valid time after 1970, got ${String(ms)}`);
  return ms;
}

/**
 * The default manager: keys in this process's memory. Lookups go straight from the 8 id bytes
 * of a packet to the key, with no bigint made; keys are stored as raw bytes (about 300 bytes a
 * key) and an AuthKey object is made only when one is asked for.
 *
 * @example
 * const manager = new AuthKeyManager();
 * await manager.setKey(authKey);
 * const key = manager.peekKey(packet);  // by the first 8 bytes of an encrypted packet
 */
export class AuthKeyManager implements AuthKeyManagerProtocol {
  readonly #table = new KeyTable();

  /** Number of keys stored (an expired key counts until it is evicted). */
  get size(): number {
    return this.#table.size;
  }

  /** {@inheritDoc AuthKeyManagerProtocol.setKey} */
  async setKey(value: AuthKey | bigint, options?: SetKeyOptions): Promise<void> {
    this.setKeySync(value, options);
  }

  /** {@inheritDoc AuthKeyManagerProtocol.hasKey} */
  async hasKey(value: AuthKey | AuthKeyId): Promise<boolean> {
    parseId(value, 'hasKey');
    return this.#table.has(idHi, idLo);
  }

  /** {@inheritDoc AuthKeyManagerProtocol.getKey} */
  async getKey(id: AuthKeyId | AuthKey): Promise<AuthKey> {
    parseId(id, 'getKey');
    const key = this.#table.get(idHi, idLo);
    if (key === undefined) throw new AuthKeyDoesNotExist(parsedId());
    return key;
  }

  /** {@inheritDoc AuthKeyManagerProtocol.delKey} */
  async delKey(value: AuthKey | AuthKeyId): Promise<void> {
    parseId(value, 'delKey');
    if (!this.#table.delete(idHi, idLo)) throw new AuthKeyDoesNotExist(parsedId());
  }

  /**
   * `setKey` without the promise, for bulk loading.
   * @throws AuthKeyCollision if a different key already has the same id
   * @throws TypeError / RangeError for a bad key or options
   */
  setKeySync(value: AuthKey | bigint, options?: SetKeyOptions): void {
    const expiresAt = parseExpiresAt(options, 'setKey');
    const key = toAuthKey(value, 'setKey');
    const { data, at } = AuthKey.recordOf(key);
    if (this.#table.insert(data, at, expiresAt) === COLLISION) throw new AuthKeyCollision(key.id);
  }

  /**
   * The key whose 8 id bytes start at `offset` of `packet` (an encrypted MTProto packet begins
   * with them), or undefined. Synchronous and allocation-light, for the per-packet path.
   * @throws TypeError if `packet` is not a Uint8Array
   * @throws RangeError if fewer than 8 bytes follow `offset`
   */
  peekKey(packet: Uint8Array, offset = 0): AuthKey | undefined {
    if (!(packet instanceof Uint8Array)) throw new TypeError(`peekKey: expected a Uint8Array packet, got ${describe(packet)}`);
    if (!(offset >= 0 && offset + 8 <= packet.length) || !Number.isInteger(offset)) {
      throw new RangeError(`peekKey: expected 8 id bytes at offset ${offset}, got a packet of ${packet.length} bytes`);
    }
    return this.#table.get(u32be(packet, offset), u32be(packet, offset + 4));
  }

  /** Removes every key. */
  async clear(): Promise<void> {
    this.#table.clear();
  }
}
