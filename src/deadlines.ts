/**
 * One deadline mechanism for many pending operations: a FIFO of entries and a single timer, so
 * that bounding an operation's time costs a push and a flag, not a timer and a promise race each.
 * @internal
 */

/** An operation that must settle before `deadline` (a `performance.now()` time, ms). */
export interface Expiring {
  readonly deadline: number;
  /** Set by the owner once the operation has its outcome; the queue sets it when it expires one. */
  settled: boolean;
}

const INITIAL_CAPACITY = 16;

/**
 * Pending operations in the order they were added, each with a deadline no earlier than the one
 * before it (the owner adds `now + a fixed timeout`), so the earliest deadline is always at the
 * head. One timer, armed for the head's deadline and unref'd (it never keeps a process alive),
 * expires every unsettled entry that is past due and re-arms for the next; settled entries are
 * dropped from the head whenever an entry is added, so the queue holds about what is in flight.
 */
export class DeadlineQueue<T extends Expiring> {
  // A ring buffer of entries; capacity is a power of two.
  #ring: Array<T | undefined> = new Array<T | undefined>(INITIAL_CAPACITY);
  #mask = INITIAL_CAPACITY - 1;
  #head = 0;
  #size = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #expire: (entry: T) => void;

  /**
   * @param expire called once for each entry whose deadline passed before it settled, after the
   *   queue marked it settled; it must not throw
   */
  constructor(expire: (entry: T) => void) {
    this.#expire = expire;
  }

  /** Entries held (settled ones not yet dropped included); for tests. */
  get size(): number {
    return this.#size;
  }

  /** Adds `entry`, whose deadline must be no earlier than that of any entry added before it. */
  add(entry: T): void {
    this.#dropSettled();
    if (this.#size > this.#mask) this.#grow();
    this.#ring[(this.#head + this.#size) & this.#mask] = entry;
    this.#size++;
    if (this.#timer === undefined) this.#arm(entry.deadline);
  }

  #dropSettled(): void {
    const ring = this.#ring;
    while (this.#size > 0 && ring[this.#head]!.settled) {
      ring[this.#head] = undefined;
      this.#head = (this.#head + 1) & this.#mask;
      this.#size--;
    }
  }

  #grow(): void {
    const old = this.#ring;
    const ring = new Array<T | undefined>(old.length * 2);
    for (let i = 0; i < this.#size; i++) ring[i] = old[(this.#head + i) & this.#mask];
    this.#ring = ring;
    this.#mask = ring.length - 1;
    this.#head = 0;
  }

  #arm(deadline: number): void {
    // Timers have millisecond resolution and never fire early; a deadline a fraction of a
    // millisecond away waits one millisecond.
    const delay = Math.max(1, Math.ceil(deadline - performance.now()));
    this.#timer = setTimeout(this.#fire, delay);
    this.#timer.unref();
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    const ring = this.#ring;
    while (this.#size > 0) {
      const entry = ring[this.#head]!;
      if (!entry.settled) {
        if (entry.deadline > now) {
          this.#arm(entry.deadline);
          return;
        }
        entry.settled = true;
        this.#expire(entry);
      }
      ring[this.#head] = undefined;
      this.#head = (this.#head + 1) & this.#mask;
      this.#size--;
    }
  };
}
