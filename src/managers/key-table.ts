/**
 * An in-memory store of auth keys: an open-addressing hash table from the 64-bit auth key id (as
 * two 32-bit halves, so a lookup makes no bigint) to a record (key bytes, then digest) in pages
 * of records. No object is kept for a key until it is looked up (see below).
 *
 * Memory follows the keys both ways:
 * - a removed record is zeroed at once and its slot goes on a free list, so the next insert
 *   reuses it;
 * - when the table becomes mostly empty it shrinks: the slot array is rebuilt smaller, and the
 *   records of the last pages are moved into free slots of the first ones so the last pages can
 *   be dropped;
 * - a key looked up is handed out as one `AuthKey` per record, kept for later lookups, that points
 *   into the page (no copy: a small heap object). The table copies a record out only when it
 *   stops holding it: before a record is zeroed (delete, expiry, `clear`) its AuthKey is given a
 *   copy of its own, and when compaction moves a record its AuthKey is pointed at the new place.
 *   So a key held by a caller stays valid and unchanged, and once the table has let go of its
 *   record it keeps no page (nor the other keys in it) alive. The one exception: a table dropped
 *   without `clear` leaves its handed-out keys pointing into its pages, which stay alive as long
 *   as those keys do.
 *
 * The table knows nothing of managers: it takes a clock and stores records. Expired records are
 * evicted when met (by a lookup, or by a rebuild when the table grows); there is no timer.
 *
 * A table may be bounded (`maxKeys`): an insert into a full table first evicts one record chosen
 * by CLOCK, the "second chance" approximation of least-recently-used (Corbató, 1968; described in
 * Tanenbaum, Modern Operating Systems, "The Clock Page Replacement Algorithm"). Each record has a
 * reference byte, set by `get` (a single store, so lookups stay as fast as unbounded ones) and by
 * the insert that made the record. A hand sweeps the record indices: a referenced record has its
 * byte cleared and is passed over, the first unreferenced (or expired) one is evicted. A record
 * looked up since the hand last passed it thus survives the next eviction whenever some record was
 * not. Eviction is an ordinary removal (zeroed record, handed-out key given its own copy).
 * @internal
 */
import { ADOPT, AuthKey } from '../core/auth-key.js';
import { u32be } from '../core/ids.js';
import { ID_AT, RECORD_BYTES, sameKey } from '../core/records.js';

const PAGE_SHIFT = 8;
/** Records per page: 256 records, 70,656 bytes. */
const PAGE_RECORDS = 1 << PAGE_SHIFT;
const PAGE_MASK = PAGE_RECORDS - 1;
const PAGE_BYTES = PAGE_RECORDS * RECORD_BYTES;
/** The slot array never shrinks below 2**MIN_BITS slots (16 KiB). */
const MIN_BITS = 10;
// Slot layout in #slots, four int32 per slot so one probe touches one cache line:
//   [0] id high half, [1] id low half, [2] record index or EMPTY / DELETED, [3] 1 if it expires.
const HI = 0;
const LO = 1;
const REF = 2;
const EXPIRES = 3;
const EMPTY = -1;
const DELETED = -2;
/** End of the free list. */
const NONE = -1;
// Reference bytes of records, in #refs (CLOCK eviction, see the header).
/** A stored record not looked up since the hand last passed it: the next victim. */
const UNREFERENCED = 0;
/** A stored record looked up (or inserted) since the hand last passed it. */
const REFERENCED = 1;
/** A record slot on the free list. */
const FREE = 2;

/** Outcomes of `KeyTable.insert`. */
export const ADDED = 0;
export const ALREADY_STORED = 1;
export const COLLISION = 2;

