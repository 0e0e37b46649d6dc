/**
 * The in-memory store behind AuthKeyManager: an open-addressing hash table from the 64-bit
 * auth key id (as two 32-bit halves, so a lookup makes no bigint) to a record in write-once
 * pages of key bytes plus digest. No object is kept per key; an AuthKey is made on lookup and
 * points into the page, which is why a page slot is never rewritten (a removed key's slot is
 * dropped, and live records are moved to fresh pages when too many are dead).
 * @internal
 */
import { ADOPT, AuthKey } from './auth-key.js';
import { u32be } from './ids.js';
import { ID_AT, RECORD_BYTES, sameKey } from './records.js';

const PAGE_SHIFT = 8;
const PAGE_RECORDS = 1 << PAGE_SHIFT;
const PAGE_BYTES = PAGE_RECORDS * RECORD_BYTES;
const MIN_BITS = 10;
// Slot layout in #slots, four int32 per slot so one probe touches one cache line:
//   [0] id high half, [1] id low half, [2] record index or EMPTY / DELETED, [3] 1 if it expires.
const HI = 0;
const LO = 1;
const REF = 2;
const EXPIRES = 3;
const EMPTY = -1;
const DELETED = -2;

/** Outcomes of `KeyTable.insert`. */
export const ADDED = 0;
export const ALREADY_STORED = 1;
export const COLLISION = 2;

/** Byte offset of record `r` inside its page. */
function offsetInPage(r: number): number {
  return (r & (PAGE_RECORDS - 1)) * RECORD_BYTES;
}

function emptySlots(bits: number): Int32Array {
  const slots = new Int32Array(4 << bits);
  for (let i = REF; i < slots.length; i += 4) slots[i] = EMPTY;
  return slots;
}

export class KeyTable {
  #slots: Int32Array;
  #shift: number;
  #used = 0; // slots not EMPTY: live + DELETED
  #live = 0;
  // Record r lives in #pages[r >>> PAGE_SHIFT] at offsetInPage(r).
  #pages: Uint8Array[] = [];
  #records = 0;
  // Expiry of record r in epoch ms (read only when its slot says it expires).
  #expires = new Float64Array(PAGE_RECORDS);

  constructor() {
    this.#slots = emptySlots(MIN_BITS);
    this.#shift = 32 - MIN_BITS;
  }

  /** Number of keys stored, counting any that expired but were not yet evicted. */
  get size(): number {
    return this.#live;
  }

