import { AuthKey } from '../core/auth-key.js';
import { peekArgumentsError, parseExpiresAt, parseId, toAuthKey } from './arguments.js';
import { AuthKeyCollision, AuthKeyDoesNotExist, MessageRejected } from '../core/errors.js';
import { idBigint, u32be } from '../core/ids.js';
import { COLLISION, KeyTable } from './key-table.js';
import type { AuthKeyId, AuthKeyManagerProtocol, SetKeyOptions } from './protocol.js';
import { bytesLength, checkBytes, describe } from '../core/validate.js';
import { type MessageSender, senderX } from '../core/message.js';

/** A stored key and its expiry, as `AuthKeyManager#entries` yields them (and `exportKeys` takes them). */
export interface AuthKeyEntry {
  /** The key. */
  key: AuthKey;
  /** When the key expires, in epoch milliseconds; absent if it never does. */
  expiresAt?: number;
}

/** Options of `new AuthKeyManager`. */
export interface AuthKeyManagerOptions {
  /**
   * The clock that `expiresAt` is compared with, in epoch milliseconds; default `Date.now`. It is
   * called as a plain function (bind a method before passing it). Pass one to drive expiry from a
   * simulated or test clock.
   */
  now?: () => number;
}

/**
 * @internal the store of `manager`, for tests that check its sizes and pages. Not exported from
 * the package.
 */
export let tableOf: (manager: AuthKeyManager) => KeyTable;

/**
 * The default manager: keys in this process's memory. Lookups go straight from the 8 id bytes
 * of a packet to the key, with no bigint made; keys are stored as raw bytes (about 330 bytes a
 * key, zeroed when the key is removed). The first lookup of a key makes its AuthKey, a small
 * object that reads the stored bytes in place (about 60 bytes more for that key); later lookups
 * hand out the same object, allocating nothing.
 *
 * A key handed out stays valid and unchanged whatever the manager does next: when the manager
 * deletes the key (`delKey`, expiry, `clear`) it first gives the AuthKey a copy of its own
 * (276 bytes), so a key you hold keeps none of the manager's memory alive, only its own bytes.
 * The exception is a manager that is simply dropped: keys you still hold from it keep the pages
 * they point into alive (70 KiB each, with the other keys stored there) until you drop them too.
 * Call `clear()` on a manager you are done with, which also zeroes every stored key.
 *
 * @example
 * const manager = new AuthKeyManager();
 * await manager.setKey(authKey);
 * const key = manager.peekKey(packet);  // by the first 8 bytes of an encrypted packet
 */
export class AuthKeyManager implements AuthKeyManagerProtocol {
  readonly #table: KeyTable;

