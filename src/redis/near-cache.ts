/**
 * The near cache of `RedisAuthKeyManager`: a bounded local copy of the keys the manager has read
 * (the same compact key table as `AuthKeyManager`, with CLOCK eviction), ids known to be absent
 * for a short time, the reads in flight (one per id), and the rules that keep it from serving a
 * key Redis no longer holds:
 *
 * - Every change to a key under the prefix, by anyone, reaches the cache as an invalidation (see
 *   invalidation.ts) and drops the id, positive or negative.
 * - A read fills the cache only if no invalidation of its id, no flush and no change of the link
 *   came while it was in flight. An invalidation can overtake the reply of a read that was served
 *   before the change (the race in Redis's client-side caching documentation,
 *   https://redis.io/docs/latest/develop/reference/client-side-caching/#avoiding-race-conditions),
 *   and that reply is the old value.
 * - While the link is down nothing is filled, and cached keys are dropped (at once, or after
 *   `serveStaleMs`); when it is up again everything cached before is dropped too, since
 *   invalidations may have been missed meanwhile.
 * @internal
 */
import type { AuthKey } from '../core/auth-key.js';
import type { InvalidationListener } from './invalidation.js';
import { hexU32 } from '../core/ids.js';
import { COLLISION, KeyTable } from '../managers/key-table.js';
import { NegativeIds } from './negative-cache.js';
import { describe } from '../core/validate.js';

/** The `cache` option of `RedisAuthKeyManager`. */
export interface RedisAuthKeyCacheOptions {
  /**
   * Most keys kept; past it, the least recently used (approximately: CLOCK, a second chance for
   * each key looked up since the last sweep) make room. An integer in [1, 2**24]. Each key takes
   * about 330 bytes, and 60 more once looked up.
   */
  maxKeys: number;
  /**
   * How long an id that Redis does not have is answered as missing without asking Redis again,
   * in milliseconds; default 1000, 0 to ask every time. A key created for the id anywhere clears
   * it at once (Redis reports the creation); one created while the invalidation link is down is
   * seen by the next read after the link is back.
   */
  negativeTtlMs?: number;
  /** Most ids remembered as missing (the oldest are forgotten first); default `maxKeys`. An integer in [1, 2**24]. */
  negativeMaxKeys?: number;
  /**
   * How long cached keys are still served after the invalidation link is lost, in milliseconds;
   * default 0 (dropped at once). During that time a key deleted or expired in Redis may still be
   * served from the cache, since its invalidation cannot arrive. Nothing new is cached meanwhile.
   */
  serveStaleMs?: number;
}

/** Counters and sizes of the near cache, from `RedisAuthKeyManager.cacheStats()`. */
export interface RedisAuthKeyCacheStats {
  /** Lookups answered from the cache (`getKey` and `peekKey`). */
  hits: number;
  /** `getKey` calls that read Redis (joiners of a read already in flight not counted). */
  misses: number;
  /** `getKey` calls answered as missing from the remembered absent ids. */
  negativeHits: number;
  /** `getKey` calls that joined a read of the same id already in flight (single flight). */
  joins: number;
  /** Key names reported changed by Redis. */
  invalidations: number;
  /** Keys dropped to stay within `maxKeys`. */
  evictions: number;
  /** Times the whole cache was emptied: FLUSHALL/FLUSHDB, the link lost or regained. */
  flushes: number;
  /** Keys cached now. */
  size: number;
  /** Ids remembered as missing now (`negativeTtlMs`). */
  negativeSize: number;
  /** The configured bound (0 without a cache). */
  maxKeys: number;
  /** Tracking is armed on every Redis node: the cache is filled and trusted. */
  linked: boolean;
}

/** The largest `maxKeys` / `negativeMaxKeys`. */
const MAX_KEYS = 2 ** 24;
/** setTimeout's limit. */
const MAX_MS = 2 ** 31 - 1;
const DEFAULT_NEGATIVE_TTL_MS = 1000;
/** The negative entries' clock: only durations matter there, so one that setting the wall clock back cannot stretch. */
const monotonic = (): number => performance.now();

export interface CacheSettings {
  maxKeys: number;
  negativeTtlMs: number;
  negativeMaxKeys: number;
  serveStaleMs: number;
}

