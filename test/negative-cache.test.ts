/**
 * NegativeIds (the near cache's set of ids known to be absent) against a plain Map model with a
 * fake clock: random sequences of add / has / delete / clear / clock moves / waves of adds, the
 * model being a Map from id to expiry in insertion order (a re-added id moves to the end), which
 * drops every expired id and, when full, its first (oldest) id before an add. Plus the bounds, a
 * flood of 100,000 random ids, and ids built to collide under an unkeyed hash.
 */
import { randomFillSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NegativeIds } from '../src/redis/negative-cache.ts';

const TTL = 1000;

interface Model {
  ids: Map<bigint, number>;
  now: number;
  maxIds: number;
}
interface Real {
  set: NegativeIds;
  clock: { now: number };
  seen: { full: number; refreshed: number; expiredDrops: number };
}

const big = (hi: number, lo: number) => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
const halves = (id: bigint) => ({ hi: Number(id >> 32n) | 0, lo: Number(id & 0xffffffffn) | 0 });

function modelLive(m: Model, id: bigint): boolean {
  const e = m.ids.get(id);
  return e !== undefined && m.now < e;
}

function modelAdd(m: Model, r: Real, id: bigint): void {
  for (const [k, e] of [...m.ids]) if (e <= m.now) (m.ids.delete(k), r.seen.expiredDrops++);
  if (m.ids.delete(id)) r.seen.refreshed++;
  if (m.ids.size === m.maxIds) {
    m.ids.delete(m.ids.keys().next().value!);
    r.seen.full++;
  }
  m.ids.set(id, m.now + TTL);
}

/** After every command: the same size, the same answer for every id the model holds, bounded memory. */
function check(m: Model, r: Real): void {
  const live = [...m.ids.keys()].filter((id) => modelLive(m, id));
  expect(r.set.size).toBe(live.length);
  expect(r.set.size).toBeLessThanOrEqual(m.maxIds);
  const wrong = [...m.ids.keys()].filter((id) => r.set.has(halves(id).hi, halves(id).lo) !== modelLive(m, id));
  expect(wrong).toEqual([]);
  const s = r.set.statsForTest();
  // The ring never exceeds maxIds and a quarter; the hash stays at most 3/4 full.
  expect(s.ring).toBeLessThanOrEqual(m.maxIds + Math.max(1, Math.floor(m.maxIds / 4)));
  expect(s.count).toBeLessThanOrEqual(s.ring);
  expect(4 * s.live).toBeLessThanOrEqual(3 * s.slots);
}

abstract class Cmd implements fc.Command<Model, Real> {
  check = () => true;
  abstract step(m: Model, r: Real): void;
  run(m: Model, r: Real): void {
    this.step(m, r);
    check(m, r);
  }
}

class Add extends Cmd {
  constructor(readonly id: bigint) {
    super();
  }
  step(m: Model, r: Real): void {
    const { hi, lo } = halves(this.id);
    r.set.add(hi, lo);
    modelAdd(m, r, this.id);
  }
  toString = () => `add(${this.id.toString(16)})`;
}

class Has extends Cmd {
  constructor(readonly id: bigint) {
    super();
  }
  step(m: Model, r: Real): void {
    const { hi, lo } = halves(this.id);
    expect(r.set.has(hi, lo)).toBe(modelLive(m, this.id));
  }
  toString = () => `has(${this.id.toString(16)})`;
}

class Delete extends Cmd {
  constructor(readonly id: bigint) {
    super();
  }
  step(m: Model, r: Real): void {
    const { hi, lo } = halves(this.id);
    expect(r.set.delete(hi, lo)).toBe(modelLive(m, this.id));
    m.ids.delete(this.id);
  }
  toString = () => `delete(${this.id.toString(16)})`;
}

class Clock extends Cmd {
  constructor(readonly ms: number) {
    super();
  }
  step(m: Model, r: Real): void {
    m.now += this.ms;
    r.clock.now = m.now;
  }
  toString = () => `clock +${this.ms}`;
}

class Clear extends Cmd {
  step(m: Model, r: Real): void {
    r.set.clear();
    m.ids.clear();
    expect(r.set.statsForTest().ring).toBeLessThanOrEqual(64);
  }
  toString = () => 'clear';
}

