/** The one deadline mechanism of the Redis manager: a FIFO of pending calls under a single timer. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeadlineQueue } from '../src/redis/deadlines.ts';

interface Entry {
  readonly id: number;
  settled: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const entry = (id: number): Entry => ({ id, settled: false });

describe('DeadlineQueue', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('an entry is due timeoutMs after it was added: the timer is armed for that delay', () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const q = new DeadlineQueue<Entry>(5000, () => undefined);
    const e = entry(1);
    q.add(e);
    expect(spy).toHaveBeenCalledTimes(1);
    const delay = spy.mock.calls[0][1]!;
    expect(delay).toBeGreaterThan(4950);
    expect(delay).toBeLessThanOrEqual(5000);
    e.settled = true;
    clearTimeout(spy.mock.results[0].value as NodeJS.Timeout);
  });

  it('expires an unsettled entry once its deadline has passed, not before, and marks it settled first', async () => {
    const expired: Array<[number, boolean, number]> = [];
    const start = performance.now();
    const q = new DeadlineQueue<Entry>(60, (e) => expired.push([e.id, e.settled, performance.now() - start]));
    q.add(entry(1));
    await sleep(20);
    expect(expired).toEqual([]);
    await sleep(120);
    expect(expired.map(([id, settled]) => [id, settled])).toEqual([[1, true]]);
    expect(expired[0][2]).toBeGreaterThanOrEqual(59);
  });

  it('never expires an entry that settled in time', async () => {
    const expired: number[] = [];
    const q = new DeadlineQueue<Entry>(30, (e) => expired.push(e.id));
    const [a, b, c] = [entry(1), entry(2), entry(3)];
    q.add(a);
    q.add(b);
    q.add(c);
    b.settled = true;
    await sleep(90);
    expect(expired).toEqual([1, 3]);
  });

  it('expires in the order added, through growth of the ring, each entry once', async () => {
    const expired: number[] = [];
    const q = new DeadlineQueue<Entry>(20, (e) => expired.push(e.id));
    for (let i = 0; i < 100; i++) q.add(entry(i));
    await sleep(80);
    expect(expired).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await sleep(40);
    expect(expired).toHaveLength(100);
    expect(q.size).toBe(0);
  });

  it('an entry added later is due later (the timer re-arms for it)', async () => {
    const expired: number[] = [];
    const q = new DeadlineQueue<Entry>(60, (e) => expired.push(e.id));
    q.add(entry(1));
    await sleep(30);
    q.add(entry(2));
    await sleep(45);
    expect(expired).toEqual([1]);
    await sleep(60);
    expect(expired).toEqual([1, 2]);
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
