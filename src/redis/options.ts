/**
 * The options of `RedisAuthKeyManager` and their checking: what a caller may pass, and the settings
 * the manager is made from once every property was read once and found sound. The option types
 * are public (`mtproto-authkey/redis`); the rest is marked internal one by one.
 */
import type { Cluster, Redis } from 'ioredis';
import { describe } from '../core/validate.js';
import { type CacheSettings, type RedisAuthKeyCacheOptions, parseCacheOptions } from './near-cache.js';
import { type AuthKeyEncryption, Sealer } from './sealer.js';

/** @internal */
export const DEFAULT_PREFIX = 'authkey:';
/** @internal */
export const DEFAULT_TIMEOUT_MS = 2000;
/** setTimeout's limit: a larger delay fires at once. @internal */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

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
  /**
   * Keep a bounded local copy of the keys read (the near cache): lookups of cached keys skip
   * Redis, and Redis itself reports every change to a key under `prefix` so that the copy is
   * dropped on every node (server-assisted client-side caching, Redis 6 or later). See
   * `RedisAuthKeyCacheOptions` and docs/managers.md's "The near cache". Opens one more connection
   * per Redis node, which `close()` ends.
   *
   * `SWAPDB`: Redis 7.0 reports no change of the keys when the database under the connection is
   * swapped for another. On a standalone server the manager therefore asks `INFO commandstats`
   * on its own connection every 500 ms; when the count of SWAPDB calls (or of the statistics,
   * after `CONFIG RESETSTAT`) moved, the whole cache is emptied, so keys of the database swapped
   * out are served for at most about half a second (plus the answer's time, itself bounded by
   * `timeoutMs`: a check not answered in time counts as the link being down). A Redis user that
   * may not run `INFO` keeps the cache unlinked (`cacheStats().linked` stays false: nothing is
   * cached). A Redis Cluster refuses SWAPDB, so nothing is asked there.
   */
  cache?: RedisAuthKeyCacheOptions;
}

/**
 * Options of `RedisAuthKeyManager`: an ioredis client you own (`client`), or a URL for a
 * connection the manager opens, owns and ends in `close()`.
 */
export type RedisAuthKeyManagerOptions = RedisAuthKeyManagerCommonOptions &
  (
    | {
        /**
         * An ioredis `Redis` or `Cluster` client. The manager never closes it. `connectRedis`
         * makes one with the settings below, connected.
         *
         * Recommended settings for a client made for the manager (they are what `url` sets up):
         * - `enableAutoPipelining: true`: calls made in the same event-loop turn go to Redis in
         *   one write; with many calls in flight this is several times faster (see
         *   https://github.com/redis/ioredis#autopipelining). The same option on `Cluster`
         *   batches per node.
         * - `maxRetriesPerRequest: 0` and `enableOfflineQueue: false`: a command that the client
         *   cannot send at once fails at once, instead of waiting in the client's offline queue
         *   and perhaps running after the manager already told its caller it failed.
         *
         * While the client is (re)connecting, calls wait in the manager, never in the client's
         * offline queue, so one that timed out is never sent later. With ioredis defaults a
         * command the manager already handed over when the connection broke (sent, or in an
         * auto-pipeline batch not yet written) may still be sent by the client on reconnect
         * (`autoResendUnfulfilledCommands`, the offline queue); the settings above prevent that.
         */
        client: Redis | Cluster;
        /** Not with `client`: give one or the other. */
        url?: undefined;
      }
    | {
        /**
         * `redis://[user:password@]host:port[/db]` or `rediss://…` of a standalone server. The
         * manager's connection uses auto-pipelining and fails fast instead of queueing (see
         * `client` for why).
         */
        url: string;
        /** Not with `url`: give one or the other. */
        client?: undefined;
      }
  );

/** The options of a manager, checked. @internal */
export interface ManagerSettings {
  readonly client: Redis | Cluster | undefined;
  readonly url: unknown;
  readonly prefix: string;
  readonly timeoutMs: number;
  readonly sealer: Sealer | undefined;
  readonly cache: CacheSettings | undefined;
}

/** The client methods the manager calls; a `client` without them is refused. */
const CLIENT_METHODS = ['getBuffer', 'setBuffer', 'exists', 'del'] as const;

const WHAT = 'RedisAuthKeyManager';

/** A `timeoutMs` option checked: milliseconds in (0, 2**31). @internal */
export function parseTimeoutMs(timeoutMs: unknown, what: string): number {
  if (typeof timeoutMs !== 'number') throw new TypeError(`${what} timeoutMs: expected milliseconds as a number, got ${describe(timeoutMs)}`);
  if (!(timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) throw new RangeError(`${what} timeoutMs: expected milliseconds in (0, 2**31), got ${timeoutMs}`);
  return timeoutMs;
}

/**
 * The options of `RedisAuthKeyManager`, checked (the URL's own check is the client factory's).
 * @throws TypeError / RangeError as the constructor documents
 * @internal
 */
export function parseManagerOptions(options: RedisAuthKeyManagerOptions): ManagerSettings {
  if (options === null || typeof options !== 'object') throw new TypeError(`${WHAT}: expected an options object, got ${describe(options)}`);
  const { client, url, prefix = DEFAULT_PREFIX, timeoutMs = DEFAULT_TIMEOUT_MS, encryption, cache } = options;
  if (typeof prefix !== 'string') throw new TypeError(`${WHAT} prefix: expected a string, got ${describe(prefix)}`);
  parseTimeoutMs(timeoutMs, WHAT);
  const sealer = encryption === undefined ? undefined : new Sealer(encryption);
  const cacheSettings = cache === undefined ? undefined : parseCacheOptions(cache);
  if (client !== undefined && url !== undefined) throw new TypeError(`${WHAT}: expected either client or url, got both`);
  if (client === undefined && url === undefined) throw new TypeError(`${WHAT}: expected a client (an ioredis Redis or Cluster) or a url, got neither`);
  if (
    client !== undefined &&
    (client === null || typeof client !== 'object' || !CLIENT_METHODS.every((m) => typeof (client as unknown as Record<string, unknown>)[m] === 'function'))
  ) {
    throw new TypeError(`${WHAT} client: expected an ioredis Redis or Cluster client, got ${describe(client)}`);
  }
  return { client, url, prefix, timeoutMs, sealer, cache: cacheSettings };
}
