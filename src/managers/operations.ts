/**
 * What long operations over a whole key store share (keys, verify, reseal, export, import): their
 * options (cancel with an AbortSignal, watch progress), their reports, and the checks of those
 * options every operation makes alike before it sends anything.
 */
import { describe } from '../core/validate.js';

/** Options of every long store operation. */
export interface StoreOperationOptions {
  /**
   * Aborting rejects the operation with the signal's `reason` (an `AbortError` DOMException
   * unless you gave one), once the step in flight is done; what was done stays done, since each
   * step is whole on its own (a rewrite of one value, say). A signal aborted already rejects
   * before anything is sent.
   */
  signal?: AbortSignal;
  /**
   * Called after each batch with the items handled so far and, when known, an estimate of the
   * total (for Redis, the number of keys on the server(s), which counts keys outside the prefix
   * too). An exception it throws rejects the operation.
   */
  onProgress?: (done: number, total?: number) => void;
}

/** One stored key, as the store names it; never the key itself. */
export interface StoredKeyInfo {
  /** The auth key id as a 64-bit unsigned integer. */
  id: bigint;
  /** The 8 id bytes exactly as they appear on the wire. */
  idBytes: Uint8Array;
  /** When the store removes it, in epoch milliseconds; undefined if it never expires. */
  expiresAt: number | undefined;
}

/** What `verify()` found: every stored value read, judged, counted; nothing changed. */
export interface VerifyReport {
  /** Values read. */
  scanned: number;
  /** Values that are a valid key for their id (`raw` plus every count of `sealed`). */
  ok: number;
  /** Values that are not (the same judgement as `getKey`'s AuthKeyCorrupted). */
  corrupted: number;
  /** The id of every corrupted value. */
  corruptedIds: bigint[];
  /** Valid values stored as the raw 256 key bytes. */
  raw: number;
  /** Valid sealed values by the version of the secret that sealed them. */
  sealed: Record<number, number>;
  /** Valid values with an expiry. */
  expiring: number;
}

/** What `reseal()` did. */
export interface ResealReport {
  /** Values read. */
  scanned: number;
  /** Values rewritten under the current secret. */
  resealed: number;
  /** Values already sealed with the current secret, left as they were. */
  alreadyCurrent: number;
  /**
   * Values deleted, replaced or expired between being read and being rewritten; they were left as
   * they are now (a delete or a replacement is never undone).
   */
  changed: number;
  /** Values that are not a valid key for their id; never rewritten. */
  corrupted: number;
  /** The id of every corrupted value. */
  corruptedIds: bigint[];
}

/**
 * A store operation that the manager's configuration cannot do: `reseal()` of a manager without
 * `encryption` (it has no secret to seal with, and cannot open sealed values to make them raw),
 * or `exportKeys()` of a store holding values sealed under a secret the manager does not have.
 */
export class StoreOperationUnsupported extends Error {
  /** Always `'StoreOperationUnsupported'`, so logs and `err.name` checks tell this error apart. */
  override readonly name = 'StoreOperationUnsupported';
}

/** The checked options of a store operation. @internal */
export interface OperationSettings {
  readonly signal: AbortSignal | undefined;
  readonly onProgress: ((done: number, total?: number) => void) | undefined;
}

/**
 * The `signal` and `onProgress` of `options` (each read once), checked; `options` undefined is
 * none.
 * @param what the operation, for messages
 * @throws TypeError if `options` is not an object, `signal` not an AbortSignal or `onProgress`
 *   not a function
 * @internal
 */
export function parseOperationOptions(options: unknown, what: string): OperationSettings {
  if (options === undefined) return { signal: undefined, onProgress: undefined };
  if (options === null || typeof options !== 'object') throw new TypeError(`${what}: expected an options object, got ${describe(options)}`);
  const { signal, onProgress } = options as StoreOperationOptions;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError(`${what} signal: expected an AbortSignal, got ${describe(signal)}`);
  if (onProgress !== undefined && typeof onProgress !== 'function') throw new TypeError(`${what} onProgress: expected a function, got ${describe(onProgress)}`);
  return { signal, onProgress };
}

/**
 * An integer option in [min, max] (`fallback` when undefined), read once by the caller.
 * @throws TypeError if it is not a number
 * @throws RangeError if it is not an integer in [min, max]
 * @internal
 */
export function parseIntegerOption(value: unknown, what: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${what}: expected an integer in [${min}, ${max}], got ${describe(value)}`);
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${what}: expected an integer in [${min}, ${max}], got ${value}`);
  return value;
}

/**
 * Throws the signal's reason if it was aborted: called between steps, so an operation stops
 * only where what it did is whole.
 * @internal
 */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw signal.reason;
}