/** Sizes and counters of a table, for tests and diagnostics. */
export interface KeyTableStats {
  /** Keys stored (expired ones not yet evicted included). */
  live: number;
  /** Slots in the hash table, and those not empty (live plus tombstones). */
  slots: number;
  used: number;
  /** Pages of records, and record slots below the high-water mark (live plus free). */
  pages: number;
  records: number;
  /** Record slots on the free list. */
  free: number;
  /** Stored keys with an AuthKey kept for handing out again (they were looked up). */
  handed: number;
  /** Rebuilds of the slot array that made it larger, and smaller; moves of records to fewer pages. */
  grows: number;
  shrinks: number;
  compactions: number;
  /** Records evicted to make room in a bounded table (`maxKeys`); expiry is not counted. */
  evictions: number;
}

/** Byte offset of record `r` inside its page. */
function offsetInPage(r: number): number {
  return (r & PAGE_MASK) * RECORD_BYTES;
}

/** Pages needed for `n` records. */
function pagesFor(n: number): number {
  return (n + PAGE_RECORDS - 1) >>> PAGE_SHIFT;
}

function emptySlots(bits: number): Int32Array {
  const slots = new Int32Array(4 << bits);
  for (let i = REF; i < slots.length; i += 4) slots[i] = EMPTY;
  return slots;
}

/** Smallest table size (bits) that holds `live` keys at a load of at most 1/2. */
function bitsFor(live: number): number {
  let bits = MIN_BITS;
  while (1 << bits < 2 * (live + 1)) bits++;
  return bits;
}

export class KeyTable {
  readonly #now: () => number;
  #slots: Int32Array;
  #shift: number;
  #used = 0; // slots not EMPTY: live + DELETED
  #live = 0;
  // Record r lives in #pages[r >>> PAGE_SHIFT] at offsetInPage(r). Records [0, #top) are live or
  // on the free list; the free list is threaded through #expires (a free record's entry holds the
  // next free record), so it costs no memory of its own.
  #pages: Uint8Array[] = [];
  // The AuthKey handed out for record r, if it was looked up: #handed[r >>> PAGE_SHIFT][r & PAGE_MASK].
  #handed: (AuthKey | undefined)[][] = [];
  #top = 0;
  #free = NONE;
  #freeCount = 0;
  // Expiry of record r in epoch ms (read only when its slot says it expires).
  #expires = new Float64Array(PAGE_RECORDS);
  // Reference byte of record r (UNREFERENCED, REFERENCED or FREE), as long as #expires; records
  // [0, #top) are what the CLOCK hand sweeps, from #hand (clamped to #top when it is used).
  #refs = new Uint8Array(PAGE_RECORDS);
  #hand = 0;
  readonly #maxKeys: number;
  #grows = 0;
  #shrinks = 0;
  #compactions = 0;
  #evictions = 0;

  /**
   * @param now the clock expiry is judged by, in epoch milliseconds; called without a `this`
   * @param maxKeys the most keys held: an insert into a full table first evicts one (CLOCK).
   *   A positive integer or Infinity (unbounded, the default); the caller validates it.
   */
  constructor(now: () => number, maxKeys = Infinity) {
    this.#now = now;
    this.#maxKeys = maxKeys;
    this.#slots = emptySlots(MIN_BITS);
    this.#shift = 32 - MIN_BITS;
  }

  /** Keys evicted to stay within `maxKeys` (expired keys removed are not counted). */
  get evictions(): number {
    return this.#evictions;
  }

  /** Number of keys stored, counting any that expired but were not yet evicted. */
  get size(): number {
    return this.#live;
  }

  /** The bound given to the constructor (Infinity when unbounded). */
  get maxKeys(): number {
    return this.#maxKeys;
  }

