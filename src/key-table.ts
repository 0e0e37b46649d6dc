/**
 * The in-memory store behind AuthKeyManager: an open-addressing hash table from the 64-bit
 * auth key id (as two 32-bit halves, so a lookup makes no bigint) to a record in write-once
 * pages of key bytes plus digest. No object is kept per key; an AuthKey is made on lookup and
 * points into the page, which is why a page slot is never rewritten (a removed key's slot is
 * dropped, and live records are moved to fresh pages when too many are dead).
 * @internal
 */
import { ADOPT, AuthKey } from './auth-key.js';
import { ID_AT, RECORD_BYTES, u32be } from './records.js';
import { KEY_BYTES } from './wasm.js';

const PAGE_SHIFT = 8;
const PAGE_RECORDS = 1 << PAGE_SHIFT;
const EMPTY = -1;
const DELETED = -2;

/** Outcomes of `KeyTable.insert`. */
export const ADDED = 0;
export const ALREADY_STORED = 1;
export const COLLISION = 2;

export class KeyTable {
  // Slot s: id halves at #ids[2s], #ids[2s + 1]; record index at #refs[s] (or EMPTY / DELETED).
  #ids: Uint32Array;
  #refs: Int32Array;
  #shift: number;
  #used = 0; // live + DELETED slots
  #live = 0;
  // Records: index r lives in #pages[r >>> PAGE_SHIFT] at (r & (PAGE_RECORDS - 1)) * RECORD_BYTES.
  #pages: Uint8Array[] = [];
  #records = 0;
  // Expiry per record in epoch ms; 0 = never. Float64 holds any Date.now() exactly.
  #expires = new Float64Array(PAGE_RECORDS);

  constructor() {
    this.#shift = 32 - 10;
    this.#ids = new Uint32Array(2 << 10);
    this.#refs = new Int32Array(1 << 10).fill(EMPTY);
  }

  /** Number of keys stored, counting any that expired but were not yet evicted. */
  get size(): number {
    return this.#live;
  }

