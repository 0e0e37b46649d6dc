/** Writing and reading dumps: options, reports, the export and the import. */
import type { KeyObject } from 'node:crypto';
import { AuthKey } from '../core/auth-key.js';
import { AuthKeyCollision, AuthKeyCorrupted, AuthKeyDoesNotExist } from '../core/errors.js';
import { idBigint, u32be } from '../core/ids.js';
import type { AuthKeyEntry } from '../managers/auth-key-manager.js';
import { type StoreOperationOptions, parseOperationOptions } from '../managers/operations.js';
import type { AuthKeyManagerProtocol } from '../managers/protocol.js';
import { ID_AT } from '../core/records.js';
import { KEY_BYTES } from '../core/sizes.js';
import { bytesLength, describe, plainBytes } from '../core/validate.js';
import {
  CONTENT_BYTES,
  CONTENT_EXPIRY_AT,
  CONTENT_KEY_AT,
  FRAME_BYTES,
  HEADER_BYTES,
  KDF_HKDF,
  MAGIC,
  NOT_A_DUMP,
  KDF_SCRYPT,
  RECORD,
  TRAILER,
  deriveKey,
  headerChecks,
  newHeader,
  openFrame,
  parseHeader,
  readU64,
  scryptOverLimit,
  scryptProblem,
  sealFrame,
  sealHeader,
  writeU64,
} from './format.js';

/** The scrypt cost of a dump sealed under a passphrase (RFC 7914). */
export interface ScryptParams {
  /** CPU and memory cost: a power of two from 2**10 to 2**20. */
  N: number;
  /** Block size, 1..32. */
  r: number;
  /** Parallelism, 1..16. */
  p: number;
}

/**
 * The scrypt cost `exportKeys` uses unless told otherwise: N = 2**17, r = 8, p = 1, which takes
 * 128 MiB and a few hundred milliseconds, once per dump. `128 * N * r` may be at most 256 MiB.
 * It is also the most `importKeys` accepts from a dump's header unless its `maxScrypt` option
 * allows more.
 */
export const DEFAULT_SCRYPT: Readonly<ScryptParams> = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });

/**
 * What a dump is sealed under: a passphrase (scrypt derives the key; `scrypt` sets its cost when
 * exporting, a dump carries its own when imported) or a secret of exactly 32 random bytes (HKDF-SHA-256
 * derives a fresh key for each dump from it and the dump's random salt).
 */
export type DumpSecret =
  | {
      /** The passphrase the dump key is derived from with scrypt (a string is NFC-normalised, then UTF-8). */
      passphrase: string | Uint8Array;
      /** scrypt's cost when exporting (default `DEFAULT_SCRYPT`); an import reads it from the dump's header. */
      scrypt?: ScryptParams;
    }
  | {
      /** 32 random bytes the dump key is derived from with HKDF-SHA-256. */
      secret: Uint8Array;
    };

/**
 * One key to export, with its expiry in epoch milliseconds (absent: never expires); what `AuthKeyManager#entries` yields.
 * @deprecated the same type as `AuthKeyEntry` (exported by `mtproto-authkey`), the one name to use.
 */
export type DumpEntry = AuthKeyEntry;

/**
 * What a source may yield instead of an entry: the id of a value it could not read as a key
 * (corrupted in the store). It is counted in `ExportReport.skipped`, and nothing is written.
 */
export interface DumpSkipped {
  /** The id the unreadable value is stored under. */
  corruptedId: bigint;
}

/** What `exportKeys` wrote. */
export interface ExportReport {
  /** Keys written to the dump. */
  exported: number;
  /** Values the source reported as corrupted (not written). */
  skipped: number;
  /** Their ids. */
  skippedIds: bigint[];
}

/**
 * What `importKeys` does when the target already holds a different key under a record's id:
 * 'skip' (the default) counts it and goes on; 'fail' stops the import and rejects with
 * AuthKeyCollision (the keys imported before it stay).
 */
export type CollisionPolicy = 'skip' | 'fail';

/** Options of `importKeys` beyond the common ones. */
export interface ImportOptions {
  /**
   * A {@link CollisionPolicy}, or a function called with the id of each collision and what is
   * stored there instead (as in `ImportReport.collisionReasons`), then counted and skipped; if it
   * throws, the import stops and rejects with what it threw.
   */
  onCollision?: CollisionPolicy | ((id: bigint, reason: string) => void);
  /**
   * The most scrypt work a passphrase dump's header may ask for (default {@link DEFAULT_SCRYPT}):
   * a header is accepted when its `N * r * p` (the time scrypt takes) and its `N * r` (the memory,
   * 128 * N * r bytes) are each at most those of these parameters, else the import rejects with
   * DumpFormatError (`kind` 'scrypt-over-limit') before any work is done. A hostile file can
   * otherwise make each import attempt spend seconds of CPU. Give the `scrypt` the dump was
   * exported with when it was more than the default. The format's own bounds still apply.
   */
  maxScrypt?: ScryptParams;
}