function count(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new TypeError(`RedisAuthKeyManager cache.${name}: expected an integer number of keys, got ${describe(value)}`);
  if (!(Number.isInteger(value) && value >= 1 && value <= MAX_KEYS))
    throw new RangeError(`RedisAuthKeyManager cache.${name}: expected an integer in [1, 2**24], got ${value}`);
  return value;
}

function millis(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new TypeError(`RedisAuthKeyManager cache.${name}: expected milliseconds as a number, got ${describe(value)}`);
  if (!(value >= 0 && value <= MAX_MS)) throw new RangeError(`RedisAuthKeyManager cache.${name}: expected milliseconds in [0, 2**31), got ${value}`);
  return value;
}

/** The `cache` option checked, each property read once. */
export function parseCacheOptions(options: unknown): CacheSettings {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`RedisAuthKeyManager cache: expected { maxKeys, negativeTtlMs?, negativeMaxKeys?, serveStaleMs? }, got ${describe(options)}`);
  }
  const { maxKeys, negativeTtlMs = DEFAULT_NEGATIVE_TTL_MS, negativeMaxKeys, serveStaleMs = 0 } = options as RedisAuthKeyCacheOptions;
  const max = count(maxKeys, 'maxKeys');
  return {
    maxKeys: max,
    negativeTtlMs: millis(negativeTtlMs, 'negativeTtlMs'),
    negativeMaxKeys: negativeMaxKeys === undefined ? max : count(negativeMaxKeys, 'negativeMaxKeys'),
    serveStaleMs: millis(serveStaleMs, 'serveStaleMs'),
  };
}

/** A read of one id from Redis for the cache, shared by every `getKey` of that id meanwhile. */
export class Flight {
  /** An invalidation of the id, a flush or a change of the link came while it was in flight. */
  invalidated = false;
  /** What every caller of this read gets. */
  promise: Promise<AuthKey> | undefined;
  /** The key read, while its expiry is asked for (the read's second step). */
  key: AuthKey | undefined;

  constructor(
    /** The id as 16 hex digits (the map key of the reads in flight). */
    readonly hex: string,
  ) {}
}

export class NearCache implements InvalidationListener {
  /** The keys; the manager's lookups read it directly (the per-packet path). */
  readonly table: KeyTable;
  readonly #negative: NegativeIds | undefined;
  readonly #flights = new Map<string, Flight>();
  /** Bytes of the key prefix; an invalidated name is the prefix then 16 hex digits. */
  readonly #prefixLength: number;
  readonly #settings: CacheSettings;
  readonly #now: () => number;
  #linked = false;
  #everLinked = false;
  #staleTimer: ReturnType<typeof setTimeout> | undefined;

  hits = 0;
  misses = 0;
  negativeHits = 0;
  joins = 0;
  #invalidations = 0;
  #flushes = 0;

  /** @param prefix the full key prefix Redis sees (a client-side `keyPrefix` included) */
  constructor(settings: CacheSettings, prefix: string, now: () => number) {
    this.#settings = settings;
    this.#now = now;
    this.#prefixLength = Buffer.byteLength(prefix);
    this.table = new KeyTable(now, settings.maxKeys);
    this.#negative = settings.negativeTtlMs > 0 ? new NegativeIds(settings.negativeMaxKeys, settings.negativeTtlMs, monotonic) : undefined;
  }

  /** Whether (hi, lo) is remembered as missing (and counts it). */
  knownMissing(hi: number, lo: number): boolean {
    const negative = this.#negative;
    if (negative === undefined || !negative.has(hi, lo)) return false;
    this.negativeHits++;
    return true;
  }

  /** The read of `hex` in flight, joined (and counted), or undefined. */
  join(hex: string): Flight | undefined {
    const flight = this.#flights.get(hex);
    if (flight !== undefined) this.joins++;
    return flight;
  }

  /** A new read of `hex`, which later callers join until it settles or is invalidated. */
  start(hex: string): Flight {
    const flight = new Flight(hex);
    this.#flights.set(hex, flight);
    this.misses++;
    return flight;
  }

  /** The read settled (whatever the outcome): later callers start a new one. */
  end(flight: Flight): void {
    if (this.#flights.get(flight.hex) === flight) this.#flights.delete(flight.hex);
  }

  /** Whether the read `flight` would fill the cache if it ended now (so its expiry is worth asking for). */
  fills(flight: Flight): boolean {
    return this.#trusted(flight);
  }

  #trusted(flight: Flight): boolean {
    // Every flush and change of the link cancels the reads in flight (#cancelAll).
    return this.#linked && !flight.invalidated;
  }

