/**
 * `mtproto-authkey/redis`: an auth key manager backed by Redis (standalone or Redis Cluster), so
 * every gateway node sees every key and a restart loses none. ioredis is an optional peer
 * dependency and is imported from this entry point only.
 * @packageDocumentation
 */
import { type KeyObject, createCipheriv, createDecipheriv, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Cluster, Redis } from 'ioredis';
import { AuthKey } from './auth-key.js';
import { AuthKeyCollision, AuthKeyCorrupted, AuthKeyDoesNotExist, AuthKeyStoreUnavailable } from './errors.js';
import { parseExpiresAt, parseId, toAuthKey } from './arguments.js';
import { idBigint, idHex } from './ids.js';
import type { AuthKeyId, AuthKeyManagerProtocol, SetKeyOptions } from './protocol.js';
import { checkBytes, describe } from './validate.js';

export { AuthKeyCorrupted, AuthKeyStoreUnavailable } from './errors.js';

const KEY_BYTES = 256;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SECRET_BYTES = 32;
/** version ‖ iv ‖ ciphertext ‖ tag; differs from KEY_BYTES, so a raw and a sealed value never pass for each other. */
const SEALED_BYTES = 1 + IV_BYTES + KEY_BYTES + TAG_BYTES;
const DEFAULT_PREFIX = 'authkey:';
const DEFAULT_TIMEOUT_MS = 2000;
/** setTimeout's limit: a larger delay fires at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

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

/** Options shared by both ways of giving the manager a connection. */
export interface RedisAuthKeyManagerCommonOptions {
  /** Prepended to the 16 lowercase hex digits of the id to make the Redis key. Default `authkey:`. */
  prefix?: string;
  /**
   * How long a method may wait for Redis before it rejects with `AuthKeyStoreUnavailable`, in
   * milliseconds. Default 2000.
   */
  timeoutMs?: number;
  /** Seal values with AES-256-GCM instead of storing the raw 256 key bytes. */
  encryption?: AuthKeyEncryption;
}

/**
 * Options of `RedisAuthKeyManager`: an ioredis client you own (`client`), or a URL for a
 * connection the manager opens, owns and ends in `close()`.
 */
export type RedisAuthKeyManagerOptions = RedisAuthKeyManagerCommonOptions &
  (
    | {
        /**
         * An ioredis `Redis` or `Cluster` client. The manager never closes it. While the client
         * is reconnecting, commands wait in the manager (never in the client's offline queue), so
         * one that timed out is never sent later; a command already sent when the connection broke
         * may still be resent by the client on reconnect (ioredis's `autoResendUnfulfilledCommands`).
         */
        client: Redis | Cluster;
        url?: undefined;
      }
    | {
        /** `redis://[user:password@]host:port[/db]` or `rediss://…` of a standalone server. */
        url: string;
        client?: undefined;
      }
  );

/** The 8 id bytes (big-endian halves as parsed by `parseId`). */
function idBytesOf(hi: number, lo: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32BE(hi, 0);
  b.writeUInt32BE(lo, 4);
  return b;
}

/** Seals and opens stored values; holds the secrets as KeyObjects, never as plain arrays. */
class Sealer {
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
      throw new RangeError(`RedisAuthKeyManager encryption.current: expected one of the versions in secrets (${[...this.#secrets.keys()].join(', ')}), got ${current}`);
    }
    this.#current = current;
  }

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

/**
 * An auth key manager that keeps keys in Redis, standalone or Redis Cluster, for a fleet of
 * gateway nodes. Each key is one Redis string under `prefix` + the 16 lowercase hex digits of
 * its id: the raw 256 key bytes, or a 285-byte AES-256-GCM sealed value with `encryption`.
 *
 * Every method is one Redis command, so nodes racing each other cannot break the semantics:
 * `setKey` is `SET … NX GET [PXAT]` (stores, or returns what is already there, never both);
 * `delKey` is `DEL`; `hasKey` is `EXISTS`; `getKey` is `GET`, and the key bytes read are hashed
 * again and must give the id asked for. Arguments are checked before anything is sent, so bad
 * input changes nothing. Needs Redis 7.0 or later (`SET` with both `NX` and `GET`); in a Redis
 * Cluster the ids spread over all slots.
 *
 * Every method answers within `timeoutMs` (default 2000 ms) or rejects with
 * AuthKeyStoreUnavailable; while the client reconnects, calls wait for it up to that time and
 * are not sent at all if it does not come back, and once Redis is back the same manager works.
 *
 * @example
 * import { Redis } from 'ioredis';
 * import { RedisAuthKeyManager } from 'mtproto-authkey/redis';
 *
 * const manager = new RedisAuthKeyManager({ client: new Redis(process.env.REDIS_URL!) });
 * await manager.setKey(authKey);
 * const key = await manager.getKey(authKeyId);
 *
 * @example
 * // The manager owns the connection; close() ends it.
 * const manager = new RedisAuthKeyManager({ url: 'redis://127.0.0.1:6379', timeoutMs: 1000 });
 * await manager.close();
 */
