/**
 * The Redis auth key manager: its public methods, the per-key calls' life (waiting for the client,
 * deadlines, Redis's answer judged) and the near cache's use. Options are checked in options.ts,
 * the calls and their commands are in calls.ts, the `url` connection is made in client.ts, and the
 * store operations are in operations.ts.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { AuthKey } from '../core/auth-key.js';
import { DeadlineQueue } from './deadlines.js';
import { InvalidationLink } from './invalidation.js';
import { NearCache, type RedisAuthKeyCacheStats } from './near-cache.js';
import type { KeyTable } from '../managers/key-table.js';
import { AuthKeyCollision, AuthKeyDoesNotExist, AuthKeyStoreUnavailable, MessageRejected } from '../core/errors.js';
import { type MessageSender, senderX } from '../core/message.js';
import { peekArgumentsError, parseExpiresAt, parseId, toAuthKey } from '../managers/arguments.js';
import { idBigint, idHex, u32be } from '../core/ids.js';
import type { AuthKeyId, AuthKeyManagerProtocol, SetKeyOptions } from '../managers/protocol.js';
import type { Sealer } from './sealer.js';
import type { ResealReport, StoreOperationOptions, StoredKeyInfo, VerifyReport } from '../managers/operations.js';
import { type DumpSecret, type ExportReport, type ImportOptions, type ImportReport, exportKeys as exportDump, importKeys as importDump } from '../dump/dump.js';
import { type StoreAccess, type StoreStats, resealStore, storeStats, storedEntries, storedKeys, verifyStore } from './operations.js';
import { OTHER_ID, ZERO_KEY, idBytesOf, keyProblem, scrub, unusableProblem } from './stored-value.js';
import { bytesLength, checkBytes, plainBytes } from '../core/validate.js';
import { KEY_BYTES } from '../core/sizes.js';
import { type RedisAuthKeyManagerOptions, parseManagerOptions } from './options.js';
import { isCluster, mustWait, openClient } from './client.js';
import {
  Call,
  DEL,
  EXISTS,
  EXPIRY,
  GET,
  METHODS,
  QUIT,
  READ,
  SET,
  capture,
  captured,
  closedError,
  corrupted,
  dispatch,
  fail,
  idOfCall,
  noop,
} from './calls.js';

/** #outcome's answer for a call that goes on with its next command. */
const MORE: unique symbol = Symbol('more');
/** PEXPIRETIME's answer for a name that does not exist: what an expiry that could not be read counts as. */
const GONE = -2;

