/**
 * One deadline mechanism for many pending operations: a FIFO of entries and a single timer, so
 * that bounding an operation's time costs a push and a flag, not a timer and a promise race each.
 * @internal
 */

/** An operation that must settle before its deadline. */
export interface Expiring {
  /** Set by the owner once the operation has its outcome; the queue sets it when it expires one. */
  settled: boolean;
}

// The clock, read once per synchronous run of code: a burst of N calls made in one event-loop turn
// reads it once, not N times (performance.now() measured ~50 ns a read, the largest part of a
// call's bookkeeping). A deadline is therefore at most the length of that run early.
let now = 0;
let fresh = false;
const stale = (): void => {
  fresh = false;
};
function clock(): number {
  if (!fresh) {
    now = performance.now();
    fresh = true;
    queueMicrotask(stale);
  }
  return now;
}

const INITIAL_CAPACITY = 16;

/**
 * Pending operations in the order they were added, each due `timeoutMs` after it was added, so
 * the earliest deadline is always at the head. One timer, armed for the head's deadline and
 * unref'd (it never keeps a process alive), expires every unsettled entry that is past due and
 * re-arms for the next; settled entries are dropped from the head whenever an entry is added, so
 * the queue holds about what is in flight.
 */
export class DeadlineQueue<T extends Expiring> {
  // A ring buffer of entries and their deadlines (performance.now() times, kept in a Float64Array
  // so that no number is boxed per entry); capacity is a power of two.
  #ring: Array<T | undefined> = new Array<T | undefined>(INITIAL_CAPACITY);
  #due = new Float64Array(INITIAL_CAPACITY);
  #mask = INITIAL_CAPACITY - 1;
  #head = 0;
  #size = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #timeoutMs: number;
  readonly #expire: (entry: T) => void;

  /**
   * @param timeoutMs how long after it is added an entry is due, ms (0 < timeoutMs < 2**31)
   * @param expire called once for each entry whose deadline passed before it settled, after the
   *   queue marked it settled; it must not throw
   */
  constructor(timeoutMs: number, expire: (entry: T) => void) {
    this.#timeoutMs = timeoutMs;
    this.#expire = expire;
  }

  /** Entries held (settled ones not yet dropped included); for tests. */
  get size(): number {
    return this.#size;
  }

  /** Adds `entry`, due `timeoutMs` from now. */
  add(entry: T): void {
    const deadline = clock() + this.#timeoutMs;
    this.#dropSettled();
    if (this.#size > this.#mask) this.#grow();
    const at = (this.#head + this.#size) & this.#mask;
    this.#ring[at] = entry;
    this.#due[at] = deadline;
    this.#size++;
    if (this.#timer === undefined) this.#arm(deadline);
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
    const oldDue = this.#due;
    const ring = new Array<T | undefined>(old.length * 2);
    const due = new Float64Array(old.length * 2);
    for (let i = 0; i < this.#size; i++) {
      const from = (this.#head + i) & this.#mask;
      ring[i] = old[from];
      due[i] = oldDue[from];
    }
    this.#ring = ring;
    this.#due = due;
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
        const deadline = this.#due[this.#head];
        if (deadline > now) {
          this.#arm(deadline);
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