/** What `importKeys` did. Counts are of records; `records` is their sum. */
export interface ImportReport {
  /** Records in the dump read so far (every record when the import completes). */
  records: number;
  /** Keys stored in the target. */
  imported: number;
  /** Records whose key the target already held (its expiry in the target was left as it was). */
  unchanged: number;
  /** Records whose expiry had passed: not stored. */
  expired: number;
  /** Records whose id the target holds with a different key, or with a value it cannot use: not stored. */
  collisions: number;
  /** Their ids. */
  collisionIds: bigint[];
  /**
   * For each of `collisionIds`, in the same order, what the target holds there instead:
   * `a different key is stored under the id`, or `the stored value cannot be used: ` and the target's reason (from
   * its AuthKeyCorrupted), e.g. that the key is stored unsealed, or sealed under a secret version
   * the manager does not have. Only a different key means the id is really taken; the others may
   * be the very key of the record, stored in a form this manager cannot read.
   */
  collisionReasons: string[];
  /** Records that failed authentication (damaged, reordered, from another dump) or whose key does not hash to the recorded id. */
  corrupted: number;
}

/**
 * The passphrase or secret does not open the dump, or its header was altered: found from the
 * header alone, before anything is imported.
 */
export class DumpDecryptionFailed extends Error {
  /** Always `'DumpDecryptionFailed'`, so logs and `err.name` checks tell this error apart. */
  override readonly name = 'DumpDecryptionFailed';
  /** @param detail why, when it is more than a wrong passphrase or secret */
  constructor(detail = 'wrong passphrase or secret, or the dump was altered') {
    super(`cannot open the dump: ${detail}`);
  }
}

/** What a {@link DumpFormatError} found, one word each so that a program can tell them apart. */
export type DumpFormatProblem =
  /** The bytes do not start with the magic `MTPAKDMP`: not a dump at all. */
  | 'not-a-dump'
  /** A dump of a format version this version does not read. */
  | 'unsupported-version'
  /** A header this version does not take: unknown key derivation, scrypt parameters outside the format's bounds. */
  | 'unsupported-header'
  /** A header whose scrypt cost is more than the reader's `maxScrypt` (by default {@link DEFAULT_SCRYPT}). */
  | 'scrypt-over-limit'
  /** The dump ends early: inside its header, inside a frame, or after a whole frame without the trailer. */
  | 'truncated'
  /** The trailer is there but does not authenticate where it stands, or counts another number of records. */
  | 'damaged-trailer'
  /** Bytes follow the trailer. */
  | 'data-after-trailer';

/**
 * The bytes are not a dump this version reads, or the dump is incomplete or damaged at its end;
 * `kind` says which (see {@link DumpFormatProblem}) and the message says what was found. When
 * records were read before the problem showed, `report` says what was done; those keys stay
 * imported.
 */
export class DumpFormatError extends Error {
  /** Always `'DumpFormatError'`, so logs and `err.name` checks tell this error apart. */
  override readonly name = 'DumpFormatError';
  /** What was found. */
  readonly kind: DumpFormatProblem;
  /** What the import did before the problem was found (undefined if it stopped at the header). */
  readonly report: ImportReport | undefined;
  /**
   * @param kind what was found
   * @param message what is wrong, e.g. `not a complete dump: it ends inside frame 12 (truncated)`
   * @param report what the import did before the problem showed
   */
  constructor(kind: DumpFormatProblem, message: string, report?: ImportReport) {
    super(message);
    this.kind = kind;
    this.report = report;
  }
}

/**
 * The stream the dump was read from failed before the dump ended (a file that could not be read,
 * a connection that broke). Its error is the `cause`; `report` says what the import did before,
 * and those keys stay imported.
 */
export class DumpStreamFailed extends Error {
  /** Always `'DumpStreamFailed'`, so logs and `err.name` checks tell this error apart. */
  override readonly name = 'DumpStreamFailed';
  /** What the import did before the stream failed. */
  readonly report: ImportReport;
  /**
   * @param cause the stream's error
   * @param report what the import did before the stream failed
   */
  constructor(cause: unknown, report: ImportReport) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`reading the dump failed after ${report.records} records (${report.imported} imported, and they stay): ${why}`, { cause });
    this.report = report;
  }
}

/** What `ImportReport.collisionReasons` says of an id the target holds with a different valid key. */
const DIFFERENT_KEY = 'a different key is stored under the id';

/** Frames written to the stream in one chunk (about 64 KiB). */
const FRAMES_PER_CHUNK = 226;
/** Records between two onProgress calls of importKeys. */
const IMPORT_BATCH = 1000;

