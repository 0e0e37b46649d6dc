/** The one deadline mechanism of the Redis manager: a FIFO of pending calls under a single timer. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineQueue } from '../src/redis/deadlines.ts';

interface Entry {
  readonly id: number;
  settled: boolean;
}

const entry = (id: number): Entry => ({ id, settled: false });

describe('DeadlineQueue', () => {
  // The queue reads performance.now() and arms setTimeout: both are vitest's fake clock here, so
  // each deadline is checked to the millisecond and nothing waits for real time. Microtasks are
  // real (vitest does not fake them): the queue's clock is read once per synchronous run, and
  // advanceTimersByTimeAsync lets them run between steps as an event loop would.
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('expires an unsettled entry exactly timeoutMs after it was added, not before, and marks it settled first', async () => {
    const expired: Array<[number, boolean, number]> = [];
    const start = performance.now();
    const q = new DeadlineQueue<Entry>(5000, (e) => expired.push([e.id, e.settled, performance.now() - start]));
    q.add(entry(1));
    await vi.advanceTimersByTimeAsync(4999);
    expect(expired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(expired).toEqual([[1, true, 5000]]);
  });

  it('never expires an entry that settled in time', async () => {
    const expired: number[] = [];
    const q = new DeadlineQueue<Entry>(30, (e) => expired.push(e.id));
    const [a, b, c] = [entry(1), entry(2), entry(3)];
    q.add(a);
    q.add(b);
    q.add(c);
    await vi.advanceTimersByTimeAsync(29);
    b.settled = true;
    await vi.advanceTimersByTimeAsync(1);
    expect(expired).toEqual([1, 3]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(expired).toEqual([1, 3]);
  });

  it('expires in the order added, through growth of the ring, each entry once', async () => {
    const expired: number[] = [];
    const q = new DeadlineQueue<Entry>(20, (e) => expired.push(e.id));
    for (let i = 0; i < 100; i++) q.add(entry(i));
    await vi.advanceTimersByTimeAsync(20);
    expect(expired).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await vi.advanceTimersByTimeAsync(1000);
    expect(expired).toHaveLength(100);
    expect(q.size).toBe(0);
  });

  it('an entry added later is due later (the timer re-arms for it)', async () => {
    const expired: Array<[number, number]> = [];
    const q = new DeadlineQueue<Entry>(60, (e) => expired.push([e.id, performance.now()]));
    const start = performance.now();
    q.add(entry(1));
    await vi.advanceTimersByTimeAsync(30);
    q.add(entry(2));
    await vi.advanceTimersByTimeAsync(30);
    expect(expired).toEqual([[1, start + 60]]);
    await vi.advanceTimersByTimeAsync(29);
    expect(expired).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(expired).toEqual([
      [1, start + 60],
      [2, start + 90],
    ]);
  });

  it('an entry added late in a long synchronous run is due at most that run early (the clock is read once a run)', async () => {
    const expired: number[] = [];
    const q = new DeadlineQueue<Entry>(60, (e) => expired.push(e.id));
    q.add(entry(1));
    vi.advanceTimersByTime(10);
    q.add(entry(2));
    await vi.advanceTimersByTimeAsync(49);
    expect(expired).toEqual([]);
    await vi.advanceTimersByTimeAsync(11);
    expect(expired).toEqual([1, 2]);
  });
});

describe('DeadlineQueue timer and memory', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('one timer for many entries, unref’d so that it keeps no process alive', () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const q = new DeadlineQueue<Entry>(10_000, () => undefined);
    const entries = Array.from({ length: 1000 }, (_, i) => entry(i));
    for (const e of entries) q.add(e);
    expect(spy).toHaveBeenCalledTimes(1);
    const timer = spy.mock.results[0].value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    for (const e of entries) e.settled = true;
    clearTimeout(timer);
  });

  it('settled entries are dropped from the head when an entry is added, so it holds about what is in flight', () => {
    const q = new DeadlineQueue<Entry>(10_000, () => undefined);
    let previous: Entry | undefined;
    for (let i = 0; i < 10_000; i++) {
      if (previous) previous.settled = true;
      previous = entry(i);
      q.add(previous);
    }
    expect(q.size).toBe(1);
    previous!.settled = true;
  });
});
