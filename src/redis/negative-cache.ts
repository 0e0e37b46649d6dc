/**
 * A bounded, exact set of 64-bit ids remembered for a fixed time: the near cache's negative
 * entries ("this id is not in Redis"), so that a flood of packets with unknown ids costs one Redis
 * read per id per TTL, not one per packet.
 *
 * Every id is remembered for the same `ttlMs` from its last `add`, so the order of adds is the
 * order of expiry. The entries therefore live in a FIFO ring (oldest at the head): expired ones
 * are all at the head and are dropped from there, and when the set is full the oldest is dropped
 * the same way. An open-addressing hash (linear probing, deletion by backward shift, as described
 * in Knuth, TAOCP vol. 3, section 6.4, Algorithm R) maps an id to its ring position, so `has`,
 * `add` and `delete` cost O(1). `delete` unlinks the id and marks its ring entry dead; dead entries
 * are skipped at the head and squeezed out when the ring is rebuilt.
 *
 * Memory follows the ids: the ring starts small and doubles up to `maxIds` plus a quarter (the
 * quarter is room for dead entries, so a full set with some deletes still holds `maxIds` live
 * ids and only rebuilds after a quarter of its size in deletes), it halves again when mostly
 * empty, and `clear` returns it to its starting size. Each ring entry is 16 bytes and each hash
 * slot 8, with 4/3 to 8/3 slots per id: at 1,000,000 ids the arrays hold 33.6 bytes an id
 * (a `Map<bigint, number>` of the same ids grows the heap by about 45).
 *
 * The ids are chosen by whoever sends packets, so the hash is keyed with random bits drawn per
 * set: with a fixed hash (such as Fibonacci hashing of `hi ^ lo`, fine for the key table whose
 * ids are SHA-1 outputs) an attacker could send ids that all land on one probe run and make every
 * operation linear. The mixing (multiply and xor-shift rounds, the finalizer of MurmurHash3)
 * is not a cryptographic function; it makes crafted collisions depend on a key the sender never
 * sees.
 * @internal
 */

/** Ring entries at the start (and after `clear`): 1 KiB. */
const MIN_RING = 64;
/** The hash never has fewer than 2**MIN_BITS slots. */
const MIN_BITS = 4;
/** Ring position of an empty hash slot. */
const EMPTY = -1;
/** Expiry of a deleted ring entry: below any clock reading, so it always counts as expired. */
const DEAD = -Infinity;

/** Smallest hash size (bits) that holds `n` ids at a load of at most 3/4. */
function bitsFor(n: number): number {
  let bits = MIN_BITS;
  while (3 * 2 ** bits < 4 * n) bits++;
  return bits;
}

/**
 * @internal a set of 64-bit ids, each as its two int32 halves, remembered for `ttlMs` after it was
 * added, at most `maxIds` at once (the oldest goes first). Exact: no false positives, and every id
 * added within the last `ttlMs` is remembered unless it was deleted or pushed out by `maxIds` newer
 * ones. With a clock that goes backwards, an id may outlive its TTL by the jump (order of adds
 * stands in for order of expiry); `has` never answers true for an expired id.
 */
export class NegativeIds {
  readonly #maxIds: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  /** Ring capacity at most: maxIds and room for dead entries. */
  readonly #maxRing: number;
  /** The hash key, drawn per set. */
  readonly #k0: number;
  readonly #k1: number;
  // The ring: entry p is 16 bytes, one cache line for the id and its expiry:
  // #ringI[4p] = hi, #ringI[4p + 1] = lo, #ringF[2p + 1] = expiry in ms (DEAD once deleted).
  #ringI: Int32Array;
  #ringF: Float64Array;
  #cap: number;
  #head = 0;
  /** Ring entries from the head, live and dead. */
  #count = 0;
  /** Live entries: those linked in the hash (expired ones not yet dropped included). */
  #live = 0;
  // The hash: two int32 per slot, [2s] the ring position (or EMPTY) and [2s + 1] the id's low
  // half, so most mismatches are seen without reading the ring.
  #slots: Int32Array;
  #mask: number;
  #shift: number;