  /** First slot to probe for id (hi, lo): Fibonacci hashing, so any id pattern spreads. */
  #home(hi: number, lo: number): number {
    return Math.imul(hi ^ lo, 0x9e3779b1) >>> this.#shift;
  }

  /** Slot holding id (hi, lo), or -1. An expired entry is evicted and reported missing. */
  #find(hi: number, lo: number): number {
    const slots = this.#slots;
    const mask = (slots.length >> 2) - 1;
    for (let s = this.#home(hi, lo); ; s = (s + 1) & mask) {
      const i = s << 2;
      const r = slots[i + REF];
      if (r === EMPTY) return -1;
      if (slots[i + LO] === (lo | 0) && slots[i + HI] === (hi | 0) && r !== DELETED) {
        if (slots[i + EXPIRES] !== 0 && this.#expires[r] <= Date.now()) {
          this.#remove(s);
          return -1;
        }
        return s;
      }
    }
  }

  /** The key stored under id (hi, lo), or undefined. */
  get(hi: number, lo: number): AuthKey | undefined {
    const s = this.#find(hi, lo);
    if (s < 0) return undefined;
    const r = this.#slots[(s << 2) + REF];
    return new AuthKey(ADOPT, this.#pages[r >>> PAGE_SHIFT], offsetInPage(r));
  }

  has(hi: number, lo: number): boolean {
    return this.#find(hi, lo) >= 0;
  }

  /** Removes id (hi, lo); false when it was not stored. */
  delete(hi: number, lo: number): boolean {
    const s = this.#find(hi, lo);
    if (s < 0) return false;
    this.#remove(s);
    return true;
  }

  #remove(s: number): void {
    this.#slots[(s << 2) + REF] = DELETED;
    this.#slots[(s << 2) + EXPIRES] = 0;
    this.#live--;
  }

  /**
   * Stores the record at `at` of `data` (key then digest) unless its id is taken; `expiresAt`
   * is epoch ms, 0 for never. Returns ADDED, ALREADY_STORED or COLLISION; nothing changes
   * unless ADDED.
   */
  insert(data: Uint8Array, at: number, expiresAt: number): number {
    const hi = u32be(data, at + ID_AT);
    const lo = u32be(data, at + ID_AT + 4);
    const s = this.#find(hi, lo);
    if (s >= 0) {
      const r = this.#slots[(s << 2) + REF];
      const page = this.#pages[r >>> PAGE_SHIFT];
      return sameKey(page, offsetInPage(r), data, at) ? ALREADY_STORED : COLLISION;
    }
    // Keep the load (live and deleted slots) at most 3/4: probes stay within a cache line or two.
    if (4 * (this.#used + 1) > 3 * (this.#slots.length >> 2)) this.#rebuild();
    const r = this.#append(data, at);
    this.#expires[r] = expiresAt;
    this.#place(hi, lo, r, expiresAt !== 0);
    this.#live++;
    return ADDED;
  }

  /** Copies a record to the next fresh record slot; returns its index. */
  #append(data: Uint8Array, at: number): number {
    const r = this.#records++;
    const page = r >>> PAGE_SHIFT;
    if (page === this.#pages.length) this.#pages.push(new Uint8Array(PAGE_BYTES));
    this.#pages[page].set(data.subarray(at, at + RECORD_BYTES), offsetInPage(r));
    if (r === this.#expires.length) {
      const grown = new Float64Array(2 * r);
      grown.set(this.#expires);
      this.#expires = grown;
    }
    return r;
  }

  #place(hi: number, lo: number, r: number, expires: boolean): void {
    const slots = this.#slots;
    const mask = (slots.length >> 2) - 1;
    let s = this.#home(hi, lo);
    while (slots[(s << 2) + REF] >= 0) s = (s + 1) & mask;
    const i = s << 2;
    if (slots[i + REF] === EMPTY) this.#used++;
    slots[i + HI] = hi;
    slots[i + LO] = lo;
    slots[i + REF] = r;
    slots[i + EXPIRES] = expires ? 1 : 0;
  }

  /**
   * Makes room without a timer: drops expired keys and deleted slots, sizes the table for the
   * live keys (load at most 1/2 after), and, once dead records outnumber live ones, moves the
   * live records to fresh pages so the old pages can be collected.
   */
  #rebuild(): void {
    const old = this.#slots;
    const oldPages = this.#pages;
    const oldExpires = this.#expires;
    const now = Date.now();
    let live = 0;
    for (let i = 0; i < old.length; i += 4) {
      const r = old[i + REF];
      if (r < 0) continue;
      if (old[i + EXPIRES] !== 0 && oldExpires[r] <= now) old[i + REF] = DELETED;
      else live++;
    }
    let bits = MIN_BITS;
    while (1 << bits < 2 * (live + 1)) bits++;
    this.#slots = emptySlots(bits);
    this.#shift = 32 - bits;
    this.#used = 0;
    this.#live = live;
    const compact = 2 * live < this.#records;
    if (compact) {
      this.#pages = [];
      this.#records = 0;
      this.#expires = new Float64Array(Math.max(PAGE_RECORDS, live));
    }
    for (let i = 0; i < old.length; i += 4) {
      let r = old[i + REF];
      if (r < 0) continue;
      const expires = old[i + EXPIRES] !== 0;
      if (compact) {
        const t = oldExpires[r];
        r = this.#append(oldPages[r >>> PAGE_SHIFT], offsetInPage(r));
        this.#expires[r] = t;
      }
      this.#place(old[i + HI], old[i + LO], r, expires);
    }
  }

  /** Removes every key. */
  clear(): void {
    this.#slots = emptySlots(MIN_BITS);
    this.#shift = 32 - MIN_BITS;
    this.#used = 0;
    this.#live = 0;
    this.#pages = [];
    this.#records = 0;
    this.#expires = new Float64Array(PAGE_RECORDS);
  }
}