/** Many adds of fresh ids (and some deletes), a clock step between some: fills, grows and rebuilds the ring. */
class Wave extends Cmd {
  constructor(
    readonly seed: number,
    readonly count: number,
    readonly deleteEvery: number,
    readonly stepMs: number,
  ) {
    super();
  }
  step(m: Model, r: Real): void {
    for (let i = 0; i < this.count; i++) {
      const id = big(this.seed ^ Math.imul(i, 0x2545f491), i * 7 + this.seed);
      r.set.add(halves(id).hi, halves(id).lo);
      modelAdd(m, r, id);
      if (i % this.deleteEvery === 0) {
        const old = big(this.seed ^ Math.imul(i >> 1, 0x2545f491), (i >> 1) * 7 + this.seed);
        expect(r.set.delete(halves(old).hi, halves(old).lo)).toBe(modelLive(m, old));
        m.ids.delete(old);
      }
      if (i % 50 === 0) {
        m.now += this.stepMs;
        r.clock.now = m.now;
      }
    }
  }
  toString = () => `wave(${this.seed}, ${this.count}, delete 1 in ${this.deleteEvery}, +${this.stepMs} ms / 50)`;
}

// Ids: a small pool (so adds, deletes and lookups meet), random ones, and ids that an unkeyed
// hash of hi ^ lo would put in one slot.
const pooled = fc.nat({ max: 15 }).map((i) => big(0x51ed0000 + i, Math.imul(i, 0x9e3779b9)));
const sameXor = fc.nat({ max: 40 }).map((i) => big(i * 0x01010101, (i * 0x01010101) ^ 0x5a5a5a5a));
const anyId = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const id = fc.oneof(pooled, pooled, sameXor, anyId);
const commands = [
  fc.oneof(
    { arbitrary: id.map((i): Cmd => new Add(i)), weight: 8 },
    { arbitrary: id.map((i): Cmd => new Has(i)), weight: 5 },
    { arbitrary: id.map((i): Cmd => new Delete(i)), weight: 3 },
    { arbitrary: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 2 * TTL })).map((ms): Cmd => new Clock(ms)), weight: 2 },
    {
      arbitrary: fc
        .tuple(fc.nat(), fc.integer({ min: 10, max: 600 }), fc.integer({ min: 2, max: 40 }), fc.integer({ min: 0, max: 200 }))
        .map(([s, c, d, ms]): Cmd => new Wave(s, c, d, ms)),
      weight: 1,
    },
    { arbitrary: fc.constant(null).map((): Cmd => new Clear()), weight: 1 },
  ),
];

describe('NegativeIds against a Map model', () => {
  it('random sequences agree with the model: exact, bounded, expiring', () => {
    const totals = { full: 0, refreshed: 0, expiredDrops: 0, runs: 0 };
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 50, max: 300 })),
        fc.commands(commands, { maxCommands: 150, size: 'large' }),
        (maxIds, cmds) => {
          const clock = { now: 5_000_000 };
          const real: Real = { set: new NegativeIds(maxIds, TTL, () => clock.now), clock, seen: { full: 0, refreshed: 0, expiredDrops: 0 } };
          const model: Model = { ids: new Map(), now: clock.now, maxIds };
          fc.modelRun(() => ({ model, real }), cmds);
          totals.full += real.seen.full;
          totals.refreshed += real.seen.refreshed;
          totals.expiredDrops += real.seen.expiredDrops;
          totals.runs++;
        },
      ),
      { numRuns: 150, seed: 0x4e9 },
    );
    // The runs met a full set, re-adds and expiry many times.
    expect(totals.runs).toBe(150);
    expect(totals.full).toBeGreaterThan(1000);
    expect(totals.refreshed).toBeGreaterThan(100);
    expect(totals.expiredDrops).toBeGreaterThan(1000);
  }, 120_000);
});

