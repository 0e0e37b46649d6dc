/**
 * Operations over a whole Redis key store (every master of a Cluster): list the stored ids, count
 * values by their layout (stats), verify every value, reseal values under the current secret, and
 * read every valid key for a dump. The
 * store is walked with SCAN in bounded batches, never KEYS, so Redis keeps serving while it runs;
 * the values of a batch are read with one command per key (in a Cluster the keys of one node still
 * live in different slots, so no multi-key command), all in flight at once. Each step (a SCAN, the
 * reads or writes of a batch) waits for a client that is (re)connecting and is bounded, the wait
 * included, by the manager's `timeoutMs`, like a per-key call; a step whose time ran out is never
 * sent.
 * @internal
 */
import type { Cluster, Redis } from 'ioredis';
import { AuthKey } from '../core/auth-key.js';
import { AuthKeyStoreUnavailable } from '../core/errors.js';
import type { AuthKeyEntry } from '../managers/auth-key-manager.js';
import { idBigint, idHex } from '../core/ids.js';
import {
  type OperationSettings,
  type ResealReport,
  type StoredKeyInfo,
  StoreOperationUnsupported,
  type VerifyReport,
  checkAborted,
  parseIntegerOption,
  parseOperationOptions,
} from '../managers/operations.js';
import type { Sealer } from './sealer.js';
import { idBytesOf, keyProblem, missingSecret, unopenableVersion } from './stored-value.js';
import { KEY_BYTES } from '../core/sizes.js';
import { SEALED_BYTES } from './sealer.js';
import { isCluster, within } from './client.js';

/** What the operations need of a manager. @internal */
export interface StoreAccess {
  readonly client: Redis | Cluster;
  /** The manager's prefix (what the client is asked for). */
  readonly prefix: string;
  /** The prefix Redis sees: the client's own `keyPrefix`, if any, then the manager's. */
  readonly seenPrefix: string;
  readonly sealer: Sealer | undefined;
  /** The longest any one step (a SCAN, the reads or writes of a batch) may wait for Redis. */
  readonly timeoutMs: number;
  /** Whether the manager was closed. */
  closed(): boolean;
}

const DEFAULT_BATCH = 1000;
const MAX_BATCH = 100_000;
const HEX_ID = /^[0-9a-f]{16}$/;

/**
 * Rewrites KEYS[1] to ARGV[2] only if it still holds exactly ARGV[1], keeping its expiry: a value
 * deleted, replaced or expired since it was read stays as it is now. `pcall`, so a key replaced by
 * another type meanwhile counts as changed instead of failing the script.
 */
const COMPARE_AND_SET = "if redis.pcall('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL') return 1 end return 0";

/** A value whose read failed with WRONGTYPE: the name holds something other than a string. */
const NOT_A_STRING: unique symbol = Symbol('not a string');
type Read = Buffer | null | typeof NOT_A_STRING;

/** The options of a scan-based operation, checked. */
interface ScanSettings extends OperationSettings {
  readonly batch: number;
}

function parseScanOptions(options: unknown, what: string): ScanSettings {
  const settings = parseOperationOptions(options, what);
  const batch = options === undefined ? undefined : (options as { batch?: unknown }).batch;
  return { ...settings, batch: parseIntegerOption(batch, `${what} batch`, 1, MAX_BATCH, DEFAULT_BATCH) };
}

/** `*`, `?`, `[`, `]` and `\` of a prefix, escaped so SCAN's MATCH takes them literally. @internal */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/**
 * The servers that hold the keys: the client's one, or every master of a Cluster. A Cluster
 * client learns its masters only once connected (before that it lists none, and a walk would
 * silently find nothing), so this waits for it to be ready, within `timeoutMs`.
 */
async function servers(access: StoreAccess, what: string): Promise<Redis[]> {
  const { client } = access;
  if (!isCluster(client)) return [client];
  if (client.status !== 'ready') {
    let onReady = (): void => undefined;
    const ready = new Promise<void>((resolve) => {
      onReady = resolve;
      client.once('ready', onReady);
    });
    try {
      await within(access.timeoutMs, `${what}: connecting to the Cluster`, () => ready);
    } finally {
      client.off('ready', onReady);
    }
  }
  const masters = client.nodes('master');
  if (masters.length === 0) throw new AuthKeyStoreUnavailable(`${what}: the Cluster client knows no master`);
  return masters;
}

