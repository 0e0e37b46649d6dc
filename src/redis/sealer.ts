/**
 * At-rest sealing of stored auth keys (AES-256-GCM, the 8 id bytes as associated data), shared by
 * the Redis manager and its store operations (verify, reseal).
 * @internal
 */
import { type KeyObject, createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { checkBytes, describe } from '../core/validate.js';
import { KEY_BYTES } from '../core/sizes.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const SECRET_BYTES = 32;
/**
 * version ‖ iv ‖ ciphertext ‖ tag; differs from KEY_BYTES, so a raw and a sealed value never pass for each other.
 * @internal
 */
export const SEALED_BYTES = 1 + IV_BYTES + KEY_BYTES + TAG_BYTES;

/**
 * At-rest encryption of stored keys: AES-256-GCM with the 8 id bytes as associated data, so a
 * value copied under another id does not open. Each value records the version of the secret that
 * sealed it; keep old versions in `secrets` until every value has been rewritten with `current`.
 *
 * @example
 * // Rotation: new values are sealed with version 2; values sealed with 1 still open.
 * const encryption = { secrets: { 1: oldSecret, 2: newSecret }, current: 2 };
 */
export interface AuthKeyEncryption {
  /** Secrets by version (an integer in [0, 255]), 32 random bytes each. They are copied. */
  secrets: Readonly<Record<number, Uint8Array>>;
  /** The version that seals new values; it must be one of `secrets`. */
  current: number;
}

/**
 * Seals and opens stored values; holds the secrets as KeyObjects, never as plain arrays.
 * @internal
 */
export class Sealer {
  readonly #secrets = new Map<number, KeyObject>();
  readonly #current: number;

  constructor(options: unknown) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`RedisAuthKeyManager encryption: expected { secrets, current }, got ${describe(options)}`);
    }
    const { secrets, current } = options as AuthKeyEncryption;
    if (secrets === null || typeof secrets !== 'object' || Array.isArray(secrets) || ArrayBuffer.isView(secrets)) {
      throw new TypeError(`RedisAuthKeyManager encryption.secrets: expected an object of 32-byte secrets by version, got ${describe(secrets)}`);
    }
    for (const [name, secret] of Object.entries(secrets)) {
      const version = Number(name);
      if (!/^\d+$/.test(name) || version > 255) {
        throw new RangeError(`RedisAuthKeyManager encryption.secrets: expected versions that are integers in [0, 255], got ${JSON.stringify(name)}`);
      }
      checkBytes(secret, `RedisAuthKeyManager encryption.secrets[${version}]`, SECRET_BYTES);
      this.#secrets.set(version, createSecretKey(secret));
    }
    if (this.#secrets.size === 0) throw new RangeError('RedisAuthKeyManager encryption.secrets: expected at least one secret, got none');
    if (typeof current !== 'number') {
      throw new TypeError(`RedisAuthKeyManager encryption.current: expected the version number of a secret, got ${describe(current)}`);
    }
    if (!this.#secrets.has(current)) {
      throw new RangeError(
        `RedisAuthKeyManager encryption.current: expected one of the versions in secrets (${[...this.#secrets.keys()].join(', ')}), got ${current}`,
      );
    }
    this.#current = current;
  }

  /** The version that seals new values. */
  get current(): number {
    return this.#current;
  }

  /** The secret versions this sealer holds, ascending. */
  get versions(): number[] {
    return [...this.#secrets.keys()].sort((a, b) => a - b);
  }

  /** Whether this sealer holds the secret of `version`. */
  knows(version: number): boolean {
    return this.#secrets.has(version);
  }

  /**
   * The secret version a stored value says it was sealed with (its first byte), or undefined if
   * it is not the length of a sealed value. Says nothing of whether it opens.
   */
  versionOf(value: Uint8Array): number | undefined {
    return value.length === SEALED_BYTES ? value[0] : undefined;
  }

  /** The value `keyBytes` is stored as under `idBytes`: sealed with the current secret, a fresh random IV. */
  seal(idBytes: Uint8Array, keyBytes: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(SEALED_BYTES);
    out[0] = this.#current;
    // A random 96-bit IV per value. NIST SP 800-38D allows 2**32 of them under one secret; a gateway
    // writes far fewer keys than that between rotations.
    const iv = randomBytes(IV_BYTES);
    iv.copy(out, 1);
    const cipher = createCipheriv('aes-256-gcm', this.#secrets.get(this.#current)!, iv);
    cipher.setAAD(idBytes);
    const n = cipher.update(keyBytes).copy(out, 1 + IV_BYTES);
    cipher.final();
    cipher.getAuthTag().copy(out, 1 + IV_BYTES + n);
    return out;
  }

  /** The key bytes, or a description of why `value` does not open for this id. */
  open(idBytes: Uint8Array, value: Buffer): Buffer | string {
    if (value.length !== SEALED_BYTES) return `expected a sealed value of ${SEALED_BYTES} bytes, got ${value.length}`;
    const version = value[0];
    const secret = this.#secrets.get(version);
    if (secret === undefined) return `sealed with secret version ${version}, which this manager does not know`;
    const decipher = createDecipheriv('aes-256-gcm', secret, value.subarray(1, 1 + IV_BYTES));
    decipher.setAAD(idBytes);
    decipher.setAuthTag(value.subarray(SEALED_BYTES - TAG_BYTES));
    const plain = decipher.update(value.subarray(1 + IV_BYTES, SEALED_BYTES - TAG_BYTES));
    try {
      decipher.final();
    } catch {
      plain.fill(0);
      return `it does not authenticate for this id under secret version ${version}`;
    }
    return plain;
  }
}