/**
 * An auth key manager that keeps keys in Redis, standalone or Redis Cluster, for a fleet of
 * gateway nodes. Each key is one Redis string under `prefix` + the 16 lowercase hex digits of
 * its id: the raw 256 key bytes, or a 285-byte AES-256-GCM sealed value with `encryption`.
 *
 * Every method is one Redis command, so nodes racing each other cannot break the semantics:
 * `setKey` is `SET … NX GET [PXAT]` (stores, or returns what is already there, never both);
 * `delKey` is `DEL`; `hasKey` is `EXISTS`; `getKey` is `GET`, and the key bytes read are hashed
 * again and must give the id asked for (with `cache`, a key found is then asked its expiry,
 * `PEXPIRETIME`, for the cached copy; an id Redis does not have costs it the `GET` alone).
 * Arguments are checked before anything is sent, so bad input changes nothing. Needs Redis 7.0
 * or later (`SET` with both `NX` and `GET`, https://redis.io/docs/latest/commands/set/); in a
 * Redis Cluster the ids spread over all slots.
 *
 * A value stored under an id that is not a valid key for it (damaged, truncated, not a Redis
 * string, sealed under another id or an unknown secret, or key bytes that hash to another id) is
 * never handed out and never overwritten: `getKey` and `setKey` reject with AuthKeyCorrupted and
 * leave it in place, `hasKey` says `true` (the id is taken), and `delKey` removes it.
 *
 * Every method answers within `timeoutMs` (default 2000 ms) or rejects with
 * AuthKeyStoreUnavailable; while the client reconnects, calls wait for it up to that time and
 * are not sent at all if it does not come back, and once Redis is back the same manager works.
 *
 * @example
 * import { Redis } from 'ioredis';
 * import { RedisAuthKeyManager } from 'mtproto-authkey/redis';
 *
 * const client = new Redis(process.env.REDIS_URL!, { enableAutoPipelining: true });
 * const manager = new RedisAuthKeyManager({ client });
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
  /** Every call not yet settled, in the order made (so by deadline), under one timer. */
  readonly #deadlines: DeadlineQueue<Call>;
  /** Calls made while the client was not ready, in order; sent when it is. */
  #waiting: Call[] = [];
  #listening = false;
  #closed = false;
  /** The near cache and its table (read directly on the per-packet path), if `cache` was given. */
  readonly #cache: NearCache | undefined;
  readonly #table: KeyTable | undefined;
  readonly #link: InvalidationLink | undefined;
  /** What the store operations (keys, verify, reseal) use. */
  readonly #access: StoreAccess;

  /**
   * @throws TypeError if options are missing or of a wrong type, if both or neither of `client`
   *   and `url` are given, or if `client` is not an ioredis client
   * @throws RangeError if `url` is not a redis:// or rediss:// URL, `timeoutMs` is not in
   *   (0, 2**31), `encryption` has a bad version, secret length or `current`, or `cache` a bound
   *   or time out of range
   * Nothing is opened when it throws.
   */
  constructor(options: RedisAuthKeyManagerOptions) {
    const { client, url, prefix, timeoutMs, sealer, cache } = parseManagerOptions(options);
    if (client !== undefined) {
      this.#client = client;
      this.#owned = false;
    } else {
      this.#client = openClient(url, timeoutMs);
      this.#owned = true;
    }
    this.#prefix = prefix;
    this.#timeoutMs = timeoutMs;
    this.#sealer = sealer;
    this.#deadlines = new DeadlineQueue<Call>(timeoutMs, (call) => this.#expired(call));
    // Redis sees the client's own key prefix, if it has one, before ours.
    const clientPrefix = (this.#client.options as { keyPrefix?: unknown } | undefined)?.keyPrefix;
    const seen = (typeof clientPrefix === 'string' ? clientPrefix : '') + prefix;
    this.#access = { client: this.#client, prefix, seenPrefix: seen, sealer, timeoutMs, closed: () => this.#closed };
    if (cache !== undefined) {
      const nearCache = new NearCache(cache, seen, Date.now);
      this.#cache = nearCache;
      this.#table = nearCache.table;
      this.#link = new InvalidationLink(this.#client, seen, timeoutMs, nearCache);
    }
  }

  /**
   * Stores a key, given as an AuthKey or as its 2048-bit value; with `expiresAt`, Redis removes
   * it at that time (one already past stores nothing). Storing a key that is already stored
   * changes nothing, its expiry included.
   * @throws AuthKeyCollision (rejects) if a different valid key is stored under the same id; it
   *   stays
   * @throws AuthKeyCorrupted (rejects) if the value stored under the id is not a valid key for
   *   it (damaged, truncated, not a Redis string, does not open with the configured secrets, or
   *   key bytes that hash to another id); it stays
   * @throws AuthKeyStoreUnavailable (rejects) if Redis fails or does not answer in time; the key
   *   may or may not have been stored
   * @throws TypeError / RangeError (rejects) for a bad key or options, before Redis is asked
   */
  setKey(value: AuthKey | bigint, options?: SetKeyOptions): Promise<void> {
    let call: Call;
    try {
      const expiresAt = parseExpiresAt(options, 'setKey');
      const key = toAuthKey(value, 'setKey');
      const id = parseId(key, 'setKey');
      const { hi, lo } = id;
      let stored: Buffer;
      if (this.#sealer === undefined) {
        // A view of the key's own record, not a copy: records are never written after the key is
        // made (records.ts), so the client may read it whenever it writes the command, and there
        // is no copy of the key to leave behind.
        const { data, at } = AuthKey.recordOf(key);
        stored = Buffer.from(data.buffer, data.byteOffset + at, KEY_BYTES);
      } else {
        const bytes = key.bytes;
        stored = this.#sealer.seal(idBytesOf(hi, lo), bytes);
        bytes.fill(0);
      }
      // Whole milliseconds, capped so Redis never refuses the time; a past time is accepted and stores nothing.
      const at = expiresAt === 0 ? 0 : Math.min(Math.ceil(expiresAt), Number.MAX_SAFE_INTEGER);
      call = new Call(SET, id, this.#nameOf(hi, lo), { key, stored, expiresAt: at });
    } catch (error) {
      return Promise.reject(error);
    }
    // Not cached here: Redis reports this write back as an invalidation, which may carry another
    // node's change of the same id merged into it; the first getKey reads the key and caches it.
    this.#cache?.writing(call.id.hi, call.id.lo, call.name.slice(this.#prefix.length));
    return this.#send(call);
  }

  /**
   * Whether the id (or the id of this AuthKey) is taken: a key is stored under it and has not
   * expired. A stored value that is corrupted (see `getKey`) takes the id too, so this says
   * `true` for it, and `setKey` of any key under that id rejects until it is deleted.
   * @throws AuthKeyStoreUnavailable (rejects) if Redis fails or does not answer in time
   * @throws TypeError / RangeError (rejects) for a bad id, before Redis is asked
   */
  hasKey(value: AuthKey | AuthKeyId): Promise<boolean> {
    return this.#byId(EXISTS, value);
  }

  /**
   * The key stored under this id (an AuthKey is accepted too, for its id), checked on the way:
   * its bytes must hash to that id.
   * @throws AuthKeyDoesNotExist (rejects) if there is none
   * @throws AuthKeyCorrupted (rejects) if the stored value is not 256 bytes (285 sealed), is not a
   *   Redis string, does not open with the configured secrets, is zero, or hashes to another id
   * @throws AuthKeyStoreUnavailable (rejects) if Redis fails or does not answer in time
   * @throws TypeError / RangeError (rejects) for a bad id, before Redis is asked
   */
  getKey(id: AuthKeyId | AuthKey): Promise<AuthKey> {
    const cache = this.#cache;
    if (cache === undefined) return this.#byId(GET, id);
    let hi: number;
    let lo: number;
    try {
      ({ hi, lo } = parseId(id, 'getKey'));
    } catch (error) {
      return Promise.reject(error);
    }
    const key = cache.table.get(hi, lo);
    if (key !== undefined) {
      cache.hits++;
      return Promise.resolve(key);
    }
    return this.#read(cache, hi, lo);
  }

  /** getKey of (hi, lo) not in the cache: remembered missing, joined to a read in flight, or a new read. */
  #read(cache: NearCache, hi: number, lo: number): Promise<AuthKey> {
    if (this.#closed) return Promise.reject(closedError(READ));
    if (cache.knownMissing(hi, lo)) return Promise.reject(new AuthKeyDoesNotExist(idBigint(hi, lo)));
    const hex = idHex(hi, lo);
    const joined = cache.join(hex);
    if (joined !== undefined) return joined.promise!;
    const flight = cache.start(hex);
    const promise = this.#send<AuthKey>(new Call(READ, { hi, lo }, this.#prefix + hex, undefined, flight));
    flight.promise = promise;
    return promise;
  }

  /**
   * The cached key whose 8 id bytes start at `offset` of `packet` (an encrypted MTProto packet
   * begins with them), or undefined if it is not cached (then ask `getKey`). Synchronous, never
   * asks Redis: the per-packet path of a gateway. Always undefined without `cache`.
   * @throws TypeError if `packet` is not a Uint8Array or `offset` not a number
   * @throws RangeError if fewer than 8 bytes follow `offset`
   */
  peekKey(packet: Uint8Array, offset = 0): AuthKey | undefined {
    const n = bytesLength(packet);
    if (n < 0) throw peekArgumentsError(packet, offset, n);
    // typeof first: a comparison would call an object's valueOf, caller code on the hot path.
    if (typeof offset !== 'number') throw peekArgumentsError(packet, offset, n);
    if (!(offset >= 0 && offset + 8 <= n) || !Number.isInteger(offset)) throw peekArgumentsError(packet, offset, n);
    const table = this.#table;
    if (table === undefined) return undefined;
    const key = table.get(u32be(packet, offset), u32be(packet, offset + 4));
    if (key !== undefined) this.#cache!.hits++;
    return key;
  }

  /**
   * A gateway's one call per packet: finds the key by the packet's first 8 bytes (its
   * auth_key_id), in the near cache first (`peekKey`), else from Redis (`getKey`), and decrypts
   * the packet with it (`AuthKey#decryptMessage`). A cached key answers without waiting for
   * Redis. On the Redis path the packet is copied first, so changes to the caller's array while
   * Redis answers do not reach what is decrypted.
   * @param packet an encrypted MTProto 2.0 packet: `auth_key_id (8) ‖ msg_key (16) ‖ encrypted data`
   * @param sender who sent it: 'client' (the default) or 'server'
   * @returns (resolves) `{ key, data }`, `data` the plaintext from the salt to the end of
   *   message_data (a new array); undefined if no key has the packet's id
   * @throws MessageRejected (rejects) if a key has the packet's id but the packet is not a valid
   *   message for it, or the packet is shorter than 8 bytes (one message for every cause)
   * @throws AuthKeyCorrupted / AuthKeyStoreUnavailable (rejects) as `getKey`
   * @throws TypeError / RangeError (rejects) if `packet` is not a Uint8Array or `sender` is not
   *   'client' or 'server', before Redis is asked
   */
  decryptPacket(
    packet: Uint8Array,
    sender: MessageSender = 'client',
  ): Promise<
    | {
        /** The key whose id the packet carries. */
        key: AuthKey;
        /** The plaintext from the salt to the end of message_data (a new array). */
        data: Uint8Array;
      }
    | undefined
  > {
    let copy: Uint8Array;
    try {
      const n = checkBytes(packet, 'decryptPacket packet');
      senderX(sender, 'decryptPacket');
      if (n < 8) throw new MessageRejected();
      const key = this.peekKey(packet);
      if (key !== undefined) return Promise.resolve({ key, data: key.decryptMessage(packet, sender) });
      copy = plainBytes(packet, n).slice();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.getKey(copy.subarray(0, 8)).then(
      (key) => ({ key, data: key.decryptMessage(copy, sender) }),
      (error: unknown) => {
        if (error instanceof AuthKeyDoesNotExist) return undefined;
        throw error;
      },
    );
  }

  /**
   * Counters and sizes of the near cache (all zero, `linked` false, without `cache`): export them
   * to your metrics to watch the hit rate and the invalidation link.
   */
  cacheStats(): RedisAuthKeyCacheStats {
    const cache = this.#cache;
    if (cache !== undefined) return cache.stats();
    return { hits: 0, misses: 0, negativeHits: 0, joins: 0, invalidations: 0, evictions: 0, flushes: 0, size: 0, negativeSize: 0, maxKeys: 0, linked: false };
  }

  /**
   * Every id stored under `prefix` (on every master of a Cluster), with its expiry; never a key.
   * Walks the store with `SCAN MATCH <prefix>* COUNT <batch>`, never `KEYS`, so Redis keeps
   * serving meanwhile; names under the prefix that are not 16 lowercase hex digits are left out.
   * As with SCAN, a key stored or deleted while the walk runs may or may not be listed; every key
   * present throughout is listed exactly once. The values are not read, and the near cache is not
   * touched. Like the per-key methods, each step (a SCAN, the reads or writes of a batch) waits for
   * a client that is connecting or reconnecting (a manager just made with `url`, say), within
   * `timeoutMs` for the wait and the answer together, and is not sent once that time is up.
   * @param options `batch`: the SCAN COUNT, 1..100000 (default 1000); `signal`, `onProgress` as
   *   StoreOperationOptions (`done` counts the ids yielded)
   * @throws TypeError / RangeError (thrown by this call, before Redis is asked) for bad options
   * @throws AuthKeyStoreUnavailable (from the iterator) if Redis fails, a step takes longer than
   *   `timeoutMs`, or the manager is closed
   * @throws the signal's reason (from the iterator) once it is aborted
   * @example
   * for await (const { id, expiresAt } of manager.keys()) console.log(id.toString(16), expiresAt);
   */
  keys(options?: StoreOperationOptions & { batch?: number }): AsyncIterableIterator<StoredKeyInfo> {
    return storedKeys(this.#access, options);
  }

  /**
   * Counts what is stored under `prefix` (every master of a Cluster) by the layout of each value,
   * without reading a key or opening a value, so it needs no secret: how many keys, how many
   * expire, how many values are 256 bytes (raw keys), how many 285 bytes (sealed) per the secret
   * version in their first byte, and how many are anything else. It cannot tell a damaged value
   * from a good one of the same length: that is `verify()`'s question. Walks the store as `keys()`
   * does (a key changed meanwhile may be counted either way); the near cache is not touched.
   * @param options `batch`, `signal`, `onProgress` as for `keys()` (`done` counts keys counted)
   * @throws TypeError / RangeError (rejects) for bad options, before Redis is asked
   * @throws AuthKeyStoreUnavailable (rejects) if Redis fails, a step takes longer than
   *   `timeoutMs`, or the manager is closed
   * @throws the signal's reason (rejects) once it is aborted
   * @example
   * const { keys, raw, sealed } = await manager.stats();
   * console.log(`${keys} keys, ${raw} raw, sealed per version:`, sealed);
   */
  stats(options?: StoreOperationOptions & { batch?: number }): Promise<StoreStats> {
    return storeStats(this.#access, options);
  }

  /**
   * Reads every value stored under `prefix` (every master of a Cluster) and judges it as
   * `getKey` does, without changing anything: counts of valid values (raw, and sealed per secret
   * version), of those with an expiry, and the id of every corrupted one (not 256 bytes or 285
   * sealed, not a Redis string, does not open with the secrets, zero, or hashes to another id).
   * With `encryption`, a raw value that is the key of its id counts as valid `raw`: `getKey`
   * refuses it, and `reseal()` seals it. Walks the store as `keys()` does; the near cache is not
   * filled by these reads.
   * @param options `batch`, `signal`, `onProgress` as for `keys()` (`done` counts values read)
   * @throws TypeError / RangeError (rejects) for bad options, before Redis is asked
   * @throws AuthKeyStoreUnavailable (rejects) if Redis fails, a step takes longer than
   *   `timeoutMs`, or the manager is closed
   * @throws the signal's reason (rejects) once it is aborted
   * @example
   * const report = await manager.verify();
   * if (report.corrupted > 0) console.error('corrupted ids:', report.corruptedIds.map((id) => id.toString(16)));
   */
  verify(options?: StoreOperationOptions & { batch?: number }): Promise<VerifyReport> {
    // An async function: bad options reject, as documented, rather than throw.
    return verifyStore(this.#access, options);
  }

  /**
   * Rewrites every value not sealed with the current secret version (sealed with an older one,
   * or stored raw) under the current one, so that old secrets can be dropped from `secrets`.
   * Each rewrite is one Lua script that replaces the value only if it is still byte for byte the
   * one read, keeping its expiry (`SET … KEEPTTL`): a key deleted, replaced or expired meanwhile is
   * left as it is now and counted in `changed`, never brought back. Corrupted values are counted
   * and left in place. Safe to interrupt (each rewrite is whole) and to run again (values on the
   * current version are left alone). Rewrites reach near caches as invalidations; the keys do
   * not change.
   * @param options `batch`, `signal`, `onProgress` as for `keys()` (`done` counts values read)
   * @throws StoreOperationUnsupported (rejects) if the manager has no `encryption`
   * @throws TypeError / RangeError (rejects) for bad options, before Redis is asked
   * @throws AuthKeyStoreUnavailable (rejects) if Redis fails, a step takes longer than
   *   `timeoutMs`, or the manager is closed; what was rewritten stays rewritten
   * @throws the signal's reason (rejects) once it is aborted; what was rewritten stays rewritten
   * @example
   * // After adding secret 2 and making it current on every node:
   * const manager = new RedisAuthKeyManager({ client, encryption: { secrets: { 1: s1, 2: s2 }, current: 2 } });
   * const report = await manager.reseal();
   * // Once verify() reports no values sealed with 1, secret 1 can be removed.
   */
  reseal(options?: StoreOperationOptions & { batch?: number }): Promise<ResealReport> {
    return resealStore(this.#access, options);
  }

  /**
   * Writes every valid key of the store (every master of a Cluster) with its expiry to `writable`
   * as an encrypted dump (see `exportKeys` of `mtproto-authkey/dump` and docs/dump-format.md);
   * corrupted values (as `verify()` judges them) are not written and are listed in `skippedIds`.
   * The store is walked as `keys()` walks it; the near cache is not touched. Ending `writable` is
   * yours.
   * @param options the passphrase or 32-byte secret the dump is sealed under, and `signal`,
   *   `onProgress` as StoreOperationOptions (`done` counts keys written and skipped)
   * @throws TypeError / RangeError (rejects) for bad options or a bad stream, before Redis is asked
   * @throws StoreOperationUnsupported (rejects) at a value sealed under a secret version the manager does not have (any, without `encryption`)
   * @throws AuthKeyStoreUnavailable (rejects) if the manager is closed (nothing is written), or if
   *   Redis fails or a step takes longer than `timeoutMs` (the dump written so far has no trailer,
   *   so importing it reports it incomplete)
   * @throws the signal's reason (rejects) once it is aborted; the stream's error if it fails
   * @example
   * const out = fs.createWriteStream('keys.dump');
   * const report = await manager.exportKeys(out, { passphrase: process.env.DUMP_PASSPHRASE! });
   * await new Promise((resolve) => out.end(resolve));
   */
  exportKeys(writable: NodeJS.WritableStream | WritableStream<Uint8Array>, options: StoreOperationOptions & DumpSecret): Promise<ExportReport> {
    if (this.#closed) return Promise.reject(new AuthKeyStoreUnavailable('exportKeys: the manager was closed'));
    return exportDump(storedEntries(this.#access), writable, options);
  }

  /**
   * Stores every key of an encrypted dump in this store, with its expiry (`importKeys` of
   * `mtproto-authkey/dump` with this manager as the target): keys already here are `unchanged`,
   * a different key under the same id is a collision (skipped and reported, or the import stops,
   * as `onCollision` says), and damaged records are counted and skipped.
   * @param options the passphrase or secret of the dump, `onCollision`, and `signal`,
   *   `onProgress` as StoreOperationOptions
   * @throws TypeError / RangeError (rejects) for bad options or a bad stream, before Redis is asked
   * @throws DumpDecryptionFailed (rejects) if the passphrase or secret does not open the dump,
   *   before anything is stored
   * @throws DumpFormatError (rejects) if the bytes are not a dump or it is incomplete; keys stored
   *   before stay stored
   * @throws AuthKeyCollision (rejects) with `onCollision: 'fail'`, at the first collision
   * @throws AuthKeyStoreUnavailable (rejects) if Redis fails, does not answer in time, or the
   *   manager is closed; keys stored before stay stored
   * @throws the signal's reason (rejects) once it is aborted
   * @example
   * const report = await manager.importKeys(fs.createReadStream('keys.dump'), { passphrase: process.env.DUMP_PASSPHRASE! });
   */
  importKeys(
    readable: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | ReadableStream<Uint8Array>,
    options: StoreOperationOptions & DumpSecret & ImportOptions,
  ): Promise<ImportReport> {
    return importDump(this, readable, options);
  }

  /**
   * Removes the key with this id (or the id of this AuthKey), or a corrupted value stored there.
   * @throws AuthKeyDoesNotExist (rejects) if there is none
   * @throws AuthKeyStoreUnavailable (rejects) if Redis fails or does not answer in time; the key
   *   may or may not have been removed
   * @throws TypeError / RangeError (rejects) for a bad id, before Redis is asked
   */
  delKey(value: AuthKey | AuthKeyId): Promise<void> {
    return this.#byId(DEL, value);
  }

  /**
   * Ends the connection if the manager opened it (`url`), after the replies in flight arrived
   * (at most `timeoutMs`); a client you passed in is left open. Calls still waiting for the
   * client to connect reject at once, and every later call rejects, with
   * AuthKeyStoreUnavailable. Calling it again does nothing.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#link?.close();
    this.#cache?.close();
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const call of waiting) if (!call.settled) fail(call, closedError(call.op));
    if (!this.#owned) return;
    const client = this.#client as Redis;
    if (client.status === 'ready') {
      // QUIT lets the replies in flight arrive first; a server that does not answer is not waited for.
      await this.#issue(new Call(QUIT, { hi: 0, lo: 0 }, '', undefined)).catch(noop);
    }
    client.disconnect();
  }

  #nameOf(hi: number, lo: number): string {
    return this.#prefix + idHex(hi, lo);
  }

  /** A call that names an id (getKey, hasKey, delKey). */
  #byId<T>(op: typeof GET | typeof EXISTS | typeof DEL, value: unknown): Promise<T> {
    let call: Call;
    try {
      const id = parseId(value, METHODS[op]);
      call = new Call(op, id, this.#nameOf(id.hi, id.lo), undefined);
    } catch (error) {
      return Promise.reject(error);
    }
    // This node stops serving a key it deletes before the delete is even sent.
    if (op === DEL) this.#cache?.deleting(call.id.hi, call.id.lo, call.name.slice(this.#prefix.length));
    return this.#send(call);
  }

  #send<T>(call: Call): Promise<T> {
    if (this.#closed) return Promise.reject(closedError(call.op));
    return this.#issue(call);
  }

  /**
   * The promise of `call`, settled by Redis's answer or by the deadline queue, whichever comes
   * first (one promise and one `then` per call).
   *
   * While the client is (re)connecting, the call waits here for it to be ready instead of in the
   * client's offline queue: a command that timed out in that queue would still run once Redis is
   * back, long after its caller was told it failed (a late DEL would remove a key set since).
   * Waiting here, a call whose time is up is never sent.
   */
  #issue<T>(call: Call): Promise<T> {
    const promise = new Promise<T>(capture);
    call.resolve = captured.resolve;
    call.reject = captured.reject;
    this.#deadlines.add(call);
    if (mustWait(this.#client)) this.#wait(call);
    else this.#start(call);
    return promise;
  }

  #wait(call: Call): void {
    const waiting = this.#waiting;
    // Calls that timed out while waiting are at the front (they wait in deadline order).
    let expired = 0;
    while (expired < waiting.length && waiting[expired].settled) expired++;
    if (expired > 0) waiting.splice(0, expired);
    waiting.push(call);
    if (this.#listening) return;
    // One listener pair for all waiting calls, removed once the client is ready or has ended.
    this.#listening = true;
    const client = this.#client;
    const onStatus = () => {
      // ioredis emits status events on the next tick; the status may have moved on since.
      if (mustWait(client)) return;
      client.off('ready', onStatus);
      client.off('end', onStatus);
      this.#listening = false;
      const ready = this.#waiting;
      this.#waiting = [];
      for (const c of ready) if (!c.settled) this.#start(c);
    };
    client.on('ready', onStatus);
    client.on('end', onStatus);
  }

  /** Hands the command of `call` to the client. */
  #start(call: Call): void {
    let reply: Promise<unknown>;
    try {
      reply = dispatch(this.#client, call);
    } catch (error) {
      this.#failed(call, error);
      return;
    }
    reply.then(
      (value) => this.#answered(call, value),
      (error: unknown) => this.#failed(call, error),
    );
  }

  #answered(call: Call, value: unknown): void {
    if (call.settled) return;
    let result: unknown;
    let failed = false;
    try {
      result = this.#outcome(call, value);
    } catch (error) {
      result = error;
      failed = true;
    }
    // A near-cache read found a value: the same call asks for its expiry, within the same deadline.
    if (result === MORE) {
      this.#start(call);
      return;
    }
    if (call.flight !== undefined) this.#cache!.end(call.flight);
    // Settled, and no longer holding the caller's promise: a settled call may stay in the deadline
    // queue behind a slower one for up to timeoutMs, and should not keep the key it resolved with
    // alive meanwhile.
    const { resolve, reject } = call;
    call.settled = true;
    call.resolve = noop;
    call.reject = noop;
    if (failed) reject(result);
    else resolve(result as never);
  }

  #failed(call: Call, error: unknown): void {
    if (call.settled) return;
    // The key was read and checked; only its expiry is unknown, so it is returned, not cached.
    if (call.op === EXPIRY) {
      this.#answered(call, GONE);
      return;
    }
    if (call.flight !== undefined) this.#cache!.end(call.flight);
    const cause = scrub(error);
    const message = cause instanceof Error ? cause.message : String(cause);
    if (message.startsWith('WRONGTYPE')) fail(call, corrupted(call, 'it is not a Redis string'));
    else fail(call, new AuthKeyStoreUnavailable(`${METHODS[call.op]}: ${message}`, cause));
  }

  /** Called by the deadline queue, which has marked `call` settled. */
  #expired(call: Call): void {
    const flight = call.flight;
    if (flight !== undefined) this.#cache?.end(flight);
    if (call.op === EXPIRY && !this.#closed) {
      // As #failed: the key read in time is the answer, not cached.
      const { resolve } = call;
      const key = flight!.key!;
      flight!.key = undefined;
      call.resolve = noop;
      call.reject = noop;
      resolve(key as never);
      return;
    }
    fail(call, this.#closed ? closedError(call.op) : new AuthKeyStoreUnavailable(`${METHODS[call.op]}: Redis did not answer within ${this.#timeoutMs} ms`));
  }

  /**
   * What the method of `call` returns for Redis's reply `value`, or MORE when the call goes on
   * with another command; throws what it rejects with.
   */
  #outcome(call: Call, value: unknown): unknown {
    switch (call.op) {
      case READ: {
        const flight = call.flight!;
        const { hi, lo } = call.id;
        if (value === null) {
          this.#cache!.missing(flight, hi, lo);
          throw new AuthKeyDoesNotExist(idOfCall(call));
        }
        const key = this.#keyOf(call, value as Buffer);
        // The expiry is asked for only when the key would be cached: an id Redis does not have
        // costs it one command (GET), not two.
        if (!this.#cache!.fills(flight)) return key;
        flight.key = key;
        call.op = EXPIRY;
        return MORE;
      }
      case EXPIRY: {
        const flight = call.flight!;
        const key = flight.key!;
        flight.key = undefined;
        // Any change of the key since the GET (another value, another expiry, gone) reached the
        // cache as an invalidation of this read before this reply: then found() does not fill.
        this.#cache!.found(flight, key, call.id.hi, call.id.lo, value as number);
        return key;
      }
      case GET: {
        if (value === null) throw new AuthKeyDoesNotExist(idOfCall(call));
        return this.#keyOf(call, value as Buffer);
      }
      case SET: {
        if (value === null) return undefined;
        const old = this.#open(call, value as Buffer);
        const bytes = call.set!.key.bytes;
        try {
          // Sealed values differ on every write (random IV), so the keys themselves are compared.
          if (timingSafeEqual(old, bytes)) return undefined;
          // A different value: a rival key only if it is a valid key for this id.
          const problem = keyProblem(call.id.hi, call.id.lo, old);
          if (problem !== undefined) throw corrupted(call, problem);
          throw new AuthKeyCollision(idOfCall(call));
        } finally {
          old.fill(0);
          bytes.fill(0);
        }
      }
      case EXISTS:
        return value === 1;
      case DEL:
        if (value === 0) throw new AuthKeyDoesNotExist(idOfCall(call));
        return undefined;
      default:
        return undefined;
    }
  }

  /** The key of a stored value read for `call`, checked: its bytes hash to the id asked for. */
  #keyOf(call: Call, value: Buffer): AuthKey {
    const bytes = this.#open(call, value);
    let key: AuthKey;
    try {
      key = new AuthKey(bytes);
    } catch {
      throw corrupted(call, ZERO_KEY);
    } finally {
      bytes.fill(0);
    }
    const id = AuthKey.idHalvesOf(key);
    if (id.hi !== call.id.hi || id.lo !== call.id.lo) throw corrupted(call, OTHER_ID);
    return key;
  }

  /** The key bytes of a stored value, in a buffer the caller owns and wipes, or AuthKeyCorrupted. */
  #open(call: Call, value: Buffer): Buffer {
    if (this.#sealer === undefined) {
      if (value.length !== KEY_BYTES) throw corrupted(call, unusableProblem(undefined, 0, 0, value) ?? `expected ${KEY_BYTES} key bytes, got ${value.length}`);
      return value;
    }
    const opened = this.#sealer.open(idBytesOf(call.id.hi, call.id.lo), value);
    if (typeof opened === 'string') throw corrupted(call, unusableProblem(this.#sealer, call.id.hi, call.id.lo, value) ?? opened);
    return opened;
  }
}