describe('NegativeIds', () => {
  /** `n` distinct random ids, as hi/lo halves. */
  function randomIds(n: number): Int32Array {
    const ids = new Int32Array(2 * n);
    const seen = new Set<bigint>();
    for (let i = 0; i < n;) {
      const pair = randomFillSync(new Int32Array(2));
      const key = big(pair[0], pair[1]);
      if (seen.has(key)) continue;
      seen.add(key);
      ids[2 * i] = pair[0];
      ids[2 * i + 1] = pair[1];
      i++;
    }
    return ids;
  }

  it('a flood of 100,000 random unknown ids, sent twice: the second pass hits every one', () => {
    const n = 100_000;
    const ids = randomIds(n);
    const set = new NegativeIds(n, 60_000, () => 1);
    let firstHits = 0;
    for (let i = 0; i < n; i++) {
      if (set.has(ids[2 * i], ids[2 * i + 1])) firstHits++;
      else set.add(ids[2 * i], ids[2 * i + 1]);
    }
    expect(firstHits).toBe(0);
    let secondHits = 0;
    for (let i = 0; i < n; i++) if (set.has(ids[2 * i], ids[2 * i + 1])) secondHits++;
    expect(secondHits).toBe(n);
    expect(set.size).toBe(n);
    // One more id pushes out exactly the oldest.
    set.add(0x7fffffff, 0x7ffffffe);
    expect(set.has(ids[0], ids[1])).toBe(false);
    expect(set.has(ids[2], ids[3])).toBe(true);
    expect(set.has(0x7fffffff, 0x7ffffffe)).toBe(true);
    expect(set.size).toBe(n);
  });

  it('ids that share hi ^ lo (one slot under an unkeyed hash) are all remembered, quickly', () => {
    const n = 100_000;
    const set = new NegativeIds(n, 60_000, () => 1);
    for (let i = 0; i < n; i++) set.add(i, i ^ 0x1234);
    for (let i = 0; i < n; i++) expect(set.has(i, i ^ 0x1234)).toBe(true);
    for (let i = 0; i < n; i += 2) expect(set.delete(i, i ^ 0x1234)).toBe(true);
    for (let i = 0; i < n; i++) if (set.has(i, i ^ 0x1234) !== (i % 2 === 1)) expect.fail(`id ${i}`);
  });

  it('holds exactly maxIds live ids through deletes and re-adds', () => {
    const maxIds = 1000;
    const set = new NegativeIds(maxIds, 60_000, () => 1);
    const live: number[] = [];
    for (let i = 0; i < maxIds; i++) (set.add(1, i), live.push(i));
    // Delete one, add a fresh one: the set stays full of exactly the live ones, none pushed out.
    for (let k = 0; k < 20 * maxIds; k++) {
      const at = (k * 7919) % live.length;
      expect(set.delete(1, live[at])).toBe(true);
      live[at] = maxIds + k;
      set.add(1, maxIds + k);
      expect(set.size).toBe(maxIds);
    }
    for (const lo of live) expect(set.has(1, lo)).toBe(true);
    // Re-adding a remembered id refreshes it: it becomes the newest, so the next add pushes out another.
    const oldest = live[0];
    set.add(1, oldest);
    set.add(2, 0);
    expect(set.has(1, oldest)).toBe(true);
    expect(set.size).toBe(maxIds);
  });

  it('expires each id ttlMs after its last add, the boundary included', () => {
    let now = 100;
    const set = new NegativeIds(10, 50, () => now);
    set.add(0, 1);
    now = 120;
    set.add(0, 2);
    now = 149;
    expect([set.has(0, 1), set.has(0, 2), set.size]).toEqual([true, true, 2]);
    now = 150;
    expect([set.has(0, 1), set.has(0, 2), set.size]).toEqual([false, true, 1]);
    expect(set.delete(0, 1)).toBe(false);
    set.add(0, 2); // refreshed: now until 200
    now = 170;
    expect(set.has(0, 2)).toBe(true);
    now = 200;
    expect([set.has(0, 2), set.size]).toEqual([false, 0]);
  });

  it('memory follows the ids: grows by doubling up to the bound, shrinks when mostly expired, and on clear', () => {
    let now = 0;
    const set = new NegativeIds(100_000, 1000, () => now);
    expect(set.statsForTest().ring).toBe(64);
    for (let i = 0; i < 1000; i++) set.add(i, 1);
    expect(set.statsForTest().ring).toBe(1024);
    for (let i = 0; i < 200_000; i++) set.add(i, 2);
    // At most maxIds and a quarter entries, hash slots for maxIds at load <= 3/4.
    expect(set.statsForTest().ring).toBeLessThanOrEqual(125_000);
    expect(set.statsForTest().slots).toBe(262_144);
    now = 1000; // everything expires; the next add drops it all and shrinks
    set.add(1, 3);
    expect(set.size).toBe(1);
    expect(set.statsForTest().ring).toBe(64);
    for (let i = 0; i < 5000; i++) set.add(i, 4);
    set.clear();
    expect(set.size).toBe(0);
    expect(set.statsForTest()).toEqual({ live: 0, ring: 64, count: 0, slots: 128 });
  });

  it('a clock that throws leaves the set as it was; the clock is called without a this', () => {
    let fail = false;
    let self: unknown = 'not called';
    const set = new NegativeIds(4, 100, function (this: unknown) {
      self = this;
      if (fail) throw new Error('clock');
      return 0;
    });
    set.add(1, 1);
    expect(self).toBeUndefined();
    fail = true;
    expect(() => set.add(2, 2)).toThrow('clock');
    fail = false;
    expect([set.has(1, 1), set.has(2, 2), set.size]).toEqual([true, false, 1]);
  });

  it('refuses a bad bound or TTL', () => {
    for (const bad of [0, -1, 1.5, NaN, Infinity]) expect(() => new NegativeIds(bad, 1, () => 0)).toThrow(RangeError);
    for (const bad of [0, -1, NaN, Infinity]) expect(() => new NegativeIds(1, bad, () => 0)).toThrow(RangeError);
    expect(() => new NegativeIds(0, 1, () => 0)).toThrow('NegativeIds: expected maxIds as a positive integer, got 0');
  });
});