  /**
   * The read found `key`; `expireTime` is Redis's PEXPIRETIME of it (epoch ms, -1 for none, -2 if
   * it was gone by then). Cached if nothing changed meanwhile.
   */
  found(flight: Flight, key: AuthKey, hi: number, lo: number, expireTime: number): void {
    if (!this.#trusted(flight) || expireTime === -2) return;
    const expiresAt = expireTime === -1 ? 0 : expireTime;
    if (expiresAt !== 0 && expiresAt <= this.#now()) return;
    // A different key cached under the id would mean an invalidation was lost: trust neither.
    if (this.table.insert(key, expiresAt) === COLLISION) this.table.delete(hi, lo);
  }

  /** The read found nothing: remembered as missing if nothing changed meanwhile. */
  missing(flight: Flight, hi: number, lo: number): void {
    if (this.#negative !== undefined && this.#trusted(flight)) this.#negative.add(hi, lo);
  }

  /**
   * This manager is about to write the id (setKey): it is no longer known to be missing, and a
   * read in flight may return what was there before.
   */
  writing(hi: number, lo: number, hex: string): void {
    this.#negative?.delete(hi, lo);
    this.#cancel(hex);
  }

  /** This manager is about to delete the id: it is dropped here at once. */
  deleting(hi: number, lo: number, hex: string): void {
    this.table.delete(hi, lo);
    this.writing(hi, lo, hex);
  }

  #cancel(hex: string): void {
    const flight = this.#flights.get(hex);
    if (flight === undefined) return;
    flight.invalidated = true;
    this.#flights.delete(hex);
  }

  invalidate(names: readonly Buffer[]): void {
    const at = this.#prefixLength;
    const negative = this.#negative;
    for (const name of names) {
      this.#invalidations++;
      // Other keys under the prefix (not 16 hex digits after it) are not ours.
      if (name.length !== at + 16) continue;
      const hi = hexU32(name, at);
      const lo = hexU32(name, at + 8);
      if (hi < 0 || lo < 0) continue;
      this.table.delete(hi, lo);
      negative?.delete(hi, lo);
      if (this.#flights.size > 0) this.#cancel(name.toString('latin1', at));
    }
  }

  flush(): void {
    this.#clear();
  }

  /** Drops everything cached and cancels the reads in flight. */
  #clear(): void {
    this.table.clear();
    this.#negative?.clear();
    this.#cancelAll();
    this.#flushes++;
  }

  /** Every read in flight may return what is no longer true: none fills, later callers read anew. */
  #cancelAll(): void {
    for (const flight of this.#flights.values()) flight.invalidated = true;
    this.#flights.clear();
  }

  linkChanged(linked: boolean): void {
    this.#linked = linked;
    // The first link up finds the cache empty: nothing to drop, not counted as a flush; reads
    // made before it still must not fill.
    if (linked && !this.#everLinked) {
      this.#everLinked = true;
      this.#cancelAll();
      return;
    }
    this.#stopStaleTimer();
    const stale = this.#settings.serveStaleMs;
    if (linked || stale === 0) {
      this.#clear();
      return;
    }
    // Served as they are for serveStaleMs; new reads are not cached meanwhile (not #trusted), and
    // ids remembered as missing are forgotten: a key created during the outage must be found.
    this.#negative?.clear();
    this.#cancelAll();
    this.#staleTimer = setTimeout(() => {
      this.#staleTimer = undefined;
      this.#clear();
    }, stale);
    this.#staleTimer.unref();
  }

  #stopStaleTimer(): void {
    if (this.#staleTimer === undefined) return;
    clearTimeout(this.#staleTimer);
    this.#staleTimer = undefined;
  }

  /** Drops everything, for good (the manager is closing). */
  close(): void {
    this.#linked = false;
    this.#stopStaleTimer();
    this.#clear();
  }

  stats(): RedisAuthKeyCacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      negativeHits: this.negativeHits,
      joins: this.joins,
      invalidations: this.#invalidations,
      evictions: this.table.evictions,
      flushes: this.#flushes,
      size: this.table.size,
      negativeSize: this.#negative?.size ?? 0,
      maxKeys: this.#settings.maxKeys,
      linked: this.#linked,
    };
  }
}
