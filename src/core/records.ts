/**
 * Auth key records: the 256 key bytes followed by their 20-byte SHA-1 digest, stored at an
 * offset inside a shared page. A record's bytes never change while an `AuthKey` points at them,
 * so a key can point into a page instead of owning a buffer, which keeps construction free of a
 * per-key ArrayBuffer allocation and keys compact in memory. Arena pages (below) are written once;
 * the in-memory store (key-table.ts) reuses and zeroes its records, and first moves any key that
 * points at one elsewhere (`AuthKey.relocate`).
 * @internal
 */
import { KEY_BYTES, RECORD_BYTES } from './sizes.js';

/** Bytes of one record: key, then digest. */
export { RECORD_BYTES };
/** Offset of the digest inside a record. */
export const DIGEST_AT = KEY_BYTES;
/** Offset of the auth key id (digest bytes 12..19, the 64 lower-order bits) inside a record. */
export const ID_AT = DIGEST_AT + 12;

/**
 * Whether the 256 key bytes at `ai` of `a` and at `bi` of `b` are equal, in time that does not
 * depend on where they differ.
 */
export function sameKey(a: Uint8Array, ai: number, b: Uint8Array, bi: number): boolean {
  let diff = 0;
  for (let i = 0; i < KEY_BYTES; i++) diff |= a[ai + i] ^ b[bi + i];
  return diff === 0;
}

/**
 * Hands out fresh, never-reused record slots from pages of `perPage` records. A page is
 * released to the garbage collector when no key points into it any more.
 */
export class RecordArena {
  page: Uint8Array;
  #next: number;
  readonly #perPage: number;

  constructor(perPage: number) {
    this.#perPage = perPage;
    this.page = new Uint8Array(0);
    this.#next = perPage;
  }

  /** Reserves the next slot; returns its byte offset in `this.page` (read `page` after). */
  take(): number {
    if (this.#next === this.#perPage) {
      this.page = new Uint8Array(this.#perPage * RECORD_BYTES);
      this.#next = 0;
    }
    return this.#next++ * RECORD_BYTES;
  }
}

/**
 * Arena for keys made one by one; 64 records (17 KiB) a page. The trade-off: a held key keeps its
 * whole page alive (at worst 17 KiB for one key whose 63 neighbours were dropped), while an
 * ArrayBuffer per key costs about twice the time of making the key and smaller pages cost more
 * per key too (bench/auth-key.bench.ts). Keys held for long belong in a manager, which keeps its
 * own copy of the record, so pages of dropped keys are freed whole.
 */
export const arena = new RecordArena(64);