  /**
   * @param options `now`: the clock for expiry (default `Date.now`); read once, here
   * @throws TypeError if `options` is not an object, or `options.now` is given and not a function
   */
  constructor(options?: AuthKeyManagerOptions) {
    let now: unknown = Date.now;
    if (options !== undefined) {
      if (options === null || typeof options !== 'object') {
        throw new TypeError(`AuthKeyManager: expected an options object, got ${describe(options)}`);
      }
      const given = options.now;
      if (given !== undefined) {
        if (typeof given !== 'function') {
          throw new TypeError(`AuthKeyManager: expected options.now as a function returning epoch milliseconds, got ${describe(given)}`);
        }
        now = given;
      }
    }
    this.#table = new KeyTable(now as () => number);
  }

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
    const { hi, lo } = parseId(value, 'hasKey');
    return this.#table.has(hi, lo);
  }

  /** {@inheritDoc AuthKeyManagerProtocol.getKey} */
  async getKey(id: AuthKeyId | AuthKey): Promise<AuthKey> {
    const { hi, lo } = parseId(id, 'getKey');
    const key = this.#table.get(hi, lo);
    if (key === undefined) throw new AuthKeyDoesNotExist(idBigint(hi, lo));
    return key;
  }

  /** {@inheritDoc AuthKeyManagerProtocol.delKey} */
  async delKey(value: AuthKey | AuthKeyId): Promise<void> {
    const { hi, lo } = parseId(value, 'delKey');
    if (!this.#table.delete(hi, lo)) throw new AuthKeyDoesNotExist(idBigint(hi, lo));
  }

  /**
   * `setKey` without the promise, for bulk loading.
   * @throws AuthKeyCollision if a different key already has the same id
   * @throws TypeError / RangeError for a bad key or options
   */
  setKeySync(value: AuthKey | bigint, options?: SetKeyOptions): void {
    const expiresAt = parseExpiresAt(options, 'setKey');
    const key = toAuthKey(value, 'setKey');
    if (this.#table.insert(key, expiresAt) === COLLISION) throw new AuthKeyCollision(key.id);
  }

  /**
   * The key whose 8 id bytes start at `offset` of `packet` (an encrypted MTProto packet begins
   * with them), or undefined. Synchronous and allocation-light, for the per-packet path.
   * @throws TypeError if `packet` is not a Uint8Array or `offset` not a number
   * @throws RangeError if fewer than 8 bytes follow `offset`
   */
  peekKey(packet: Uint8Array, offset = 0): AuthKey | undefined {
    const n = bytesLength(packet);
    if (n < 0) throw peekArgumentsError(packet, offset, n);
    // typeof first: a comparison would call an object's valueOf, caller code on the hot path.
    if (typeof offset !== 'number') throw peekArgumentsError(packet, offset, n);
    if (!(offset >= 0 && offset + 8 <= n) || !Number.isInteger(offset)) throw peekArgumentsError(packet, offset, n);
    return this.#table.get(u32be(packet, offset), u32be(packet, offset + 4));
  }

  /**
   * A gateway's one call per packet: looks the key up by the packet's first 8 bytes (its
   * auth_key_id) and decrypts the packet with it (`AuthKey#decryptMessage`). Synchronous.
   * @param packet an encrypted MTProto 2.0 packet: `auth_key_id (8) ‖ msg_key (16) ‖ encrypted data`
   * @param sender who sent it: 'client' (the default: a server decrypts what clients send) or 'server'
   * @returns `{ key, data }`, `data` the plaintext from the salt to the end of message_data (a new
   *   array); undefined if no stored key has the packet's id
   * @throws MessageRejected if a stored key has the packet's id but the packet is not a valid
   *   message for it, or the packet is shorter than 8 bytes (one message for every cause)
   * @throws TypeError if `packet` is not a Uint8Array or `sender` not a string
   * @throws RangeError if `sender` is neither 'client' nor 'server'
   */
  decryptPacket(
    packet: Uint8Array,
    sender: MessageSender = 'client',
  ):
    | {
        /** The key whose id the packet carries. */
        key: AuthKey;
        /** The plaintext from the salt to the end of message_data (a new array). */
        data: Uint8Array;
      }
    | undefined {
    const n = checkBytes(packet, 'decryptPacket packet');
    senderX(sender, 'decryptPacket');
    if (n < 8) throw new MessageRejected();
    const key = this.#table.get(u32be(packet, 0), u32be(packet, 4));
    if (key === undefined) return undefined;
    return { key, data: key.decryptMessage(packet, sender) };
  }

  /**
   * Every stored key with its expiry, for a backup (`exportKeys(manager.entries(), …)` of
   * `mtproto-authkey/dump`) or a copy into another manager. The ids are read when iteration
   * starts (8 bytes a key) and each key is looked up as it is reached: a key stored throughout is
   * yielded once, one removed or expired before it is reached is not yielded, and one added after
   * the start is not either. Reading the keys does not count as using them (a bounded table's
   * eviction order stays as it was) and keeps no extra memory in the manager.
   * @example
   * for (const { key, expiresAt } of manager.entries()) await other.setKey(key, { expiresAt });
   */
  *entries(): IterableIterator<AuthKeyEntry> {
    const table = this.#table;
    const ids = table.ids();
    for (let i = 0; i < ids.length; i += 2) {
      const entry = table.entry(ids[i], ids[i + 1]);
      if (entry === undefined) continue;
      yield entry.expiresAt === 0 ? { key: entry.key } : { key: entry.key, expiresAt: entry.expiresAt };
    }
  }

  /**
   * Removes every key, zeroing the stored bytes; keys handed out before stay valid, each with a
   * copy of its own bytes. Call it on a manager you are done with, so that keys you still hold
   * keep none of its memory alive. The manager can be used again after.
   */
  async clear(): Promise<void> {
    this.#table.clear();
  }

  static {
    tableOf = (manager) => manager.#table;
  }
}