  /**
   * @param maxIds the most ids remembered at once: a positive integer (the caller validates it)
   * @param ttlMs how long an id is remembered after its last `add`, in the clock's milliseconds
   * @param now the clock, called without a `this`; a monotonic one (`performance.now`) keeps
   *   expiry exact when the wall clock is set back
   * @throws RangeError if `maxIds` is not a positive safe integer or `ttlMs` not a positive finite number
   */
  constructor(maxIds: number, ttlMs: number, now: () => number) {
    if (!Number.isSafeInteger(maxIds) || maxIds < 1) throw new RangeError(`NegativeIds: expected maxIds as a positive integer, got ${String(maxIds)}`);
    if (!(ttlMs > 0 && ttlMs < Infinity)) throw new RangeError(`NegativeIds: expected ttlMs as a positive finite number, got ${String(ttlMs)}`);
    this.#maxIds = maxIds;
    this.#ttlMs = ttlMs;
    this.#now = now;
    this.#maxRing = maxIds + Math.max(1, Math.floor(maxIds / 4));
    const key = crypto.getRandomValues(new Int32Array(2));
    this.#k0 = key[0];
    this.#k1 = key[1];
    this.#cap = Math.min(MIN_RING, this.#maxRing);
    this.#ringF = new Float64Array(2 * this.#cap);
    this.#ringI = new Int32Array(this.#ringF.buffer);
    const bits = bitsFor(Math.min(this.#maxIds, this.#cap));
    this.#slots = new Int32Array(2 << bits).fill(EMPTY);
    this.#mask = (1 << bits) - 1;
    this.#shift = 32 - bits;
  }

  /** Ids remembered and not expired. Drops the expired ones first (reads the clock). */
  get size(): number {
    this.#dropExpired(this.#time());
    return this.#live;
  }

  /** Whether id (hi, lo) was added less than `ttlMs` ago and is still remembered. Changes nothing. */
  has(hi: number, lo: number): boolean {
    const s = this.#slotOf(hi | 0, lo | 0);
    // The clock is read only on a hit: a miss (the common case under a flood) costs one probe run.
    return s >= 0 && this.#time() < this.#ringF[2 * this.#slots[2 * s] + 1];
  }

  /**
   * Remembers id (hi, lo) for `ttlMs` from now (again from now if it was remembered). When
   * `maxIds` ids are remembered, the oldest is forgotten first.
   */
  add(hi: number, lo: number): void {
    hi |= 0;
    lo |= 0;
    // The clock first: one that throws leaves the set as it was.
    const now = this.#time();
    this.#dropExpired(now);
    const s = this.#slotOf(hi, lo);
    if (s >= 0) this.#unlink(s);
    if (this.#live === this.#maxIds) this.#dropOldestLive();
    if (this.#count === this.#cap) this.#makeRoom();
    else if (this.#cap > MIN_RING && 8 * this.#live <= this.#cap) this.#resize(this.#ringFor(this.#live + 1));
    let p = this.#head + this.#count;
    if (p >= this.#cap) p -= this.#cap;
    this.#ringI[4 * p] = hi;
    this.#ringI[4 * p + 1] = lo;
    this.#ringF[2 * p + 1] = now + this.#ttlMs;
    this.#count++;
    this.#live++;
    this.#link(hi, lo, p);
  }

  /** Forgets id (hi, lo); true if it was remembered and not expired. */
  delete(hi: number, lo: number): boolean {
    const s = this.#slotOf(hi | 0, lo | 0);
    if (s < 0) return false;
    const live = this.#time() < this.#ringF[2 * this.#slots[2 * s] + 1];
    this.#unlink(s);
    return live;
  }

  /** Forgets every id, and returns the memory to the starting size. */
  clear(): void {
    this.#cap = Math.min(MIN_RING, this.#maxRing);
    this.#ringF = new Float64Array(2 * this.#cap);
    this.#ringI = new Int32Array(this.#ringF.buffer);
    this.#head = 0;
    this.#count = 0;
    this.#live = 0;
    this.#rehash();
  }

  /** @internal ring capacity and hash slots, for tests of how memory follows the ids. */
  statsForTest(): { live: number; ring: number; count: number; slots: number } {
    return { live: this.#live, ring: this.#cap, count: this.#count, slots: this.#mask + 1 };
  }

  /** The clock, called as a plain function. */
  #time(): number {
    const now = this.#now;
    return now();
  }

  /** Home slot of id (hi, lo): a keyed mix of both halves, then the top bits (Fibonacci hashing). */
  #home(hi: number, lo: number): number {
    let x = Math.imul(lo ^ this.#k0, 0x85ebca6b);
    x ^= x >>> 16;
    x = Math.imul(x ^ hi, 0xc2b2ae35);
    x ^= x >>> 13;
    x = Math.imul(x ^ this.#k1, 0x9e3779b1);
    x ^= x >>> 16;
    return Math.imul(x, 0x9e3779b1) >>> this.#shift;
  }

  /** The hash slot of id (hi, lo), or -1. */
  #slotOf(hi: number, lo: number): number {
    const slots = this.#slots;
    const ring = this.#ringI;
    const mask = this.#mask;
    for (let s = this.#home(hi, lo); ; s = (s + 1) & mask) {
      const p = slots[2 * s];
      if (p === EMPTY) return -1;
      if (slots[2 * s + 1] === lo && ring[4 * p] === hi) return s;
    }
  }

  #link(hi: number, lo: number, p: number): void {
    const slots = this.#slots;
    const mask = this.#mask;
    let s = this.#home(hi, lo);
    while (slots[2 * s] !== EMPTY) s = (s + 1) & mask;
    slots[2 * s] = p;
    slots[2 * s + 1] = lo;
  }

  /**
   * Forgets the id in hash slot `s`: its ring entry is marked dead, and the slot is emptied by
   * backward shift: each later slot of the probe run whose home is not after the hole moves into
   * it, so every id stays reachable from its home with no tombstones.
   */
  #unlink(s: number): void {
    const slots = this.#slots;
    const ring = this.#ringI;
    const mask = this.#mask;
    this.#ringF[2 * slots[2 * s] + 1] = DEAD;
    this.#live--;
    let hole = s;
    for (let j = (s + 1) & mask; ; j = (j + 1) & mask) {
      const p = slots[2 * j];
      if (p === EMPTY) break;
      const home = this.#home(ring[4 * p], slots[2 * j + 1]);
      // The entry at j may fill the hole when the hole lies on its way from home to j.
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        slots[2 * hole] = p;
        slots[2 * hole + 1] = slots[2 * j + 1];
        hole = j;
      }
    }
    slots[2 * hole] = EMPTY;
  }

  /** Drops the head entry of the ring, unlinking it first if it is live. */
  #dropHead(): void {
    const p = this.#head;
    if (this.#ringF[2 * p + 1] !== DEAD) this.#unlink(this.#slotOf(this.#ringI[4 * p], this.#ringI[4 * p + 1]));
    this.#head = p + 1 === this.#cap ? 0 : p + 1;
    this.#count--;
  }

  /** Drops expired and dead entries from the head: all the expired ones, when the clock only goes forward. */
  #dropExpired(now: number): void {
    while (this.#count > 0 && this.#ringF[2 * this.#head + 1] <= now) this.#dropHead();
  }

  /** Drops the oldest live entry (and the dead ones before it). */
  #dropOldestLive(): void {
    const live = this.#live;
    while (this.#live === live) this.#dropHead();
  }

  /**
   * The ring is full of entries (live and dead) and an add needs one more: grows it (doubling, up
   * to `maxIds` and a quarter), or, when half of it or more is dead or it is at its largest,
   * rebuilds it at the same size without the dead entries. At its largest, a full ring with fewer
   * than `maxIds` live entries holds more than a quarter of `maxIds` dead ones, so a rebuild
   * costs O(1) per delete behind it.
   */
  #makeRoom(): void {
    const dead = this.#count - this.#live;
    if (this.#cap < this.#maxRing && 2 * dead < this.#count) this.#resize(Math.min(2 * this.#cap, this.#maxRing));
    else this.#resize(this.#cap);
  }

  /** Ring capacity for `n` live entries: a power of two at least twice `n` (within MIN_RING and the largest). */
  #ringFor(n: number): number {
    let cap = MIN_RING;
    while (cap < 2 * n) cap *= 2;
    return Math.min(cap, this.#maxRing);
  }

  /** Moves the live entries, oldest first, to a new ring of `cap` entries, and rebuilds the hash for it. */
  #resize(cap: number): void {
    const oldI = this.#ringI;
    const oldF = this.#ringF;
    const ringF = new Float64Array(2 * cap);
    const ringI = new Int32Array(ringF.buffer);
    let n = 0;
    for (let i = 0, p = this.#head; i < this.#count; i++, p = p + 1 === this.#cap ? 0 : p + 1) {
      if (oldF[2 * p + 1] === DEAD) continue;
      ringI[4 * n] = oldI[4 * p];
      ringI[4 * n + 1] = oldI[4 * p + 1];
      ringF[2 * n + 1] = oldF[2 * p + 1];
      n++;
    }
    this.#ringI = ringI;
    this.#ringF = ringF;
    this.#cap = cap;
    this.#head = 0;
    this.#count = n;
    this.#live = n;
    this.#rehash();
  }

  /** A new hash sized for the ring, with every live entry linked. */
  #rehash(): void {
    const bits = bitsFor(Math.min(this.#maxIds, this.#cap));
    this.#slots = new Int32Array(2 << bits).fill(EMPTY);
    this.#mask = (1 << bits) - 1;
    this.#shift = 32 - bits;
    const ring = this.#ringI;
    for (let p = 0; p < this.#count; p++) this.#link(ring[4 * p], ring[4 * p + 1], p);
  }
}
