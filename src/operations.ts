/**
 * Types shared by the long operations on a key store (scan, verify, re-seal, export, import), so
 * that every module and the CLI speak of them alike. Types only.
 */

/** Options of every long store operation. */
export interface StoreOperationOptions {
  /** Aborting rejects the operation with the signal's reason (an AbortError DOMException by default) after the command in flight; what was done stays done (each step is atomic). */
  signal?: AbortSignal;
  /** Called after each batch: `done` items so far, `total` an estimate when known (e.g. DBSIZE summed over masters) or undefined. */
  onProgress?: (done: number, total?: number) => void;
}

/** One stored key as a scan of the store sees it: its id and expiry, never the key. */
export interface StoredKeyInfo {
  /** The auth key id. */
  id: bigint;
  /** The 8 id bytes as they appear on the wire. */
  idBytes: Uint8Array;
  /** When the key expires, in epoch milliseconds; undefined if it never does. */
  expiresAt: number | undefined;
}

/** What `verify` found in a store. */
export interface VerifyReport {
  /** Values read. */
  scanned: number;
  /** Values that are a valid key for their id. */
  ok: number;
  /** Values that are not. */
  corrupted: number;
  /** The id of every corrupted value. */
  corruptedIds: bigint[];
  /** Ok values stored as the raw 256 key bytes. */
  raw: number;
  /** Ok sealed values, by secret version. */
  sealed: Record<number, number>;
  /** Ok values with an expiry. */
  expiring: number;
}

/** What `reseal` did to a store. */
export interface ResealReport {
  /** Values read. */
  scanned: number;
  /** Values rewritten under the current secret. */
  resealed: number;
  /** Values already sealed under the current secret. */
  alreadyCurrent: number;
  /** Values skipped because they were deleted or replaced between read and write (never undone). */
  changed: number;
  /** Values that are not a valid key for their id (left as they are). */
  corrupted: number;
  /** The id of every corrupted value. */
  corruptedIds: bigint[];
}
