/**
 * How a value read from a Redis store is judged (and the id bytes it is sealed under), and how the
 * errors of reading it are cleaned of key material: shared by the manager's calls and its store
 * operations, so that `getKey`, `verify` and `reseal` call the same values corrupted for the same
 * reasons.
 * @internal
 */
import { u32be } from '../core/ids.js';
import { sha1 } from '../core/sha1.js';
import { KEY_BYTES } from '../core/sizes.js';
import { SEALED_BYTES, type Sealer } from './sealer.js';

// What is wrong with 256 stored bytes that are not the key of their id: the same words from
// getKey (which makes the key) and setKey (which only checks the bytes, see keyProblem).
export const ZERO_KEY = 'the key is zero';
export const OTHER_ID = 'its bytes hash to a different id';

/**
 * Why 256 key bytes are not a valid key for the id (hi, lo), or undefined if they are: the id is
 * bytes 12..19 of their SHA-1 (https://core.telegram.org/mtproto/description#key-identifier-auth-key-id)
 * and a key is not zero.
 */
export function keyProblem(hi: number, lo: number, bytes: Uint8Array): string | undefined {
  let or = 0;
  for (let i = 0; i < bytes.length; i++) or |= bytes[i];
  if (or === 0) return ZERO_KEY;
  const digest = sha1(bytes);
  if (u32be(digest, 12) !== hi >>> 0 || u32be(digest, 16) !== lo >>> 0) return OTHER_ID;
  return undefined;
}

/**
 * The secret version of a stored value that is sealed under a secret `sealer` does not hold (any
 * sealed value when there is no sealer), else undefined. Such a value may well be a good key: only
 * the secret is missing.
 */
export function unopenableVersion(sealer: Sealer | undefined, value: Uint8Array): number | undefined {
  if (value.length !== SEALED_BYTES) return undefined;
  const version = value[0];
  return sealer?.knows(version) ? undefined : version;
}

/** What a manager with `sealer` (or none) lacks to open a value sealed under `version`. */
export function missingSecret(sealer: Sealer | undefined, version: number): string {
  const has = sealer === undefined ? 'it has no encryption configured' : `it has secret versions ${sealer.versions.join(', ')}`;
  return `sealed under secret version ${version}, which this manager cannot open: ${has}`;
}

/**
 * What is stored, for a value the manager cannot use that is not damaged for all that: sealed
 * under a secret it does not hold, or the key of its id stored unsealed where the manager seals.
 * Undefined for any other value (the caller's own problem then says what is wrong). Said so that
 * nobody takes a good key for a damaged or foreign one and deletes it.
 */
export function unusableProblem(sealer: Sealer | undefined, hi: number, lo: number, value: Uint8Array): string | undefined {
  const version = unopenableVersion(sealer, value);
  if (version !== undefined) return missingSecret(sealer, version);
  if (sealer === undefined || value.length !== KEY_BYTES) return undefined;
  const problem = keyProblem(hi, lo, value);
  if (problem !== undefined) return `stored unsealed, and not a key for this id: ${problem}`;
  return 'the key of this id stored unsealed (raw key bytes) where this manager expects sealed values; reseal() seals it';
}

/** The 8 id bytes of the id (hi, lo), big-endian as on the wire: what a value is sealed under. */
export function idBytesOf(hi: number, lo: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32BE(hi >>> 0, 0);
  b.writeUInt32BE(lo >>> 0, 4);
  return b;
}

/**
 * ioredis attaches the failed command and its arguments to reply errors; for SET those are the
 * key bytes. They are removed so that logging the error (or its `cause`) cannot leak a key.
 */
export function scrub(error: unknown, depth = 0): unknown {
  if (error === null || typeof error !== 'object' || depth > 4) return error;
  const e = error as { command?: { name?: unknown }; lastNodeError?: unknown; cause?: unknown };
  if (e.command !== undefined) e.command = { name: e.command?.name };
  // Errors that wrap others (Cluster's ClusterAllFailedError, say) are scrubbed through.
  scrub(e.lastNodeError, depth + 1);
  scrub(e.cause, depth + 1);
  return error;
}