  /** First slot to probe for id (hi, lo): Fibonacci hashing, so any id pattern spreads. */
  #home(hi: number, lo: number): number {
    return Math.imul(hi ^ lo, 0x9e3779b1) >>> this.#shift;
  }

  /** The clock, called as a plain function (a method passed unbound must not see the table). */
  #time(): number {
    const now = this.#now;
    return now();
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
        if (slots[i + EXPIRES] !== 0 && this.#expires[r] <= this.#time()) {
          this.#remove(s);
          return -1;
        }
        return s;
      }
    }
  }

  /**
   * The key stored under id (hi, lo), or undefined: the same AuthKey for every lookup of a stored
   * key. It points into the page while the table holds the record, and is handed a copy of its
   * own before the record is zeroed, so it stays valid whatever the table does later.
   */
  get(hi: number, lo: number): AuthKey | undefined {
    const s = this.#find(hi, lo);
    if (s < 0) return undefined;
    const r = this.#slots[(s << 2) + REF];
    this.#refs[r] = REFERENCED;
    const handed = this.#handed[r >>> PAGE_SHIFT];
    const cached = handed[r & PAGE_MASK];
    if (cached !== undefined) return cached;
    const key = new AuthKey(ADOPT, this.#pages[r >>> PAGE_SHIFT], offsetInPage(r));
    handed[r & PAGE_MASK] = key;
    return key;
  }

  has(hi: number, lo: number): boolean {
    return this.#find(hi, lo) >= 0;
  }

  /**
   * The ids stored now (expired ones not yet evicted included) as (hi, lo) pairs, 8 bytes a key:
   * a snapshot to iterate over with {@link entry}, which later inserts, removals and compactions
   * do not disturb.
   */
  ids(): Int32Array {
    const slots = this.#slots;
    const ids = new Int32Array(2 * this.#live);
    let n = 0;
    for (let i = 0; i < slots.length; i += 4) {
      if (slots[i + REF] >= 0) {
        ids[n++] = slots[i + HI];
        ids[n++] = slots[i + LO];
      }
    }
    return ids;
  }

  /**
   * The key under id (hi, lo) and its expiry (epoch ms, 0 for never), or undefined (an expired
   * key is evicted, as by `get`). For reading the whole store out: the lookup does not count as a
   * use for CLOCK, and a key not handed out before is returned over a copy of its record that the
   * table does not keep, so reading every key leaves the table as it was.
   */
  entry(hi: number, lo: number): { key: AuthKey; expiresAt: number } | undefined {
    const s = this.#find(hi, lo);
    if (s < 0) return undefined;
    const r = this.#slots[(s << 2) + REF];
    const expiresAt = this.#slots[(s << 2) + EXPIRES] !== 0 ? this.#expires[r] : 0;
    const handed = this.#handed[r >>> PAGE_SHIFT][r & PAGE_MASK];
    if (handed !== undefined) return { key: handed, expiresAt };
    const at = offsetInPage(r);
    return { key: new AuthKey(ADOPT, this.#pages[r >>> PAGE_SHIFT].slice(at, at + RECORD_BYTES), 0), expiresAt };
  }

  /** Removes id (hi, lo); false when it was not stored. */
  delete(hi: number, lo: number): boolean {
    const s = this.#find(hi, lo);
    if (s < 0) return false;
    this.#remove(s);
    return true;
  }

  /** Removes the key in slot `s`: tombstone, zeroed record on the free list, then maybe shrink. */
  #remove(s: number): void {
    const i = s << 2;
    this.#release(this.#slots[i + REF]);
    this.#slots[i + REF] = DELETED;
    this.#slots[i + EXPIRES] = 0;
    this.#live--;
    this.#shrinkIfSparse();
  }

  /**
   * Zeroes record `r` (the key is secret) and puts it on the free list; the AuthKey handed out
   * for it, if any, is first given a copy of its own.
   */
  #release(r: number): void {
    const at = offsetInPage(r);
    const page = this.#pages[r >>> PAGE_SHIFT];
    this.#detach(r);
    page.fill(0, at, at + RECORD_BYTES);
    this.#expires[r] = this.#free;
    this.#refs[r] = FREE;
    this.#free = r;
    this.#freeCount++;
  }

  /**
   * If record `r` was handed out, gives its AuthKey a copy of the record and forgets it: the key
   * then depends on nothing of the table's.
   */
  #detach(r: number): void {
    const handed = this.#handed[r >>> PAGE_SHIFT];
    const key = handed[r & PAGE_MASK];
    if (key === undefined) return;
    const at = offsetInPage(r);
    AuthKey.relocate(key, this.#pages[r >>> PAGE_SHIFT].slice(at, at + RECORD_BYTES), 0);
    handed[r & PAGE_MASK] = undefined;
  }

  /**
   * Stores the record of `key` (key bytes then digest) unless its id is taken; `expiresAt` is
   * epoch ms, 0 for never. Returns ADDED, ALREADY_STORED or COLLISION; nothing changes unless
   * ADDED (an expired key met on the way may be evicted).
   */
  insert(key: AuthKey, expiresAt: number): number {
    const { hi, lo } = AuthKey.idHalvesOf(key);
    const s = this.#find(hi, lo);
    if (s >= 0) {
      const r = this.#slots[(s << 2) + REF];
      const { data, at } = AuthKey.recordOf(key);
      return sameKey(this.#pages[r >>> PAGE_SHIFT], offsetInPage(r), data, at) ? ALREADY_STORED : COLLISION;
    }
    // A full bounded table makes room first. The eviction may remove, zero or move any record,
    // which is why nothing about where a record lives is kept from the lookup above.
    if (this.#live >= this.#maxKeys) this.#evict();
    // Keep the load (live and deleted slots) at most 3/4: probes stay within a cache line or two.
    if (4 * (this.#used + 1) > 3 * (this.#slots.length >> 2)) this.#rebuild(true);
    const r = this.#take();
    // Where the key's bytes live is read only now: `key` may be one this table handed out, and the
    // eviction and compaction above may have given it a copy or moved it.
    const { data, at } = AuthKey.recordOf(key);
    this.#pages[r >>> PAGE_SHIFT].set(data.subarray(at, at + RECORD_BYTES), offsetInPage(r));
    this.#expires[r] = expiresAt;
    this.#place(hi, lo, r, expiresAt !== 0);
    this.#live++;
    return ADDED;
  }

  /** A record slot for a new key: the last one freed, else the next fresh one (a page is added when needed). */
  #take(): number {
    const free = this.#free;
    if (free !== NONE) {
      this.#free = this.#expires[free];
      this.#freeCount--;
      // A new record starts referenced: it gets one pass of the hand before it can be evicted.
      this.#refs[free] = REFERENCED;
      return free;
    }
    const r = this.#top++;
    if (r >>> PAGE_SHIFT === this.#pages.length) {
      this.#pages.push(new Uint8Array(PAGE_BYTES));
      this.#handed.push(new Array<AuthKey | undefined>(PAGE_RECORDS).fill(undefined));
    }
    if (r === this.#expires.length) {
      const grown = new Float64Array(2 * r);
      grown.set(this.#expires);
      this.#expires = grown;
      const refs = new Uint8Array(2 * r);
      refs.set(this.#refs);
      this.#refs = refs;
    }
    this.#refs[r] = REFERENCED;
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
   * Rebuilds the slot array for the live keys (load at most 1/2 after), dropping tombstones. On
   * the way to grow (`evict`), keys that have expired are removed first, without a timer; the
   * clock is read before anything changes, so a clock that throws leaves the table as it was.
   */
  #rebuild(evict: boolean): void {
    const old = this.#slots;
    const oldSize = old.length >> 2;
    let live = this.#live;
    if (evict) {
      const now = this.#time();
      const expires = this.#expires;
      for (let i = 0; i < old.length; i += 4) {
        const r = old[i + REF];
        if (r >= 0 && old[i + EXPIRES] !== 0 && expires[r] <= now) {
          this.#release(r);
          old[i + REF] = DELETED;
          live--;
        }
      }
    }
    const bits = bitsFor(live);
    this.#slots = emptySlots(bits);
    this.#shift = 32 - bits;
    this.#used = 0;
    this.#live = live;
    for (let i = 0; i < old.length; i += 4) {
      const r = old[i + REF];
      if (r >= 0) this.#place(old[i + HI], old[i + LO], r, old[i + EXPIRES] !== 0);
    }
    const size = 1 << bits;
    if (size > oldSize) this.#grows++;
    else if (size < oldSize) this.#shrinks++;
    if (evict) this.#compactIfSparse();
  }

  /**
   * After a removal: a slot array at most 1/8 full is rebuilt at load 1/4 to 1/2 (it grows again
   * only past 3/4, so a table hovering at one size does not rebuild back and forth), and records
   * are compacted as `#compactIfSparse` says. Both cost time in proportion to the removals since
   * the last time, so a removal costs amortized O(1).
   */
  #shrinkIfSparse(): void {
    const size = this.#slots.length >> 2;
    if (size > 1 << MIN_BITS && 8 * this.#live < size) this.#rebuild(false);
    this.#compactIfSparse();
  }

  /**
   * When fewer than 1/4 of the records below the high-water mark are live and whole pages would
   * be freed, moves the live records above `live` into the free slots below it, and drops the
   * pages past it: the store then holds exactly its live records, in as few pages as they need.
   */
  #compactIfSparse(): void {
    const live = this.#live;
    if (4 * live >= this.#top || pagesFor(live) >= this.#pages.length) return;
    const top = this.#top;
    const pages = this.#pages;
    const expires = this.#expires;
    // Free slots below `live` are the destinations; free slots at or above it are marked so the
    // scan below skips them. There are exactly as many destinations as live records to move.
    const holes = new Int32Array(Math.min(this.#freeCount, live));
    let holeCount = 0;
    const freeAbove = new Uint8Array(top - live);
    for (let r = this.#free; r !== NONE; r = expires[r]) {
      if (r < live) holes[holeCount++] = r;
      else freeAbove[r - live] = 1;
    }
    for (let r = live; r < top; r++) {
      if (freeAbove[r - live] === 1) continue;
      const to = holes[--holeCount];
      const from = pages[r >>> PAGE_SHIFT];
      const at = offsetInPage(r);
      const s = this.#slotOf(u32be(from, at + ID_AT), u32be(from, at + ID_AT + 4), r);
      pages[to >>> PAGE_SHIFT].set(from.subarray(at, at + RECORD_BYTES), offsetInPage(to));
      from.fill(0, at, at + RECORD_BYTES);
      expires[to] = expires[r];
      this.#refs[to] = this.#refs[r];
      // The AuthKey handed out for the record follows it: same bytes, new place, no copy.
      const handed = this.#handed;
      const key = handed[r >>> PAGE_SHIFT][r & PAGE_MASK];
      if (key !== undefined) {
        AuthKey.relocate(key, pages[to >>> PAGE_SHIFT], offsetInPage(to));
        handed[to >>> PAGE_SHIFT][to & PAGE_MASK] = key;
        handed[r >>> PAGE_SHIFT][r & PAGE_MASK] = undefined;
      }
      this.#slots[(s << 2) + REF] = to;
    }
    // Every record at or above `live` is now zero and no AuthKey points there (a freed record's
    // key was given a copy when it was released, a moved one follows its record), so the pages
    // past it can be dropped.
    const keep = pagesFor(live);
    pages.length = keep;
    this.#handed.length = keep;
    this.#top = live;
    this.#free = NONE;
    this.#freeCount = 0;
    // The next free slot after `live` would lie in the last kept page; records past it start a new one.
    const capacity = Math.max(PAGE_RECORDS, keep * PAGE_RECORDS);
    if (capacity < expires.length) {
      this.#expires = expires.slice(0, capacity);
      this.#refs = this.#refs.slice(0, capacity);
    }
    this.#compactions++;
  }

  /** The slot whose record is `r`; the id (hi, lo) is read from the record itself. */
  #slotOf(hi: number, lo: number, r: number): number {
    const slots = this.#slots;
    const mask = (slots.length >> 2) - 1;
    let s = this.#home(hi, lo);
    while (slots[(s << 2) + REF] !== r) s = (s + 1) & mask;
    return s;
  }

  /**
   * Evicts one stored key, chosen by CLOCK as an insert into a full table does (see the header);
   * false when the table is empty. The evicted record is removed as by `delete`: zeroed, and its
   * handed-out AuthKey, if any, given a copy of its own.
   */
  evictOne(): boolean {
    if (this.#live === 0) return false;
    this.#evict();
    return true;
  }

  /**
   * CLOCK: from the hand, clears the reference byte of each referenced record and evicts the
   * first unreferenced one, or the first expired one met (referenced or not). At most two laps:
   * the first clears every byte, so the second meets an unreferenced record. The clock is read
   * before anything changes, so a clock that throws leaves the table as it was. Needs a live key.
   */
  #evict(): void {
    const now = this.#time();
    const refs = this.#refs;
    const expires = this.#expires;
    const top = this.#top;
    let r = this.#hand < top ? this.#hand : 0;
    for (;;) {
      const ref = refs[r];
      if (ref === UNREFERENCED) break;
      if (ref === REFERENCED) {
        const at = expires[r];
        if (at !== 0 && at <= now) break;
        refs[r] = UNREFERENCED;
      }
      r = r + 1 === top ? 0 : r + 1;
    }
    // The next sweep starts past the victim; the insert that follows reuses the victim's slot
    // (the free list hands out the last record freed), so the new key is the last the hand meets.
    this.#hand = r + 1;
    const page = this.#pages[r >>> PAGE_SHIFT];
    const at = offsetInPage(r);
    this.#remove(this.#slotOf(u32be(page, at + ID_AT), u32be(page, at + ID_AT + 4), r));
    this.#evictions++;
  }

  /**
   * @internal the stored keys in the order the CLOCK hand will meet them, each with its reference
   * byte, for tests that check which key an eviction picks.
   */
  clockForTest(): { hi: number; lo: number; referenced: boolean }[] {
    const order: { hi: number; lo: number; referenced: boolean }[] = [];
    const top = this.#top;
    const start = this.#hand < top ? this.#hand : 0;
    for (let i = 0; i < top; i++) {
      const r = (start + i) % top;
      if (this.#refs[r] === FREE) continue;
      const page = this.#pages[r >>> PAGE_SHIFT];
      const at = offsetInPage(r);
      order.push({ hi: u32be(page, at + ID_AT), lo: u32be(page, at + ID_AT + 4), referenced: this.#refs[r] === REFERENCED });
    }
    return order;
  }

  /**
   * Removes every key: each AuthKey handed out is given a copy of its record, then the records
   * are zeroed and the pages dropped, so keys still held afterwards keep no page alive.
   */
  clear(): void {
    this.forgetHandouts();
    for (const page of this.#pages) page.fill(0);
    this.#slots = emptySlots(MIN_BITS);
    this.#shift = 32 - MIN_BITS;
    this.#used = 0;
    this.#live = 0;
    this.#pages = [];
    this.#handed = [];
    this.#top = 0;
    this.#free = NONE;
    this.#freeCount = 0;
    this.#expires = new Float64Array(PAGE_RECORDS);
    this.#refs = new Uint8Array(PAGE_RECORDS);
    this.#hand = 0;
  }

  /** @internal sizes and counters, for tests and diagnostics. */
  stats(): KeyTableStats {
    return {
      live: this.#live,
      slots: this.#slots.length >> 2,
      used: this.#used,
      pages: this.#pages.length,
      records: this.#top,
      free: this.#freeCount,
      handed: this.#handed.reduce((n, page) => n + page.filter((k) => k !== undefined).length, 0),
      grows: this.#grows,
      shrinks: this.#shrinks,
      compactions: this.#compactions,
      evictions: this.#evictions,
    };
  }

  /**
   * @internal gives every AuthKey handed out a copy of its record and forgets it (the keys stay
   * stored), so that a benchmark can measure first lookups again. Costs a copy per key.
   */
  forgetHandouts(): void {
    for (let r = 0; r < this.#top; r++) this.#detach(r);
  }

  /** @internal the record pages themselves, for tests that check removed keys were zeroed. */
  pagesForTest(): readonly Uint8Array[] {
    return this.#pages.slice();
  }
}