// ---------------------------------------------------------------------------------------------
// Options

interface SecretOptions {
  kdf: number;
  /** A copy of the passphrase (UTF-8) or secret bytes, wiped once the key is derived. */
  material: Uint8Array;
  /** Exporting: the cost to use; importing: the most a header may ask for. */
  scrypt: ScryptParams | undefined;
}

function readOptions(options: unknown, what: string): Record<string, unknown> {
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${what}: expected an options object with a passphrase or a secret, got ${describe(options)}`);
  return options as Record<string, unknown>;
}

/** The `scrypt` option of exportKeys or the `maxScrypt` of importKeys (`option`), checked; the default cost when it is undefined. */
function scryptOption(given: unknown, what: string, option: string): ScryptParams {
  if (given === undefined) return { ...DEFAULT_SCRYPT };
  if (given === null || typeof given !== 'object') throw new TypeError(`${what}: expected options.${option} as { N, r, p }, got ${describe(given)}`);
  const { N = DEFAULT_SCRYPT.N, r = DEFAULT_SCRYPT.r, p = DEFAULT_SCRYPT.p } = given as Partial<ScryptParams>;
  for (const [name, v] of [
    ['N', N],
    ['r', r],
    ['p', p],
  ] as const) {
    if (typeof v !== 'number') throw new TypeError(`${what}: expected options.${option}.${name} as a number, got ${describe(v)}`);
  }
  const problem = scryptProblem(N, r, p);
  if (problem !== undefined) throw new RangeError(`${what}: options.${option}.${problem}`);
  return { N, r, p };
}

function secretOptions(o: Record<string, unknown>, what: string, exporting: boolean): SecretOptions {
  const passphrase = o.passphrase;
  const secret = o.secret;
  if (passphrase !== undefined && secret !== undefined) throw new TypeError(`${what}: expected options.passphrase or options.secret, got both`);
  if (secret !== undefined) {
    const n = bytesLength(secret);
    if (n < 0) throw new TypeError(`${what}: expected options.secret as a Uint8Array of 32 bytes, got ${describe(secret)}`);
    if (n !== 32) throw new RangeError(`${what}: expected options.secret of 32 bytes, got ${n}`);
    return { kdf: KDF_HKDF, material: plainBytes(secret as Uint8Array, n).slice(), scrypt: undefined };
  }
  if (passphrase === undefined) throw new TypeError(`${what}: expected options.passphrase (a string or bytes) or options.secret (32 bytes), got neither`);
  const n = typeof passphrase === 'string' ? passphrase.length : bytesLength(passphrase);
  if (n < 0) throw new TypeError(`${what}: expected options.passphrase as a string or a Uint8Array, got ${describe(passphrase)}`);
  if (n === 0) throw new RangeError(`${what}: expected a non-empty passphrase, got an empty one`);
  // Every check comes before the copy of the passphrase is made, so a refusal leaves no copy behind.
  const scrypt = exporting ? scryptOption(o.scrypt, what, 'scrypt') : scryptOption(o.maxScrypt, what, 'maxScrypt');
  // NFC, so that the same passphrase typed on two systems that compose accents differently opens the dump.
  const material = typeof passphrase === 'string' ? new TextEncoder().encode(passphrase.normalize('NFC')) : plainBytes(passphrase as Uint8Array, n).slice();
  return { kdf: KDF_SCRYPT, material, scrypt };
}

// ---------------------------------------------------------------------------------------------
// Export

/** Writes chunks to a Node Writable or a web WritableStream, waiting whenever the stream asks to. */
interface ChunkSink {
  write(chunk: Uint8Array): Promise<void>;
  /** Resolves once the stream has taken the last chunk; never ends or closes the stream. */
  flush(): Promise<void>;
  release(): void;
}

interface NodeWritable {
  write(chunk: Uint8Array, callback: (error?: Error | null) => void): boolean;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  writable?: boolean;
}

function sinkOf(writable: unknown): ChunkSink {
  const getWriter: unknown = writable !== null && typeof writable === 'object' ? (writable as Partial<WritableStream>).getWriter : undefined;
  if (typeof getWriter === 'function') {
    const writer = getWriter.call(writable) as WritableStreamDefaultWriter<Uint8Array>;
    let last: Promise<void> = Promise.resolve();
    return {
      async write(chunk) {
        await writer.ready;
        last = writer.write(chunk);
        // Its failure shows at the next `ready` or in flush; this keeps it from going unhandled.
        last.catch(() => undefined);
      },
      async flush() {
        await last;
      },
      release() {
        writer.releaseLock();
      },
    };
  }
  const w = writable as NodeWritable;
  if (writable === null || typeof writable !== 'object' || typeof w.write !== 'function' || typeof w.once !== 'function' || typeof w.off !== 'function') {
    throw new TypeError(`exportKeys: expected a Node Writable or a web WritableStream, got ${describe(writable)}`);
  }
  if (w.writable === false) throw new TypeError('exportKeys: the stream is no longer writable (ended or destroyed)');
  // The first error or early close the stream reports, kept for the next write or the flush.
  let failure: Error | undefined;
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const waiter of [...waiters]) waiter();
  };
  const onError = (error: unknown) => {
    failure ??= error instanceof Error ? error : new Error(String(error));
    notify();
  };
  const onClose = () => {
    failure ??= new Error('exportKeys: the stream closed before the dump was written');
    notify();
  };
  w.on('error', onError);
  w.on('close', onClose);
  // Writes whose callback has not run yet.
  let pending = 0;
  const drained = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        waiters.delete(done);
        w.off('drain', done);
        resolve();
      };
      waiters.add(done);
      w.on('drain', done);
      if (failure !== undefined) done();
    });
  const settled = () =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (pending === 0 || failure !== undefined) {
          waiters.delete(check);
          resolve();
        }
      };
      waiters.add(check);
      check();
    });
  return {
    async write(chunk) {
      if (failure !== undefined) throw failure;
      pending++;
      const more = w.write(chunk, (error) => {
        pending--;
        if (error) onError(error);
        else notify();
      });
      if (!more) await drained();
      if (failure !== undefined) throw failure;
    },
    async flush() {
      await settled();
      if (failure !== undefined) throw failure;
    },
    release() {
      w.off('error', onError);
      w.off('close', onClose);
    },
  };
}

/**
 * `value` as an iterable of our own over its async iterator, else its sync one, the method read
 * from `value` once (a getter may answer differently the second time); undefined if it has neither.
 */
function iterableOf(value: unknown): AsyncIterable<unknown> | Iterable<unknown> | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const asyncIterator: unknown = (value as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator];
  if (typeof asyncIterator === 'function') return { [Symbol.asyncIterator]: () => asyncIterator.call(value) as AsyncIterator<unknown> };
  const iterator: unknown = (value as Partial<Iterable<unknown>>)[Symbol.iterator];
  if (typeof iterator === 'function') return { [Symbol.iterator]: () => iterator.call(value) as Iterator<unknown> };
  return undefined;
}

/** The expiry of an entry as whole epoch ms for the record, 0 for never. */
function entryExpiry(entry: Record<string, unknown>, index: number): number {
  const t = entry.expiresAt;
  if (t === undefined) return 0;
  if (typeof t !== 'number') throw new TypeError(`exportKeys: entry ${index}: expected expiresAt as epoch milliseconds, got ${describe(t)}`);
  if (!Number.isFinite(t) || t <= 0 || t >= 2 ** 53)
    throw new RangeError(`exportKeys: entry ${index}: expected expiresAt as a time after 1970 in epoch milliseconds, got ${t}`);
  // Whole milliseconds, rounded down (a key never outlives its expiry), and never 0, which means "never".
  return Math.max(1, Math.floor(t));
}

/**
 * Writes every key of `source` to `writable` as an encrypted dump (format: docs/dump-format.md).
 * Streams: a chunk of about 64 KiB is written at a time, and the next waits while the stream asks
 * (a Node Writable's `write` returned false, until 'drain'; a web stream's writer until `ready`),
 * so memory stays flat whatever the number of keys. The key bytes staged for each record are wiped
 * after it is sealed.
 *
 * The stream is not ended or closed: the promise resolves once the stream has taken the last
 * chunk (its write callback ran, or the web writer's last write resolved), and the caller ends it
 * (`end()`, `close()`) to learn that the bytes reached their destination. If the export fails or
 * is aborted midway, what was written lacks the trailer, and `importKeys` of it rejects with
 * DumpFormatError after importing the records it holds.
 *
 * @param source entries `{ key, expiresAt? }` (sync or async iterable, e.g. `manager.entries()`);
 *   it may also yield `{ corruptedId }` for a value it could not read, which is counted as skipped
 * @param options `passphrase` (and `scrypt` cost, default {@link DEFAULT_SCRYPT}) or a 32-byte
 *   `secret`; `signal`; `onProgress(done)` after each chunk, `done` counting entries and skips
 * @returns how many keys were written and which ids were skipped
 * @throws TypeError (rejects) for options, source, stream or entries of a wrong type
 * @throws RangeError (rejects) for a secret that is not 32 bytes, an empty passphrase, scrypt cost
 *   out of bounds, or an entry's expiresAt out of range
 * @throws the signal's reason (rejects) when aborted; the stream's error (rejects) when it fails
 * @example
 * const out = fs.createWriteStream('keys.dump');
 * const report = await exportKeys(manager.entries(), out, { passphrase });
 * await new Promise((resolve) => out.end(resolve));
 */
export async function exportKeys(
  source: Iterable<AuthKeyEntry | DumpSkipped> | AsyncIterable<AuthKeyEntry | DumpSkipped>,
  writable: NodeJS.WritableStream | WritableStream<Uint8Array>,
  options: StoreOperationOptions & DumpSecret,
): Promise<ExportReport> {
  const o = readOptions(options, 'exportKeys');
  const { signal, onProgress } = parseOperationOptions(o, 'exportKeys');
  const secret = secretOptions(o, 'exportKeys', true);
  let sink: ChunkSink;
  let items: AsyncIterable<unknown> | Iterable<unknown> | undefined;
  try {
    items = iterableOf(source);
    if (items === undefined) throw new TypeError(`exportKeys: expected an iterable or async iterable of { key, expiresAt } entries, got ${describe(source)}`);
    signal?.throwIfAborted();
    sink = sinkOf(writable);
  } catch (error) {
    secret.material.fill(0);
    throw error;
  }
  const content = new Uint8Array(CONTENT_BYTES);
  const report: ExportReport = { exported: 0, skipped: 0, skippedIds: [] };
  try {
    const header = newHeader(secret.kdf, secret.scrypt);
    const key = await deriveKey(secret.kdf, secret.material, parseHeader(header).salt, secret.scrypt, signal);
    sealHeader(header, key);
    signal?.throwIfAborted();
    await sink.write(header);
    let chunk = new Uint8Array(FRAMES_PER_CHUNK * FRAME_BYTES);
    let inChunk = 0;
    let index = 0;
    const writeChunk = async () => {
      await sink.write(chunk.subarray(0, inChunk * FRAME_BYTES));
      // A stream may hold on to a chunk until it is written: the next one is a new array.
      chunk = new Uint8Array(FRAMES_PER_CHUNK * FRAME_BYTES);
      inChunk = 0;
      onProgress?.(report.exported + report.skipped);
    };
    let seen = 0;
    for await (const item of items) {
      signal?.throwIfAborted();
      if (item === null || typeof item !== 'object')
        throw new TypeError(`exportKeys: entry ${seen}: expected { key, expiresAt } or { corruptedId }, got ${describe(item)}`);
      const entry = item as Record<string, unknown>;
      const authKey = entry.key;
      if (authKey === undefined) {
        const id = entry.corruptedId;
        if (typeof id !== 'bigint')
          throw new TypeError(`exportKeys: entry ${seen}: expected { key, expiresAt } or { corruptedId } with a bigint id, got ${describe(id)} as corruptedId`);
        report.skipped++;
        report.skippedIds.push(id);
        seen++;
        continue;
      }
      if (!AuthKey.isAuthKey(authKey)) throw new TypeError(`exportKeys: entry ${seen}: expected key as an AuthKey, got ${describe(authKey)}`);
      const expiresAt = entryExpiry(entry, seen);
      const { data, at } = AuthKey.recordOf(authKey);
      content.set(data.subarray(at + ID_AT, at + ID_AT + 8), 0);
      content.set(data.subarray(at, at + KEY_BYTES), CONTENT_KEY_AT);
      writeU64(content, CONTENT_EXPIRY_AT, expiresAt);
      sealFrame(header, key, RECORD, index, content, chunk, inChunk * FRAME_BYTES);
      content.fill(0);
      index++;
      inChunk++;
      seen++;
      report.exported++;
      if (inChunk === FRAMES_PER_CHUNK) await writeChunk();
    }
    signal?.throwIfAborted();
    writeU64(content, 0, index);
    sealFrame(header, key, TRAILER, index, content, chunk, inChunk * FRAME_BYTES);
    content.fill(0);
    inChunk++;
    await writeChunk();
    await sink.flush();
    return report;
  } finally {
    content.fill(0);
    secret.material.fill(0);
    sink.release();
  }
}

// ---------------------------------------------------------------------------------------------
// Import

/** The error a dump's stream failed with, wrapped until the import adds its report. */
class SourceFailure {
  constructor(readonly error: unknown) {}
}

/** Reads exact byte counts from an async iterable of chunks of any size. */
class ChunkReader {
  readonly #chunks: AsyncIterator<unknown> | Iterator<unknown>;
  #chunk: Uint8Array = new Uint8Array(0);
  #at = 0;
  #done = false;

  /** @param chunks what {@link chunksOf} made of the caller's stream */
  constructor(chunks: AsyncIterable<unknown> | Iterable<unknown>) {
    this.#chunks = Symbol.asyncIterator in chunks ? chunks[Symbol.asyncIterator]() : chunks[Symbol.iterator]();
  }

  /** Fills `target` from the stream; returns the bytes filled, fewer than its length only at the end. */
  async fill(target: Uint8Array): Promise<number> {
    let filled = 0;
    while (filled < target.length) {
      if (this.#at === this.#chunk.length) {
        if (!(await this.#more())) break;
        continue;
      }
      const take = Math.min(target.length - filled, this.#chunk.length - this.#at);
      target.set(this.#chunk.subarray(this.#at, this.#at + take), filled);
      this.#at += take;
      filled += take;
    }
    return filled;
  }

  /** Whether the stream has ended, waiting for the next chunk if need be; nothing is consumed. */
  async atEnd(): Promise<boolean> {
    while (this.#at === this.#chunk.length) {
      if (!(await this.#more())) return true;
    }
    return false;
  }

  /**
   * Takes the next chunk of the stream as the current one; false once it has ended. The stream's
   * own failure is thrown as {@link SourceFailure}, so that the import can tell it from its own.
   */
  async #more(): Promise<boolean> {
    if (this.#done) return false;
    let next: IteratorResult<unknown>;
    try {
      next = await this.#chunks.next();
    } catch (error) {
      this.#done = true;
      throw new SourceFailure(error);
    }
    if (next.done) {
      this.#done = true;
      return false;
    }
    const value: unknown = next.value;
    const n = bytesLength(value);
    if (n < 0)
      throw new TypeError(
        `importKeys: expected the stream to yield Uint8Array chunks, got ${describe(value)} (a Node stream with an encoding set yields strings)`,
      );
    this.#chunk = plainBytes(value as Uint8Array, n);
    this.#at = 0;
    return true;
  }

  /** Stops reading: a Node stream is destroyed, a web stream's reader released. */
  async close(): Promise<void> {
    if (!this.#done) {
      this.#done = true;
      await this.#chunks.return?.();
    }
  }
}

/** The chunks of a web stream reader, for runtimes whose ReadableStream is not async iterable. */
function readerChunks(reader: ReadableStreamDefaultReader<unknown>): AsyncIterator<unknown> {
  return {
    next: () => reader.read() as Promise<IteratorResult<unknown>>,
    async return() {
      await reader.cancel();
      reader.releaseLock();
      return { done: true, value: undefined };
    },
  };
}

/**
 * The chunks of what importKeys was given: an (async) iterable as {@link iterableOf} has it, else a
 * web stream through its reader, for runtimes whose ReadableStream is not async iterable; each
 * method read once. Undefined if it is neither.
 */
function chunksOf(readable: unknown): AsyncIterable<unknown> | Iterable<unknown> | undefined {
  const iterable = iterableOf(readable);
  if (iterable !== undefined || readable === null || typeof readable !== 'object') return iterable;
  const getReader: unknown = (readable as Partial<ReadableStream<unknown>>).getReader;
  if (typeof getReader !== 'function') return undefined;
  return { [Symbol.asyncIterator]: () => readerChunks(getReader.call(readable) as ReadableStreamDefaultReader<unknown>) };
}

function collisionPolicy(o: Record<string, unknown>): 'skip' | 'fail' | ((id: bigint, reason: string) => void) {
  const policy = o.onCollision;
  if (policy === undefined) return 'skip';
  if (typeof policy === 'function') return policy as (id: bigint, reason: string) => void;
  if (typeof policy !== 'string') throw new TypeError(`importKeys: expected options.onCollision as 'skip', 'fail' or a function, got ${describe(policy)}`);
  if (policy !== 'skip' && policy !== 'fail')
    throw new RangeError(`importKeys: expected options.onCollision as 'skip', 'fail' or a function, got '${policy.slice(0, 20)}'`);
  return policy;
}

/**
 * Reads a dump made by {@link exportKeys} from `readable` into `target`, any manager (memory,
 * Redis). The header is checked first: a wrong passphrase or secret rejects with
 * DumpDecryptionFailed before any key is stored. Then, record by record, as the bytes arrive
 * (chunks of any size; memory stays flat): a record that fails authentication, or whose key does
 * not hash to the recorded id, is counted as corrupted and the import goes on; a record whose
 * expiry has passed (by `Date.now()`) is counted as expired and not stored; otherwise the target
 * is asked for the id (`getKey`): the same key there counts as unchanged (its expiry there is kept),
 * a different key (or a corrupted value) as a collision, and no key means `setKey(key, { expiresAt })`
 * and imported (a collision if another writer stored a different key meanwhile). The counts are
 * exact when nobody else writes the target during the import.
 *
 * A passphrase dump whose header asks for more scrypt work than `maxScrypt` (default
 * {@link DEFAULT_SCRYPT}) is refused before scrypt runs. An abort while scrypt runs rejects at once
 * with the signal's reason (scrypt finishes unseen on the thread pool).
 *
 * A dump that ends without its trailer (truncated, or its export failed), whose trailer is damaged,
 * or has bytes after it rejects with DumpFormatError once every record it holds was imported; a
 * stream that fails midway rejects with DumpStreamFailed. Either error's `report` says what was done.
 *
 * @param target the manager to store the keys in
 * @param readable the dump: a Node Readable, a web ReadableStream, or any iterable or async iterable
 *   of Uint8Array chunks (a Node stream must have no encoding set)
 * @param options the `passphrase` or `secret` it was made with; `onCollision` and `maxScrypt` (see
 *   {@link ImportOptions}); `signal`; `onProgress(done)` every 1000 records and at the end
 * @throws TypeError / RangeError (rejects) for arguments of a wrong type or size (`maxScrypt` too)
 * @throws DumpFormatError (rejects) for bytes that are not a dump this version reads, a header over
 *   `maxScrypt`, or a dump that is incomplete or damaged at its end; `kind` says which
 * @throws DumpStreamFailed (rejects) when the stream fails; its `cause` is the stream's error
 * @throws DumpDecryptionFailed (rejects) when the passphrase or secret does not open the dump
 * @throws AuthKeyCollision (rejects) with `onCollision: 'fail'`, at the first collision with a
 *   different key; AuthKeyCorrupted (rejects), the target's own, when the first is a value the
 *   target cannot use
 * @throws the signal's reason (rejects) when aborted, or the target's error (AuthKeyStoreUnavailable, say) when a call fails; keys stored before stay stored
 * @example
 * const report = await importKeys(manager, fs.createReadStream('keys.dump'), { passphrase });
 */
export async function importKeys(
  target: AuthKeyManagerProtocol,
  readable: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | ReadableStream<Uint8Array>,
  options: StoreOperationOptions & DumpSecret & ImportOptions,
): Promise<ImportReport> {
  const o = readOptions(options, 'importKeys');
  const { signal, onProgress } = parseOperationOptions(o, 'importKeys');
  let policy: ReturnType<typeof collisionPolicy>;
  let reader: ChunkReader;
  const secret = secretOptions(o, 'importKeys', false);
  try {
    policy = collisionPolicy(o);
    if (target === null || typeof target !== 'object' || typeof target.getKey !== 'function' || typeof target.setKey !== 'function') {
      throw new TypeError(`importKeys: expected a manager with getKey and setKey as the target, got ${describe(target)}`);
    }
    const chunks = chunksOf(readable);
    if (chunks === undefined)
      throw new TypeError(`importKeys: expected a readable stream or an (async) iterable of Uint8Array chunks, got ${describe(readable)}`);
    signal?.throwIfAborted();
    // In here: the caller's iterator method may throw, and the copy of the secret is wiped then too.
    reader = new ChunkReader(chunks);
  } catch (error) {
    secret.material.fill(0);
    throw error;
  }
  const report: ImportReport = { records: 0, imported: 0, unchanged: 0, expired: 0, collisions: 0, collisionIds: [], collisionReasons: [], corrupted: 0 };
  try {
    const header = new Uint8Array(HEADER_BYTES);
    const got = await reader.fill(header);
    if (got < HEADER_BYTES) {
      for (let i = 0; i < Math.min(got, MAGIC.length); i++) {
        if (header[i] !== MAGIC[i]) throw new DumpFormatError('not-a-dump', NOT_A_DUMP);
      }
      throw new DumpFormatError('truncated', `not a complete dump: the stream ended after ${got} bytes, inside the ${HEADER_BYTES}-byte header`);
    }
    const parsed = parseHeader(header);
    if (parsed.problem !== undefined) throw new DumpFormatError(parsed.kind!, parsed.problem);
    if (parsed.kdf !== secret.kdf) {
      throw new DumpDecryptionFailed(
        parsed.kdf === KDF_SCRYPT
          ? 'the dump is sealed under a passphrase, and a secret was given'
          : 'the dump is sealed under a 32-byte secret, and a passphrase was given',
      );
    }
    if (parsed.scrypt !== undefined) {
      const over = scryptOverLimit(parsed.scrypt, secret.scrypt!);
      if (over !== undefined) throw new DumpFormatError('scrypt-over-limit', over);
    }
    const key = await deriveKey(parsed.kdf, secret.material, parsed.salt, parsed.scrypt, signal);
    // An abort that came as scrypt finished is an abort, not a verdict on the passphrase.
    signal?.throwIfAborted();
    if (!headerChecks(header, key)) throw new DumpDecryptionFailed();
    const frame = new Uint8Array(FRAME_BYTES);
    for (let index = 0; ; index++) {
      signal?.throwIfAborted();
      const n = await reader.fill(frame);
      if (n === 0) {
        throw new DumpFormatError(
          'truncated',
          `not a complete dump: it ends after ${index} records without its trailer (truncated, or its export did not finish)`,
          report,
        );
      }
      if (n < FRAME_BYTES) throw new DumpFormatError('truncated', `not a complete dump: it ends inside frame ${index} (truncated)`, report);
      const content = openFrame(header, key, index, frame);
      if (content === undefined) {
        // The last frame of the stream should be the trailer: unless it says it is a record, it is
        // a damaged trailer, not a damaged record before a cut.
        if (frame[0] !== RECORD && (await reader.atEnd())) throw new DumpFormatError('damaged-trailer', damagedTrailer(header, key, index, frame), report);
        report.records++;
        report.corrupted++;
      } else if (frame[0] === TRAILER) {
        const count = readU64(content, 0);
        content.fill(0);
        if (count !== index) {
          throw new DumpFormatError(
            'damaged-trailer',
            `damaged dump trailer: it authenticates, but counts ${count < 0 ? '2**53 or more' : count} records where the dump holds ${index}`,
            report,
          );
        }
        if (!(await reader.atEnd())) throw new DumpFormatError('data-after-trailer', 'not a valid dump: data follows its trailer', report);
        break;
      } else {
        report.records++;
        try {
          await importRecord(target, content, policy, report);
        } finally {
          content.fill(0);
        }
      }
      if (report.records % IMPORT_BATCH === 0) onProgress?.(report.records);
    }
    onProgress?.(report.records);
    return report;
  } catch (error) {
    if (!(error instanceof SourceFailure)) throw error;
    // A stream that fails because the import was aborted (the caller's pipeline ended it) is the abort.
    signal?.throwIfAborted();
    throw new DumpStreamFailed(error.error, report);
  } finally {
    secret.material.fill(0);
    await reader.close();
  }
}

/**
 * What a DumpFormatError says of `frame`, the last of the stream at position `index`, which does
 * not authenticate there and is not marked as a record.
 */
function damagedTrailer(header: Uint8Array, key: KeyObject, index: number, frame: Uint8Array): string {
  if (frame[0] !== TRAILER) {
    const retyped = frame.slice();
    retyped[0] = TRAILER;
    const content = openFrame(header, key, index, retyped);
    if (content !== undefined) {
      content.fill(0);
      return `damaged dump trailer: the last frame (${index}) is the trailer, but its type byte was changed from 0x45 to 0x${frame[0].toString(16).padStart(2, '0')}`;
    }
  }
  return `damaged dump trailer: the last frame (${index}) should be the trailer but does not authenticate at that position (it is damaged, or frames before it were dropped or repeated)`;
}

/** Authenticated record content → the target, counted in `report`. */
async function importRecord(
  target: AuthKeyManagerProtocol,
  content: Uint8Array,
  policy: ReturnType<typeof collisionPolicy>,
  report: ImportReport,
): Promise<void> {
  const expiresAt = readU64(content, CONTENT_EXPIRY_AT);
  let key: AuthKey;
  try {
    key = new AuthKey(content.subarray(CONTENT_KEY_AT, CONTENT_EXPIRY_AT));
  } catch {
    // The all-zero key: authentic (a bug of the writer), but never a key.
    report.corrupted++;
    return;
  }
  const { hi, lo } = AuthKey.idHalvesOf(key);
  if (hi !== u32be(content, 0) || lo !== u32be(content, 4) || expiresAt < 0) {
    report.corrupted++;
    return;
  }
  if (expiresAt !== 0 && expiresAt <= Date.now()) {
    report.expired++;
    return;
  }
  let stored: AuthKey | undefined;
  // What the target holds instead, when it is not this key: its own error says what it is.
  let refusal: AuthKeyCollision | AuthKeyCorrupted | undefined;
  try {
    stored = await target.getKey(key);
  } catch (error) {
    if (error instanceof AuthKeyCorrupted) refusal = error;
    else if (!(error instanceof AuthKeyDoesNotExist)) throw error;
  }
  if (stored !== undefined) {
    if (stored.equals(key)) {
      report.unchanged++;
      return;
    }
    refusal = new AuthKeyCollision(idBigint(hi, lo));
  }
  if (refusal === undefined) {
    try {
      await target.setKey(key, expiresAt === 0 ? undefined : { expiresAt });
      report.imported++;
      return;
    } catch (error) {
      if (!(error instanceof AuthKeyCollision) && !(error instanceof AuthKeyCorrupted)) throw error;
      refusal = error;
    }
  }
  const id = idBigint(hi, lo);
  const reason = refusal instanceof AuthKeyCorrupted ? `the stored value cannot be used: ${refusal.problem ?? refusal.message}` : DIFFERENT_KEY;
  report.collisions++;
  report.collisionIds.push(id);
  report.collisionReasons.push(reason);
  // The target's own error: AuthKeyCollision only when a different key is really there.
  if (policy === 'fail') throw refusal;
  if (typeof policy === 'function') policy(id, reason);
}
