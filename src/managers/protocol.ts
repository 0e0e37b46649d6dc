/**
 * What every auth key manager offers: the AuthKeyManager interface of mtpylon's auth key
 * chapter (https://mtpylon.readthedocs.io), in camelCase, with promises so that a store may live
 * in another service. Types only.
 */
import type { AuthKey } from '../core/auth-key.js';

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

/** The methods every auth key manager has; all return promises. */
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