/** One step of an operation on `server`: `send()` once it can take commands, all within `timeoutMs`. */
function step<T>(access: StoreAccess, server: Redis | Cluster, what: string, send: () => Promise<T>): Promise<T> {
  return within(access.timeoutMs, what, send, server);
}

function checkOpen(access: StoreAccess, what: string): void {
  if (access.closed()) throw new AuthKeyStoreUnavailable(`${what}: the manager was closed`);
}

/**
 * Ids seen on one server in this scan: SCAN may return a name twice when Redis resizes its table
 * meanwhile, and every operation counts each key once. Open addressing over two Uint32Arrays
 * (8 bytes an id at half load), so a store of millions of keys costs tens of megabytes, not a
 * string per key.
 */
class IdSet {
  #hi = new Uint32Array(1024);
  #lo = new Uint32Array(1024);
  #used = new Uint8Array(1024);
  #size = 0;

  /** Adds (hi, lo); false if it was there already. */
  add(hi: number, lo: number): boolean {
    if (this.#size * 2 >= this.#used.length) this.#grow();
    const mask = this.#used.length - 1;
    for (let i = Math.imul(hi ^ Math.imul(lo, 0x9e3779b1), 0x85ebca6b) & mask; ; i = (i + 1) & mask) {
      if (this.#used[i] === 0) {
        this.#used[i] = 1;
        this.#hi[i] = hi;
        this.#lo[i] = lo;
        this.#size++;
        return true;
      }
      if (this.#hi[i] === hi >>> 0 && this.#lo[i] === lo >>> 0) return false;
    }
  }

  #grow(): void {
    const { length } = this.#used;
    const [hi, lo, used] = [this.#hi, this.#lo, this.#used];
    this.#hi = new Uint32Array(length * 2);
    this.#lo = new Uint32Array(length * 2);
    this.#used = new Uint8Array(length * 2);
    this.#size = 0;
    for (let i = 0; i < length; i++) if (used[i] === 1) this.add(hi[i], lo[i]);
  }
}

/** One SCAN batch: the ids found (each once per run) and their names as the client is asked for them. */
interface Batch {
  readonly his: number[];
  readonly los: number[];
  readonly names: string[];
}

/**
 * The stored ids in batches of about `batch` names: SCAN MATCH `<prefix>*` COUNT `batch` on each
 * server in turn, names that are not prefix + 16 lowercase hex digits left out. Checks between
 * batches that the manager is open and the signal not aborted.
 */
async function* scan(access: StoreAccess, settings: ScanSettings, what: string): AsyncGenerator<Batch> {
  const { seenPrefix, prefix } = access;
  const pattern = `${globEscape(seenPrefix)}*`;
  for (const server of await servers(access, what)) {
    const seen = new IdSet();
    let cursor = '0';
    do {
      checkOpen(access, what);
      checkAborted(settings.signal);
      const [next, found] = await step(access, server, `${what}: SCAN`, () => server.scan(cursor, 'MATCH', pattern, 'COUNT', settings.batch));
      cursor = next;
      const batch: Batch = { his: [], los: [], names: [] };
      for (const name of found) {
        const hex = name.slice(seenPrefix.length);
        if (name.length !== seenPrefix.length + 16 || !name.startsWith(seenPrefix) || !HEX_ID.test(hex)) continue;
        const hi = Number.parseInt(hex.slice(0, 8), 16);
        const lo = Number.parseInt(hex.slice(8), 16);
        if (!seen.add(hi, lo)) continue;
        batch.his.push(hi);
        batch.los.push(lo);
        batch.names.push(prefix + hex);
      }
      if (batch.names.length > 0) yield batch;
    } while (cursor !== '0');
  }
}

/** The number of keys on the server(s), for progress; undefined when no one listens. */
async function totalOf(access: StoreAccess, settings: OperationSettings, what: string): Promise<number | undefined> {
  if (settings.onProgress === undefined) return undefined;
  const list = await servers(access, what);
  const sizes = await Promise.all(list.map((server) => step(access, server, `${what}: DBSIZE`, () => server.dbsize())));
  return sizes.reduce((sum, n) => sum + n, 0);
}

/** The values of a batch (null for a name gone since the scan). */
function readValues(access: StoreAccess, names: string[], what: string): Promise<Read[]> {
  const { client } = access;
  return step(access, client, `${what}: GET`, () =>
    Promise.all(
      names.map((name) =>
        client.getBuffer(name).catch((error: unknown): Read => {
          if (error instanceof Error && error.message.startsWith('WRONGTYPE')) return NOT_A_STRING;
          throw error;
        }),
      ),
    ),
  );
}

/** PEXPIRETIME of each name of a batch: epoch ms, -1 for no expiry, -2 for a name gone. */
function readExpiries(access: StoreAccess, names: string[], what: string): Promise<number[]> {
  const { client } = access;
  return step(access, client, `${what}: PEXPIRETIME`, () => Promise.all(names.map((name) => client.pexpiretime(name))));
}

/** Wipes the values of a batch once judged: a raw value is the key itself. */
function wipe(values: Read[]): void {
  for (const value of values) if (value !== null && value !== NOT_A_STRING) value.fill(0);
}

/** How a stored value is stored, if it is valid: raw key bytes, or sealed under a version. */
const RAW = -1;
const CORRUPTED = -2;

/**
 * The key bytes of a stored value (a buffer the caller wipes) and how they were stored (RAW or
 * the secret version), or CORRUPTED: `getKey`'s judgement, except that with `encryption` a raw
 * value whose bytes are the key of its id is reported RAW (`getKey` refuses it until `reseal`
 * seals it), so that a store can move from raw values to sealed ones.
 */
function judge(access: StoreAccess, hi: number, lo: number, value: Read): { bytes: Buffer; how: number } | typeof CORRUPTED {
  if (value === null || value === NOT_A_STRING) return CORRUPTED;
  const { sealer } = access;
  let bytes: Buffer;
  let how: number;
  if (value.length === KEY_BYTES) {
    // A copy: the caller wipes the key bytes, and reseal still compares `value` itself.
    bytes = Buffer.from(value);
    how = RAW;
  } else {
    if (sealer === undefined) return CORRUPTED;
    const opened = sealer.open(idBytesOf(hi, lo), value);
    if (typeof opened === 'string') return CORRUPTED;
    bytes = opened;
    how = sealer.versionOf(value)!;
  }
  if (keyProblem(hi, lo, bytes) !== undefined) {
    bytes.fill(0);
    return CORRUPTED;
  }
  return { bytes, how };
}

/**
 * The stored ids with their expiry, as `RedisAuthKeyManager#keys` documents. Options are checked
 * when called (it throws), before anything is sent.
 * @internal
 */
export function storedKeys(access: StoreAccess, options: unknown): AsyncIterableIterator<StoredKeyInfo> {
  const what = 'keys';
  const settings = parseScanOptions(options, what);
  return (async function* () {
    checkOpen(access, what);
    checkAborted(settings.signal);
    const total = await totalOf(access, settings, what);
    let done = 0;
    for await (const { his, los, names } of scan(access, settings, what)) {
      const expiries = await readExpiries(access, names, what);
      const infos: StoredKeyInfo[] = [];
      for (let i = 0; i < names.length; i++) {
        // Gone since the scan: deleted or expired.
        if (expiries[i] === -2) continue;
        infos.push({
          id: idBigint(his[i], los[i]),
          idBytes: new Uint8Array(idBytesOf(his[i], los[i])),
          expiresAt: expiries[i] === -1 ? undefined : expiries[i],
        });
      }
      // Yielded before progress is told, so `done` counts what the caller has.
      yield* infos;
      done += infos.length;
      settings.onProgress?.(done, total);
    }
  })();
}

/** What `RedisAuthKeyManager#stats` counts: the store's keys by the layout of their values, none opened. */
export interface StoreStats {
  /** Keys under the prefix (names of the prefix and 16 lowercase hex digits), whatever their value. */
  keys: number;
  /** Of those, the ones with an expiry. */
  expiring: number;
  /** Values of 256 bytes: the layout of a raw key (the bytes are not checked). */
  raw: number;
  /** Values of 285 bytes, the layout of a sealed key, counted by the secret version in their first byte (not opened). */
  sealed: Record<number, number>;
  /** Anything else: another length, or not a Redis string. `verify()` names them. */
  other: number;
}

/** A STRLEN that failed with WRONGTYPE: the name holds something other than a string. */
const NOT_A_STRING_LENGTH = -1;

/** `RedisAuthKeyManager#stats`. @internal */
export async function storeStats(access: StoreAccess, options: unknown): Promise<StoreStats> {
  const what = 'stats';
  const settings = parseScanOptions(options, what);
  checkOpen(access, what);
  checkAborted(settings.signal);
  const { client } = access;
  const total = await totalOf(access, settings, what);
  const report: StoreStats = { keys: 0, expiring: 0, raw: 0, sealed: {}, other: 0 };
  for await (const { names } of scan(access, settings, what)) {
    // STRLEN before PEXPIRETIME on the same connection: a name PEXPIRETIME still finds existed
    // when its length was read (or was made in between: counted by whatever STRLEN saw).
    const [lengths, expiries] = await step(access, client, `${what}: STRLEN`, () =>
      Promise.all([
        Promise.all(
          names.map((name) =>
            client.strlen(name).catch((error: unknown) => {
              if (error instanceof Error && error.message.startsWith('WRONGTYPE')) return NOT_A_STRING_LENGTH;
              throw error;
            }),
          ),
        ),
        Promise.all(names.map((name) => client.pexpiretime(name))),
      ]),
    );
    const sealedNames: string[] = [];
    const sealedExpiring: boolean[] = [];
    for (let i = 0; i < names.length; i++) {
      // Gone since the scan: deleted or expired.
      if (expiries[i] === -2) continue;
      report.keys++;
      if (expiries[i] > 0) report.expiring++;
      if (lengths[i] === KEY_BYTES) report.raw++;
      else if (lengths[i] === SEALED_BYTES) {
        sealedNames.push(names[i]);
        sealedExpiring.push(expiries[i] > 0);
      } else report.other++;
    }
    if (sealedNames.length > 0) {
      // The version byte only: nothing of the key is read.
      const firsts = await step(access, client, `${what}: GETRANGE`, () => Promise.all(sealedNames.map((name) => client.getrangeBuffer(name, 0, 0))));
      for (let i = 0; i < firsts.length; i++) {
        if (firsts[i].length === 1) {
          const version = firsts[i][0];
          report.sealed[version] = (report.sealed[version] ?? 0) + 1;
          continue;
        }
        // Gone between the two reads.
        report.keys--;
        if (sealedExpiring[i]) report.expiring--;
      }
    }
    settings.onProgress?.(report.keys, total);
  }
  return report;
}

/** `RedisAuthKeyManager#verify`. @internal */
export async function verifyStore(access: StoreAccess, options: unknown): Promise<VerifyReport> {
  const what = 'verify';
  const settings = parseScanOptions(options, what);
  checkOpen(access, what);
  checkAborted(settings.signal);
  const total = await totalOf(access, settings, what);
  const report: VerifyReport = { scanned: 0, ok: 0, corrupted: 0, corruptedIds: [], raw: 0, sealed: {}, expiring: 0 };
  for await (const { his, los, names } of scan(access, settings, what)) {
    const [values, expiries] = await Promise.all([readValues(access, names, what), readExpiries(access, names, what)]);
    for (let i = 0; i < names.length; i++) {
      if (values[i] === null) continue;
      report.scanned++;
      const judged = judge(access, his[i], los[i], values[i]);
      if (judged === CORRUPTED) {
        report.corrupted++;
        report.corruptedIds.push(idBigint(his[i], los[i]));
        continue;
      }
      judged.bytes.fill(0);
      report.ok++;
      if (judged.how === RAW) report.raw++;
      else report.sealed[judged.how] = (report.sealed[judged.how] ?? 0) + 1;
      if (expiries[i] > 0) report.expiring++;
    }
    wipe(values);
    settings.onProgress?.(report.scanned, total);
  }
  return report;
}

/** `RedisAuthKeyManager#reseal`. @internal */
export async function resealStore(access: StoreAccess, options: unknown): Promise<ResealReport> {
  const what = 'reseal';
  const settings = parseScanOptions(options, what);
  const { sealer, client } = access;
  if (sealer === undefined) {
    throw new StoreOperationUnsupported(
      'reseal: this manager has no encryption, so there is no secret to seal with; make it with { encryption: { secrets, current } }',
    );
  }
  checkOpen(access, what);
  checkAborted(settings.signal);
  const total = await totalOf(access, settings, what);
  const report: ResealReport = { scanned: 0, resealed: 0, alreadyCurrent: 0, changed: 0, corrupted: 0, corruptedIds: [] };
  for await (const { his, los, names } of scan(access, settings, what)) {
    const values = await readValues(access, names, what);
    const rewrites: Array<{ name: string; old: Buffer; sealed: Buffer }> = [];
    const writes: Array<Promise<unknown>> = [];
    let outcomes: unknown[];
    try {
      for (let i = 0; i < names.length; i++) {
        const value = values[i];
        if (value === null) continue;
        report.scanned++;
        const judged = judge(access, his[i], los[i], value);
        if (judged === CORRUPTED) {
          report.corrupted++;
          report.corruptedIds.push(idBigint(his[i], los[i]));
          continue;
        }
        const { bytes, how } = judged;
        if (how === sealer.current) {
          bytes.fill(0);
          report.alreadyCurrent++;
          continue;
        }
        const sealed = sealer.seal(idBytesOf(his[i], los[i]), bytes);
        bytes.fill(0);
        rewrites.push({ name: names[i], old: value as Buffer, sealed });
      }
      // Sent only once the client can take them, and not at all once the step's time is up.
      outcomes = await step(access, client, `${what}: compare-and-set`, () => {
        for (const { name, old, sealed } of rewrites) writes.push(client.eval(COMPARE_AND_SET, 1, name, old, sealed));
        return Promise.all(writes);
      });
    } catch (error) {
      // A raw value is the key: wiped on failure too, but only once no write still holds it to
      // compare (a write that has not been sent yet would otherwise compare zeros).
      void Promise.allSettled(writes).then(() => wipe(values));
      throw error;
    }
    wipe(values);
    for (const outcome of outcomes) {
      if (outcome === 1) report.resealed++;
      else report.changed++;
    }
    settings.onProgress?.(report.scanned, total);
  }
  return report;
}

/**
 * Every stored value for `exportKeys`: each valid key with its expiry, and `{ corruptedId }` for
 * each value that is not a valid key for its id (raw values under `encryption` count as valid, as
 * `verify` counts them). Lazy: nothing is sent before the first `next()`. Abort and progress are
 * the dump writer's (it reads the caller's options); this reader only stops when the manager is
 * closed.
 *
 * A value sealed under a secret the manager does not hold (any sealed value without `encryption`)
 * throws StoreOperationUnsupported: it is most likely a good key, and a dump without it would
 * lose it while saying "corrupted".
 */
export function storedEntries(access: StoreAccess): AsyncIterableIterator<AuthKeyEntry | { corruptedId: bigint }> {
  const what = 'exportKeys';
  const settings: ScanSettings = { signal: undefined, onProgress: undefined, batch: DEFAULT_BATCH };
  return (async function* () {
    for await (const { his, los, names } of scan(access, settings, what)) {
      const [values, expiries] = await Promise.all([readValues(access, names, what), readExpiries(access, names, what)]);
      const entries: Array<AuthKeyEntry | { corruptedId: bigint }> = [];
      for (let i = 0; i < names.length; i++) {
        const value = values[i];
        if (value === null) continue;
        const version = value === NOT_A_STRING ? undefined : unopenableVersion(access.sealer, value);
        if (version !== undefined) {
          wipe(values);
          throw new StoreOperationUnsupported(
            `${what}: the value stored for auth key id 0x${idHex(his[i], los[i])} is ${missingSecret(access.sealer, version)}; ` +
              'give the manager the at-rest secrets (encryption: { secrets, current }) to export the sealed keys. The export stopped ' +
              'rather than leave them out; what it wrote is not a complete dump',
          );
        }
        const judged = judge(access, his[i], los[i], value);
        if (judged === CORRUPTED) {
          entries.push({ corruptedId: idBigint(his[i], los[i]) });
          continue;
        }
        const key = new AuthKey(judged.bytes);
        judged.bytes.fill(0);
        entries.push(expiries[i] > 0 ? { key, expiresAt: expiries[i] } : { key });
      }
      wipe(values);
      yield* entries;
    }
  })();
}