  #slotOf(hi: number, lo: number): number {
    // Fibonacci hashing of the id: the top bits of a multiply spread any id pattern.
    return Math.imul(hi ^ lo, 0x9e3779b1) >>> this.#shift;
  }

  /** Slot holding id (hi, lo), or -1. An expired entry is evicted and reported missing. */
  #find(hi: number, lo: number, now: number): number {
    const ids = this.#ids;
    const refs = this.#refs;
    const mask = refs.length - 1;
    for (let s = this.#slotOf(hi, lo); ; s = (s + 1) & mask) {
      const r = refs[s];
      if (r === EMPTY) return -1;
      if (r !== DELETED && ids[2 * s] === hi && ids[2 * s + 1] === lo) {
        const t = this.#expires[r];
        if (t !== 0 && t <= (now || Date.now())) {
          this.#remove(s);
          return -1;
        }
        return s;
      }
    }
  }

  #recordAt(r: number): number {
    return (r & (PAGE_RECORDS - 1)) * RECORD_BYTES;
  }

  /** The key stored under id (hi, lo), or undefined. */
  get(hi: number, lo: number): AuthKey | undefined {
    const s = this.#find(hi, lo, 0);
    if (s < 0) return undefined;
    const r = this.#refs[s];
    return new AuthKey(ADOPT, this.#pages[r >>> PAGE_SHIFT], this.#recordAt(r));
  }

  has(hi: number, lo: number): boolean {
    return this.#find(hi, lo, 0) >= 0;
  }

  /** Removes id (hi, lo); false when it was not stored. */
  delete(hi: number, lo: number): boolean {
    const s = this.#find(hi, lo, 0);
    if (s < 0) return false;
    this.#remove(s);
    return true;
  }

  #remove(s: number): void {
    this.#expires[this.#refs[s]] = 0;
    this.#refs[s] = DELETED;
    this.#live--;
  }

  /**
   * Stores the record at `at` of `data` (key then digest) unless its id is taken. Returns what
   * happened (ADDED, ALREADY_STORED or COLLISION); nothing changes unless ADDED.
   */
  insert(data: Uint8Array, at: number, expiresAt: number): number {
    const hi = u32be(data, at + ID_AT);
    const lo = u32be(data, at + ID_AT + 4);
    const now = Date.now();
    const s = this.#find(hi, lo, now);
    if (s >= 0) {
      const r = this.#refs[s];
      return sameKey(this.#pages[r >>> PAGE_SHIFT], this.#recordAt(r), data, at) ? ALREADY_STORED : COLLISION;
    }
    if (2 * (this.#used + 1) > this.#refs.length) this.#rehash(now);
    const r = this.#records++;
    const page = r >>> PAGE_SHIFT;
    if (page === this.#pages.length) this.#pages.push(new Uint8Array(PAGE_RECORDS * RECORD_BYTES));
    this.#pages[page].set(data.subarray(at, at + RECORD_BYTES), this.#recordAt(r));
    if (r >= this.#expires.length) {
      const grown = new Float64Array(this.#expires.length * 2);
      grown.set(this.#expires);
      this.#expires = grown;
    }
    this.#expires[r] = expiresAt;
    this.#place(hi, lo, r);
    this.#live++;
    return ADDED;
  }

  #place(hi: number, lo: number, r: number): void {
    const refs = this.#refs;
    const mask = refs.length - 1;
    let s = this.#slotOf(hi, lo);
    while (refs[s] >= 0) s = (s + 1) & mask;
    if (refs[s] === EMPTY) this.#used++;
    refs[s] = r;
    this.#ids[2 * s] = hi;
    this.#ids[2 * s + 1] = lo;
  }

  /**
   * Makes room: drops expired keys, then either rebuilds at the same size (when deleted slots
   * are what filled it) or doubles. Records of removed keys are left behind by moving the live
   * ones to fresh pages once they are fewer than half of all records.
   */
  #rehash(now: number): void {
    const oldIds = this.#ids;
    const oldRefs = this.#refs;
    const oldPages = this.#pages;
    const oldExpires = this.#expires;
    let live = 0;
    for (let s = 0; s < oldRefs.length; s++) {
      const r = oldRefs[s];
      if (r < 0) continue;
      const t = oldExpires[r];
      if (t !== 0 && t <= now) oldRefs[s] = DELETED;
      else live++;
    }
    let bits = 10;
    while (1 << bits < 4 * (live + 1)) bits++;
    this.#shift = 32 - bits;
    this.#ids = new Uint32Array(2 << bits);
    this.#refs = new Int32Array(1 << bits).fill(EMPTY);
    this.#used = 0;
    this.#live = live;
    const compact = 2 * live < this.#records;
    if (compact) {
      this.#pages = [];
      this.#expires = new Float64Array(Math.max(PAGE_RECORDS, oldExpires.length));
      this.#records = 0;
    }
    for (let s = 0; s < oldRefs.length; s++) {
      let r = oldRefs[s];
      if (r < 0) continue;
      const t = oldExpires[r];
      if (compact) {
        const from = oldPages[r >>> PAGE_SHIFT];
        const at = this.#recordAt(r);
        r = this.#records++;
        if (r >>> PAGE_SHIFT === this.#pages.length) this.#pages.push(new Uint8Array(PAGE_RECORDS * RECORD_BYTES));
        this.#pages[r >>> PAGE_SHIFT].set(from.subarray(at, at + RECORD_BYTES), this.#recordAt(r));
        this.#expires[r] = t;
      }
      this.#place(oldIds[2 * s], oldIds[2 * s + 1], r);
    }
  }

  /** Removes every key. */
  clear(): void {
    this.#pages = [];
    this.#records = 0;
    this.#expires = new Float64Array(PAGE_RECORDS);
    this.#shift = 32 - 10;
    this.#ids = new Uint32Array(2 << 10);
    this.#refs = new Int32Array(1 << 10).fill(EMPTY);
    this.#used = 0;
    this.#live = 0;
  }
}

/** Constant-time comparison of two 256-byte keys. */
function sameKey(a: Uint8Array, ai: number, b: Uint8Array, bi: number): boolean {
  let diff = 0;
  for (let i = 0; i < KEY_BYTES; i++) diff |= a[ai + i] ^ b[bi + i];
  return diff === 0;
}
