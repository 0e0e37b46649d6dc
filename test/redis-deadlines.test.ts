/** The one deadline mechanism of the Redis manager: a FIFO of pending calls under a single timer. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeadlineQueue } from '../src/deadlines.ts';

interface Entry {
  readonly id: number;
  readonly deadline: number;
  settled: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function entry(id: number, inMs: number): Entry {
  return { id, deadline: performance.now() + inMs, settled: false };
}

describe('DeadlineQueue', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('expires an unsettled entry once its deadline has passed, and marks it settled first', async () => {
    const expired: Array<[number, boolean, number]> = [];
    const start = performance.now();
    const q = new DeadlineQueue<Entry>((e) => expired.push([e.id, e.settled, performance.now() - start]));
    q.add(entry(1, 60));
    await sleep(20);
    expect(expired).toEqual([]);
    await sleep(120);
    expect(expired.map(([id, settled]) => [id, settled])).toEqual([[1, true]]);
    expect(expired[0][2]).toBeGreaterThanOrEqual(59);
  });

  it('never expires an entry that settled in time', async () => {
    const expired: number[] = [];
    const q = new DeadlineQueue<Entry>((e) => expired.push(e.id));
    const [a, b, c] = [entry(1, 30), entry(2, 30), entry(3, 30)];
    q.add(a);
    q.add(b);
    q.add(c);
    b.settled = true;
    await sleep(90);
    expect(expired).toEqual([1, 3]);
  });

  it('expires in deadline order, through growth of the ring, each entry once', async () => {
    const expired: number[] = [];
    const q = new DeadlineQueue<Entry>((e) => expired.push(e.id));
    for (let i = 0; i < 100; i++) q.add(entry(i, 20 + i / 10));
    await sleep(120);
    expect(expired).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await sleep(40);
    expect(expired).toHaveLength(100);
    expect(q.size).toBe(0);
  });

  it('entries added later get their own deadlines (the timer re-arms for the next one)', async () => {
    const expired: number[] = [];
    const q = new DeadlineQueue<Entry>((e) => expired.push(e.id));
    q.add(entry(1, 20));
    await sleep(60);
    q.add(entry(2, 20));
    q.add(entry(3, 200));
    await sleep(60);
    expect(expired).toEqual([1, 2]);
  });

  it('one timer for many entries, unref’d so that it keeps no process alive', async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const q = new DeadlineQueue<Entry>(() => undefined);
    const entries = Array.from({ length: 1000 }, (_, i) => entry(i, 10_000));
    for (const e of entries) q.add(e);
    expect(spy).toHaveBeenCalledTimes(1);
    const timer = spy.mock.results[0].value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    for (const e of entries) e.settled = true;
    clearTimeout(timer);
  });

  it('settled entries are dropped from the head when an entry is added, so it holds about what is in flight', () => {
    const q = new DeadlineQueue<Entry>(() => undefined);
    let previous: Entry | undefined;
    for (let i = 0; i < 10_000; i++) {
      if (previous) previous.settled = true;
      previous = entry(i, 10_000);
      q.add(previous);
    }
    expect(q.size).toBe(1);
    previous!.settled = true;
  });
});
