/** Named errors of mtproto-authkey: match them with `instanceof` or by `name`. */

/** `getKey`/`delKey` of an id that the manager does not hold. */
export class AuthKeyDoesNotExist extends Error {
  override readonly name = 'AuthKeyDoesNotExist';
  /** The id that was asked for, as a 64-bit unsigned integer. */
  readonly authKeyId: bigint;
  constructor(authKeyId: bigint) {
    super(`no auth key with id 0x${authKeyId.toString(16).padStart(16, '0')}`);
    this.authKeyId = authKeyId;
  }
}

/**
 * `setKey` of a key whose id is already taken by a different key. The stored key stays; a
 * client's key is never replaced silently.
 */
export class AuthKeyCollision extends Error {
  override readonly name = 'AuthKeyCollision';
  /** The id both keys share. */
  readonly authKeyId: bigint;
  constructor(authKeyId: bigint) {
    super(`auth key id 0x${authKeyId.toString(16).padStart(16, '0')} is taken by a different key; the stored key was kept`);
    this.authKeyId = authKeyId;
  }
}
