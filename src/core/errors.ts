/** Named errors of mtproto-authkey: match them with `instanceof` or by `name`. */
import { idHexOf } from './ids.js';

/** `getKey`/`delKey` of an id that the manager does not hold. */
export class AuthKeyDoesNotExist extends Error {
  /** Always `'AuthKeyDoesNotExist'`, so logs and `err.name` checks tell this error apart. */
  override readonly name = 'AuthKeyDoesNotExist';
  /** The id that was asked for, as a 64-bit unsigned integer. */
  readonly authKeyId: bigint;
  constructor(authKeyId: bigint) {
    super(`no auth key with id 0x${idHexOf(authKeyId)}`);
    this.authKeyId = authKeyId;
  }
}

/**
 * `setKey` of a key whose id is already taken by a different key. The stored key stays; a
 * client's key is never replaced silently.
 */
export class AuthKeyCollision extends Error {
  /** Always `'AuthKeyCollision'`, so logs and `err.name` checks tell this error apart. */
  override readonly name = 'AuthKeyCollision';
  /** The id both keys share. */
  readonly authKeyId: bigint;
  constructor(authKeyId: bigint) {
    super(`auth key id 0x${idHexOf(authKeyId)} is taken by a different key; the stored key was kept`);
    this.authKeyId = authKeyId;
  }
}

/**
 * A stored value that is not a valid key for its id: not 256 bytes, not sealed by this
 * manager's secrets (or sealed for another id), or key bytes whose SHA-1 gives another id. The
 * store was damaged or tampered with; the value is never handed out as a key, and `setKey`
 * leaves it in place rather than overwriting it.
 */
export class AuthKeyCorrupted extends Error {
  /** Always `'AuthKeyCorrupted'`, so logs and `err.name` checks tell this error apart. */
  override readonly name = 'AuthKeyCorrupted';
  /** The id the damaged value is stored under. */
  readonly authKeyId: bigint;
  /** What is wrong with the value (the words in parentheses of the message), for reports that list many. */
  readonly problem: string;
  /**
   * @param authKeyId the id the value is stored under
   * @param problem what is wrong with the value, e.g. `expected 256 bytes, got 255`; never its
   *   contents
   */
  constructor(authKeyId: bigint, problem: string) {
    super(`the value stored for auth key id 0x${idHexOf(authKeyId)} is corrupted (${problem}); it was not used`);
    this.authKeyId = authKeyId;
    this.problem = problem;
  }
}

/**
 * The store behind a manager (Redis, say) is down, unreachable, or did not answer in time. The
 * underlying error is in `cause`. For `setKey` and `delKey` the outcome is unknown: the command
 * may or may not have been applied.
 */
export class AuthKeyStoreUnavailable extends Error {
  /** Always `'AuthKeyStoreUnavailable'`, so logs and `err.name` checks tell this error apart. */
  override readonly name = 'AuthKeyStoreUnavailable';
  /**
   * @param what the method that failed and why, e.g. `getKey: no answer within 2000 ms`
   * @param cause the error of the store's client, if any
   */
  constructor(what: string, cause?: unknown) {
    super(`auth key store unavailable: ${what}`, cause === undefined ? undefined : { cause });
  }
}

/**
 * `decryptMessage` / `decryptPacket` of a packet that is not a valid MTProto 2.0 message for this
 * auth key and direction: another key's id, a bad length, a `msg_key` that does not match the
 * decrypted message, padding outside 12..1024 bytes, or a `message_data_length` that does not fit.
 * The message is the same whichever check failed, and nothing decrypted is kept, so the error
 * tells an attacker nothing (https://core.telegram.org/mtproto/security_guidelines).
 */
export class MessageRejected extends Error {
  /** Always `'MessageRejected'`, so logs and `err.name` checks tell this error apart. */
  override readonly name = 'MessageRejected';
  constructor() {
    super(MESSAGE_REJECTED);
  }
}

/** The one message of every MessageRejected. */
export const MESSAGE_REJECTED = 'MTProto message rejected: not a valid encrypted message for this auth key and sender';