export class RedisAuthKeyManager implements AuthKeyManagerProtocol {
  readonly #client: Redis | Cluster;
  readonly #owned: boolean;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #sealer: Sealer | undefined;
  #closed = false;
  #readyWait: Promise<void> | undefined;

  /**
   * @throws TypeError if options are missing or of a wrong type, if both or neither of `client`
   *   and `url` are given, or if `client` is not an ioredis client
   * @throws RangeError if `url` is not a redis:// or rediss:// URL, `timeoutMs` is not in
   *   (0, 2**31), or `encryption` has a bad version, secret length or `current`
   */
  constructor(options: RedisAuthKeyManagerOptions) {
    const what = 'RedisAuthKeyManager';
    if (options === null || typeof options !== 'object') throw new TypeError(`${what}: expected an options object, got ${describe(options)}`);
    const { client, url, prefix = DEFAULT_PREFIX, timeoutMs = DEFAULT_TIMEOUT_MS, encryption } = options;
    if (typeof prefix !== 'string') throw new TypeError(`${what} prefix: expected a string, got ${describe(prefix)}`);
    if (typeof timeoutMs !== 'number') throw new TypeError(`${what} timeoutMs: expected milliseconds as a number, got ${describe(timeoutMs)}`);
    if (!(timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) throw new RangeError(`${what} timeoutMs: expected milliseconds in (0, 2**31), got ${timeoutMs}`);
    const sealer = encryption === undefined ? undefined : new Sealer(encryption);

    if (client !== undefined && url !== undefined) throw new TypeError(`${what}: expected either client or url, got both`);
    if (client !== undefined) {
      if (client === null || typeof (client as { callBuffer?: unknown }).callBuffer !== 'function') {
        throw new TypeError(`${what} client: expected an ioredis Redis or Cluster client, got ${describe(client)}`);
      }
      this.#client = client;
      this.#owned = false;
    } else if (url !== undefined) {
      this.#client = openClient(url, timeoutMs);
      this.#owned = true;
    } else {
      throw new TypeError(`${what}: expected a client (an ioredis Redis or Cluster) or a url, got neither`);
    }
    this.#prefix = prefix;
    this.#timeoutMs = timeoutMs;
    this.#sealer = sealer;
  }

  /**
   * Stores a key, given as an AuthKey or as its 2048-bit value; with `expiresAt`, Redis removes
   * it at that time (one already past stores nothing). Storing a key that is already stored
   * changes nothing, its expiry included.
   * @throws AuthKeyCollision (rejects) if a different key is stored under the same id; it stays
   * @throws AuthKeyCorrupted (rejects) if the value stored under the id is damaged; it stays
   * @throws AuthKeyStoreUnavailable (rejects) if Redis fails or does not answer in time; the key
   *   may or may not have been stored
   * @throws TypeError / RangeError (rejects) for a bad key or options, before Redis is asked
   */
  async setKey(value: AuthKey | bigint, options?: SetKeyOptions): Promise<void> {
    const expiresAt = parseExpiresAt(options, 'setKey');
    const key = toAuthKey(value, 'setKey');
    const { hi, lo } = parseId(key, 'setKey');
    const idBytes = idBytesOf(hi, lo);
    const bytes = key.bytes;
    try {
      // A copy for the command: the client may still hold it after a timeout, so it is not wiped.
      const stored = this.#sealer ? this.#sealer.seal(idBytes, bytes) : Buffer.from(bytes);
      const args: Array<string | Buffer | number> = [this.#nameOf(hi, lo), stored, 'NX', 'GET'];
      // Whole milliseconds, capped so Redis never refuses the time; a past time is accepted and stores nothing.
      if (expiresAt !== 0) args.push('PXAT', Math.min(Math.ceil(expiresAt), Number.MAX_SAFE_INTEGER));
      const old = (await this.#send('setKey', hi, lo, 'SET', args)) as Buffer | null;
      if (old === null) return;
      const oldBytes = this.#open(hi, lo, idBytes, old);
      // Sealed values differ on every write (random IV), so the keys themselves are compared.
      const same = timingSafeEqual(oldBytes, bytes);
      oldBytes.fill(0);
      if (!same) throw new AuthKeyCollision(key.id);
    } finally {
      bytes.fill(0);
    }
  }

  /**
   * Whether a key with this id (or the id of this AuthKey) is stored and not expired.
   * @throws AuthKeyStoreUnavailable (rejects) if Redis fails or does not answer in time
   * @throws TypeError / RangeError (rejects) for a bad id, before Redis is asked
   */
  async hasKey(value: AuthKey | AuthKeyId): Promise<boolean> {
    const { hi, lo } = parseId(value, 'hasKey');
    return (await this.#send('hasKey', hi, lo, 'EXISTS', [this.#nameOf(hi, lo)])) === 1;
  }

  /**
   * The key stored under this id (an AuthKey is accepted too, for its id), checked on the way:
   * its bytes must hash to that id.
   * @throws AuthKeyDoesNotExist (rejects) if there is none
   * @throws AuthKeyCorrupted (rejects) if the stored value is not 256 bytes, does not open with
   *   the configured secrets, or hashes to another id
   * @throws AuthKeyStoreUnavailable (rejects) if Redis fails or does not answer in time
   * @throws TypeError / RangeError (rejects) for a bad id, before Redis is asked
   */
  async getKey(id: AuthKeyId | AuthKey): Promise<AuthKey> {
    const { hi, lo } = parseId(id, 'getKey');
    const value = (await this.#send('getKey', hi, lo, 'GET', [this.#nameOf(hi, lo)])) as Buffer | null;
    if (value === null) throw new AuthKeyDoesNotExist(idBigint(hi, lo));
    const bytes = this.#open(hi, lo, idBytesOf(hi, lo), value);
    let key: AuthKey;
    try {
      key = new AuthKey(bytes);
    } catch {
      throw new AuthKeyCorrupted(idBigint(hi, lo), 'the key is zero');
    } finally {
      bytes.fill(0);
    }
    if (key.id !== idBigint(hi, lo)) throw new AuthKeyCorrupted(idBigint(hi, lo), 'its bytes hash to a different id');
    return key;
  }

  /**
   * Removes the key with this id (or the id of this AuthKey).
   * @throws AuthKeyDoesNotExist (rejects) if there is none
   * @throws AuthKeyStoreUnavailable (rejects) if Redis fails or does not answer in time; the key
   *   may or may not have been removed
   * @throws TypeError / RangeError (rejects) for a bad id, before Redis is asked
   */
  async delKey(value: AuthKey | AuthKeyId): Promise<void> {
    const { hi, lo } = parseId(value, 'delKey');
    if ((await this.#send('delKey', hi, lo, 'DEL', [this.#nameOf(hi, lo)])) === 0) throw new AuthKeyDoesNotExist(idBigint(hi, lo));
  }

  /**
   * Ends the connection if the manager opened it (`url`); a client you passed in is left open.
   * Afterwards every method rejects with AuthKeyStoreUnavailable. Calling it again does nothing.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#owned) return;
    const client = this.#client as Redis;
    if (client.status === 'ready') {
      // QUIT lets replies in flight arrive; a server that does not answer is not waited for.
      await withDeadline(client.quit(), this.#timeoutMs).catch(() => undefined);
    }
    client.disconnect();
  }

  #nameOf(hi: number, lo: number): string {
    return this.#prefix + idHex(hi, lo);
  }

  /** The key bytes of a stored value, in a buffer the caller owns and wipes, or AuthKeyCorrupted. */
  #open(hi: number, lo: number, idBytes: Uint8Array, value: Buffer): Buffer {
    if (this.#sealer === undefined) {
      if (value.length !== KEY_BYTES) throw new AuthKeyCorrupted(idBigint(hi, lo), `expected ${KEY_BYTES} key bytes, got ${value.length}`);
      return value;
    }
    const opened = this.#sealer.open(idBytes, value);
    if (typeof opened === 'string') throw new AuthKeyCorrupted(idBigint(hi, lo), opened);
    return opened;
  }

  /**
   * One Redis command, bounded by `timeoutMs`, with the client's failures as named errors.
   *
   * While the client is (re)connecting, the command waits here for it to be ready instead of in
   * the client's offline queue: a command that timed out in that queue would still run once Redis
   * is back, long after its caller was told it failed (a late DEL would remove a key set since).
   * Waiting here, a command whose time is up is never sent.
   */
  async #send(what: string, hi: number, lo: number, command: string, args: Array<string | Buffer | number>): Promise<unknown> {
    if (this.#closed) throw new AuthKeyStoreUnavailable(`${what}: the manager was closed`);
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(TIMED_OUT);
      }, this.#timeoutMs);
    });
    const ready = this.#whenReady();
    const send = () => this.#client.callBuffer(command, ...args);
    const reply =
      ready === undefined
        ? send()
        : ready.then(() => {
            if (timedOut || this.#closed) throw TIMED_OUT;
            return send();
          });
    try {
      return await Promise.race([reply, deadline]);
    } catch (error) {
      if (error === TIMED_OUT) {
        throw new AuthKeyStoreUnavailable(this.#closed ? `${what}: the manager was closed` : `${what}: Redis did not answer within ${this.#timeoutMs} ms`);
      }
      const cause = scrub(error);
      const message = cause instanceof Error ? cause.message : String(cause);
      if (message.startsWith('WRONGTYPE')) throw new AuthKeyCorrupted(idBigint(hi, lo), 'it is not a Redis string');
      throw new AuthKeyStoreUnavailable(`${what}: ${message}`, cause);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Undefined when a command can go to the client now; otherwise a promise (one per manager, so
   * waiting commands add one listener, not one each) that settles when the client is ready or has
   * ended. `wait` (lazyConnect: the first command connects) and `end` (commands fail at once)
   * need no wait.
   */
  #whenReady(): Promise<void> | undefined {
    const client = this.#client;
    const status = client.status;
    if (status === 'ready' || status === 'wait' || status === 'end' || status === undefined) return undefined;
    return (this.#readyWait ??= new Promise<void>((resolve) => {
      const settle = () => {
        client.off('ready', settle);
        client.off('end', settle);
        this.#readyWait = undefined;
        resolve();
      };
      client.on('ready', settle);
      client.on('end', settle);
    }));
  }
}

const TIMED_OUT: unique symbol = Symbol('timed out');

/** `promise`, or a rejection with TIMED_OUT after `ms`. */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(TIMED_OUT), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * ioredis attaches the failed command and its arguments to reply errors; for SET those are the
 * key bytes. They are removed so that logging the error (or its `cause`) cannot leak a key.
 */
function scrub(error: unknown, depth = 0): unknown {
  if (error === null || typeof error !== 'object' || depth > 4) return error;
  const e = error as { command?: { name?: unknown }; lastNodeError?: unknown; cause?: unknown };
  if (e.command !== undefined) e.command = { name: e.command?.name };
  // Errors that wrap others (Cluster's ClusterAllFailedError, say) are scrubbed through.
  scrub(e.lastNodeError, depth + 1);
  scrub(e.cause, depth + 1);
  return error;
}

/**
 * A client for `{ url }`, set up to fail fast rather than queue: with Redis down, a command is
 * rejected at the next failed reconnect attempt instead of waiting (and maybe running long after
 * its caller was told it failed).
 */
function openClient(url: unknown, timeoutMs: number): Redis {
  if (typeof url !== 'string') throw new TypeError(`RedisAuthKeyManager url: expected a string, got ${describe(url)}`);
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    protocol = '';
  }
  // The URL is not repeated: it may carry a password.
  if (protocol !== 'redis:' && protocol !== 'rediss:') throw new RangeError('RedisAuthKeyManager url: expected a redis:// or rediss:// URL');
  const client = new Redis(url, {
    // Every failed reconnect attempt rejects what is queued (see the function's comment).
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    // Retry soon after an outage, so the manager works again shortly after Redis is back.
    retryStrategy: (times) => Math.min(50 * times, 500),
  });
  // Failures reach callers as rejected commands; without a listener ioredis logs every attempt.
  client.on('error', () => undefined);
  return client;
}
