/**
 * Model-based test of the in-memory manager and its key table: long random sequences of setKey /
 * hasKey / getKey / peekKey / delKey, clock moves (expiry) and waves of inserts and deletes that
 * make the table grow, shrink and compact, checked step by step against a plain `Map` keyed by
 * the id. Ids are given as AuthKey, bigint, 8 id bytes and a packet with the id at an offset; the
 * pool holds forged collisions (same id, other bytes). Expected keys come from the pool's seeded
 * bytes and node:crypto's SHA-1, never from the manager or AuthKey.
 *
 * Keys handed out by peekKey / getKey are held across the commands that follow (a sample of 200)
 * and checked after every command: they must keep reading as the seeded bytes they were made from
 * after their key was deleted, expired, moved by compaction, or cleared away.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuthKey, AuthKeyCollision, AuthKeyDoesNotExist, AuthKeyManager } from '../src/index.ts';
import { ADDED, ALREADY_STORED, COLLISION, KeyTable } from '../src/managers/key-table.ts';
import { tableOf } from '../src/managers/auth-key-manager.ts';
import { RECORD_BYTES } from '../src/core/records.ts';
import { forgeCollision, hex, nodeSha1, rejection, seededBytes } from './helpers.ts';

/** Originals first, then one forged rival for every eighth original (the same id, other bytes). */
const ORIGINALS = 3000;
const originalSeed = (i: number) => 0x7ab1e + i;
/** The seed `forgeCollision` draws the bytes of forged rival `j` from (see test/helpers.ts). */
const forgedSeed = (j: number) => 0xc0111de + j + 1;
const originals = Array.from({ length: ORIGINALS }, (_, i) => new AuthKey(seededBytes(256, originalSeed(i))));
const forged = originals.filter((_, i) => i % 8 === 0).map((k, j) => forgeCollision(k, j + 1));
const pool = [...originals, ...forged];
// What each pool key must read back as, from the seeds and node:crypto alone: its 256 bytes (hex)
// and its id (SHA-1 digest bytes 12..19 of the original, big-endian; a rival shares its original's).
const seededOf = (index: number) => (index < ORIGINALS ? seededBytes(256, originalSeed(index)) : seededBytes(256, forgedSeed(index - ORIGINALS)));
const expectedHex = pool.map((_, index) => hex(seededOf(index)));
const idOf = pool.map((_, index) => nodeSha1(seededBytes(256, originalSeed(index < ORIGINALS ? index : 8 * (index - ORIGINALS)))).readBigUInt64BE(12));

/** The model: the key stored under each id, and when it expires (0: never). */
interface Entry {
  index: number;
  expiresAt: number;
}
interface Model {
  entries: Map<bigint, Entry>;
  now: number;
}
interface Held {
  key: AuthKey;
  /** The pool key it must stay equal to. */
  index: number;
  /** The table's compaction count when it was handed out. */
  compactions: number;
}
interface Real {
  manager: AuthKeyManager;
  clock: { now: number };
  /** Keys handed out by the manager, held across later commands. */
  held: Held[];
  /** What the held keys lived through, counted at each check: their key removed from the store, or records compacted. */
  seen: { removed: number; compacted: number };
}

/**
 * The entry live under `id` at the model's time, or undefined. An expired entry stays in the
 * model until it is replaced: the table may still hold it too, until it evicts it.
 */
function liveEntry(m: Model, id: bigint): Entry | undefined {
  const e = m.entries.get(id);
  if (e === undefined || (e.expiresAt !== 0 && e.expiresAt <= m.now)) return undefined;
  return e;
}

type IdForm = 'key' | 'bigint' | 'bytes' | 'buffer';
function idArg(index: number, form: IdForm): AuthKey | bigint | Uint8Array {
  const key = pool[index];
  if (form === 'key') return key;
  if (form === 'bigint') return idOf[index];
  return form === 'bytes' ? key.idBytes : Buffer.from(key.idBytes);
}

/** Checks a key handed out for pool key `index` and keeps it, to check again later. */
function checkHanded(r: Real, got: AuthKey, index: number): void {
  expect(got).toBeInstanceOf(AuthKey);
  expect(hex(got.bytes)).toBe(expectedHex[index]);
  expect(got.id).toBe(idOf[index]);
  const held = { key: got, index, compactions: tableOf(r.manager).stats().compactions };
  if (r.held.length < 200) r.held.push(held);
  else r.held[(index * 7919) % 200] = held;
}

/**
 * Every held key still reads as the bytes it was made from, whatever happened to its record since.
 * Counts held keys whose key is no longer stored under the model, and held keys still stored after
 * a compaction, so the run can show it covered both.
 */
function checkHeld(r: Real, m: Model): void {
  const compactions = tableOf(r.manager).stats().compactions;
  for (const h of r.held) {
    expect(hex(h.key.bytes)).toBe(expectedHex[h.index]);
    expect(h.key.id).toBe(idOf[h.index]);
    const e = m.entries.get(idOf[h.index]);
    if (e === undefined || e.index !== h.index) r.seen.removed++;
    else if (compactions > h.compactions) r.seen.compacted++;
  }
}

/** Structural invariants of the table, after every command. */
function checkTable(r: Real): void {
  const s = tableOf(r.manager).stats();
  expect(s.live).toBe(r.manager.size);
  expect(s.records).toBe(s.live + s.free);
  expect(s.pages).toBe(Math.ceil(s.records / 256));
  expect(4 * s.used).toBeLessThanOrEqual(3 * s.slots);
  expect(s.handed).toBeLessThanOrEqual(s.live);
}

/**
 * Store-wide checks: every record below the high-water mark is either one of the stored keys or
 * all zero (so no removed key's bytes are left), and every handed-out key still reads as made.
 */
function checkStore(r: Real, m: Model): void {
  const table = tableOf(r.manager);
  const { records, live } = table.stats();
  const pages = table.pagesForTest();
  const stored = new Set<string>();
  for (const e of m.entries.values()) stored.add(expectedHex[e.index]);
  let nonZero = 0;
  for (let rec = 0; rec < records; rec++) {
    const page = pages[rec >>> 8];
    const at = (rec & 255) * RECORD_BYTES;
    const record = page.subarray(at, at + RECORD_BYTES);
    if (record.some((b) => b !== 0)) {
      nonZero++;
      // A live record: its key bytes are those of a key the model has (expired ones included).
      expect(stored.has(hex(record.subarray(0, 256)))).toBe(true);
    }
  }
  expect(nonZero).toBe(live);
  // The table's size lies between the model's live keys and all it holds (expired ones included).
  const liveInModel = [...m.entries.keys()].filter((id) => liveEntry(m, id) !== undefined).length;
  expect(live).toBeGreaterThanOrEqual(liveInModel);
  expect(live).toBeLessThanOrEqual(m.entries.size);
}

/** A command: `step` acts on both and compares; the table's invariants are checked after each. */
abstract class Cmd implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  abstract step(m: Model, r: Real): Promise<void>;
  async run(m: Model, r: Real): Promise<void> {
    await this.step(m, r);
    checkTable(r);
    checkHeld(r, m);
  }
}

class SetCmd extends Cmd {
  constructor(
    readonly index: number,
    readonly ttl: number, // 0: no expiry; < 0: already past
    readonly asBigint: boolean,
  ) {
    super();
  }
  async step(m: Model, r: Real): Promise<void> {
    const key = pool[this.index];
    const id = idOf[this.index];
    const expiresAt = this.ttl === 0 ? 0 : m.now + this.ttl;
    const options = this.ttl === 0 ? undefined : { expiresAt };
    // A forged key has bytes that hash to another id: as a bigint it would be a different key.
    const value = this.asBigint && this.index < ORIGINALS ? key.value : key;
    const held = liveEntry(m, id);
    if (held === undefined) {
      await r.manager.setKey(value, options);
      m.entries.set(id, { index: this.index, expiresAt });
    } else if (expectedHex[held.index] === expectedHex[this.index]) {
      await r.manager.setKey(value, options); // a no-op: the stored key and its expiry stay
    } else {
      await rejection(r.manager.setKey(value, options), AuthKeyCollision);
    }
  }
  toString = () => `set(${this.index}, ttl ${this.ttl}${this.asBigint ? ', bigint' : ''})`;
}

class HasCmd extends Cmd {
  constructor(
    readonly index: number,
    readonly form: IdForm,
  ) {
    super();
  }
  async step(m: Model, r: Real): Promise<void> {
    expect(await r.manager.hasKey(idArg(this.index, this.form))).toBe(liveEntry(m, idOf[this.index]) !== undefined);
  }
  toString = () => `has(${this.index}, ${this.form})`;
}

class GetCmd extends Cmd {
  constructor(
    readonly index: number,
    readonly form: IdForm,
  ) {
    super();
  }
  async step(m: Model, r: Real): Promise<void> {
    const e = liveEntry(m, idOf[this.index]);
    if (e === undefined) await rejection(r.manager.getKey(idArg(this.index, this.form)), AuthKeyDoesNotExist);
    else checkHanded(r, await r.manager.getKey(idArg(this.index, this.form)), e.index);
  }
  toString = () => `get(${this.index}, ${this.form})`;
}

class PeekCmd extends Cmd {
  constructor(
    readonly index: number,
    readonly offset: number,
  ) {
    super();
  }
  async step(m: Model, r: Real): Promise<void> {
    const packet = seededBytes(this.offset + 24, this.index);
    packet.set(pool[this.index].idBytes, this.offset);
    const got = r.manager.peekKey(packet, this.offset);
    const e = liveEntry(m, idOf[this.index]);
    if (e === undefined) expect(got).toBeUndefined();
    else checkHanded(r, got!, e.index);
  }
  toString = () => `peek(${this.index} at ${this.offset})`;
}

class DelCmd extends Cmd {
  constructor(
    readonly index: number,
    readonly form: IdForm,
  ) {
    super();
  }
  async step(m: Model, r: Real): Promise<void> {
    const id = idOf[this.index];
    if (liveEntry(m, id) === undefined) {
      await rejection(r.manager.delKey(idArg(this.index, this.form)), AuthKeyDoesNotExist);
    } else {
      await r.manager.delKey(idArg(this.index, this.form));
      m.entries.delete(id);
    }
  }
  toString = () => `del(${this.index}, ${this.form})`;
}

class ClockCmd extends Cmd {
  constructor(readonly ms: number) {
    super();
  }
  async step(m: Model, r: Real): Promise<void> {
    m.now += this.ms;
    r.clock.now = m.now;
  }
  toString = () => `clock +${this.ms}`;
}

/** Removes every key; the held keys must stay as they were, and the store keeps no page. */
class ClearCmd extends Cmd {
  async step(m: Model, r: Real): Promise<void> {
    await r.manager.clear();
    m.entries.clear();
    expect(r.manager.size).toBe(0);
    expect(tableOf(r.manager).stats().pages).toBe(0);
  }
  toString = () => 'clear';
}

/** Inserts a run of pool originals (some expiring): makes the table grow and add pages. */
class SetWaveCmd extends Cmd {
  constructor(
    readonly start: number,
    readonly count: number,
    readonly ttl: number,
  ) {
    super();
  }
  async step(m: Model, r: Real): Promise<void> {
    for (let i = 0; i < this.count; i++) {
      const index = (this.start + i) % ORIGINALS;
      const expiresAt = i % 3 === 0 && this.ttl !== 0 ? m.now + this.ttl : 0;
      const held = liveEntry(m, idOf[index]);
      if (held !== undefined && expectedHex[held.index] !== expectedHex[index]) {
        expect(() => r.manager.setKeySync(pool[index])).toThrow(AuthKeyCollision);
        continue;
      }
      r.manager.setKeySync(pool[index], expiresAt === 0 ? undefined : { expiresAt });
      if (held === undefined) m.entries.set(idOf[index], { index, expiresAt });
    }
    // Look up one key in 97 of the wave and hold it: held keys then lie all over the pages, where
    // deletes and compaction reach them.
    for (let i = 0; i < this.count; i += 97) {
      const e = liveEntry(m, idOf[(this.start + i) % ORIGINALS]);
      if (e !== undefined) checkHanded(r, r.manager.peekKey(pool[e.index].idBytes)!, e.index);
    }
    checkStore(r, m);
  }
  toString = () => `setWave(${this.start}, ${this.count}, ttl ${this.ttl})`;
}

/** Deletes all stored keys but one in `keepEvery`: makes the table shrink and compact. */
class DelWaveCmd extends Cmd {
  constructor(readonly keepEvery: number) {
    super();
  }
  async step(m: Model, r: Real): Promise<void> {
    let i = 0;
    for (const [id, e] of [...m.entries]) {
      if (i++ % this.keepEvery === 0) continue;
      if (liveEntry(m, id) === undefined) continue;
      await r.manager.delKey(pool[e.index].idBytes);
      m.entries.delete(id);
    }
    checkStore(r, m);
  }
  toString = () => `delWave(keep 1 in ${this.keepEvery})`;
}

const index = fc.nat({ max: pool.length - 1 });
// Most single-key commands aim at the first keys of the pool and at the forged ones, so they meet
// stored keys and collisions often; waves reach the rest.
const hot = fc.oneof(fc.nat({ max: 63 }), fc.integer({ min: ORIGINALS, max: pool.length - 1 }), index);
const form = fc.constantFrom<IdForm>('key', 'bigint', 'bytes', 'buffer');
const ttl = fc.oneof(fc.constant(0), fc.integer({ min: -50, max: 2000 }));
// Single-key commands are many, waves few (each is thousands of operations).
const single = fc.oneof(
  fc.tuple(hot, ttl, fc.boolean()).map(([i, t, b]): Cmd => new SetCmd(i, t, b)),
  fc.tuple(hot, form).map(([i, f]): Cmd => new HasCmd(i, f)),
  fc.tuple(hot, form).map(([i, f]): Cmd => new GetCmd(i, f)),
  fc.tuple(hot, fc.nat({ max: 40 })).map(([i, o]): Cmd => new PeekCmd(i, o)),
  fc.tuple(hot, form).map(([i, f]): Cmd => new DelCmd(i, f)),
  fc.integer({ min: 1, max: 1500 }).map((ms): Cmd => new ClockCmd(ms)),
);
const wave = fc.oneof(
  fc
    .tuple(fc.nat({ max: ORIGINALS - 1 }), fc.integer({ min: 200, max: 2500 }), fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3000 })))
    .map(([s, c, t]): Cmd => new SetWaveCmd(s, c, t)),
  fc.oneof(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 10, max: 60 })).map((k): Cmd => new DelWaveCmd(k)),
);
// clear() is rare: it empties the store, which would otherwise leave little to grow and shrink.
const clearAll = fc.constant(null).map((): Cmd => new ClearCmd());
const commands = [fc.oneof({ arbitrary: single, weight: 16 }, { arbitrary: wave, weight: 2 }, { arbitrary: clearAll, weight: 1 })];

describe('AuthKeyManager against a Map model', () => {
  it('long random sequences agree with the model; the table grows, shrinks and compacts', async () => {
    const totals = { grows: 0, shrinks: 0, compactions: 0, handed: 0, runs: 0, removed: 0, compacted: 0 };
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 120, size: 'medium' }), async (cmds) => {
        const clock = { now: 1_700_000_000_000 };
        const manager = new AuthKeyManager({ now: () => clock.now });
        const real: Real = { manager, clock, held: [], seen: { removed: 0, compacted: 0 } };
        const model: Model = { entries: new Map(), now: clock.now };
        await fc.asyncModelRun(() => ({ model, real }), cmds);
        checkStore(real, model);
        const s = tableOf(manager).stats();
        // Finally everything is cleared away: the held keys stay as they were.
        await manager.clear();
        model.entries.clear();
        checkHeld(real, model);
        totals.removed += real.seen.removed;
        totals.compacted += real.seen.compacted;
        totals.grows += s.grows;
        totals.shrinks += s.shrinks;
        totals.compactions += s.compactions;
        totals.handed += s.handed;
        totals.runs++;
      }),
      { numRuns: 40, seed: 0x7ab1e },
    );
    // The sequences did exercise what they are meant to.
    expect(totals.runs).toBe(40);
    expect(totals.grows).toBeGreaterThan(20);
    expect(totals.shrinks).toBeGreaterThan(10);
    expect(totals.compactions).toBeGreaterThan(10);
    expect(totals.handed).toBeGreaterThan(0);
    // Held keys were checked after their key was removed and after records were compacted.
    expect(totals.removed).toBeGreaterThan(1000);
    expect(totals.compacted).toBeGreaterThan(1000);
  }, 120_000);
});

/*
 * The bounded table (maxKeys, CLOCK eviction), driven directly, against a model that tracks the
 * stored keys and their CLOCK reference bits itself. The only thing the model takes from the table
 * is the order in which the hand will meet the stored keys (which record index each key got is
 * the table's business); from that order and its own bits, it predicts which key each eviction
 * removes, by CLOCK's rule: starting at the hand, clear each referenced key's bit and pass it,
 * evict the first unreferenced or expired key (after a full lap of referenced keys, the first one
 * met). It then checks the table's bits equal its own, and that the next sweep starts right after
 * the victim. Expected bytes and ids come from the pool's seeds and node:crypto, as above.
 */

interface BoundedModel {
  /** The keys the table must hold (expired ones may vanish when met): pool index, expiry, reference bit. */
  entries: Map<bigint, { index: number; expiresAt: number; referenced: boolean }>;
  now: number;
  maxKeys: number;
}
interface BoundedReal {
  table: KeyTable;
  clock: { now: number };
  held: { key: AuthKey; index: number }[];
  /** What the run covered. */
  seen: { evictions: number; passedOver: number; fullLaps: number; expiredVictims: number; heldEvicted: number; rotations: number };
}

const halvesOf = (id: bigint) => ({ hi: Number(id >> 32n) | 0, lo: Number(id & 0xffffffffn) | 0 });
const idFromHalves = (hi: number, lo: number) => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
const expired = (m: BoundedModel, e: { expiresAt: number }) => e.expiresAt !== 0 && e.expiresAt <= m.now;

/** The table's stored keys in hand order, with their bits, as ids. */
function clockOrder(r: BoundedReal): { id: bigint; referenced: boolean }[] {
  return r.table.clockForTest().map((c) => ({ id: idFromHalves(c.hi, c.lo), referenced: c.referenced }));
}

/**
 * After every command: the table holds exactly the model's keys, except expired ones it may have
 * removed on the way (the model drops those); bits agree; size and memory stay within maxKeys;
 * held keys still read as made.
 */
function syncBounded(m: BoundedModel, r: BoundedReal): void {
  const order = clockOrder(r);
  const stored = new Map(order.map((c) => [c.id, c.referenced]));
  // Plain comparisons collected into one list, checked by one expect: this runs after every insert.
  const problems: string[] = [];
  if (stored.size !== order.length) problems.push('a key twice in the hand order');
  for (const [id, e] of [...m.entries]) {
    if (!stored.has(id)) {
      // Only an expired key may leave without the model removing it.
      if (!expired(m, e)) problems.push(`key ${e.index} vanished unexpired`);
      m.entries.delete(id);
    } else if (stored.get(id) !== e.referenced) problems.push(`bit of key ${e.index}: table ${stored.get(id)}, model ${e.referenced}`);
  }
  for (const id of stored.keys()) if (!m.entries.has(id)) problems.push(`the table holds ${id}, the model does not`);
  const s = r.table.stats();
  if (r.table.size !== m.entries.size || s.live !== r.table.size) problems.push(`size ${r.table.size}, live ${s.live}, model ${m.entries.size}`);
  if (r.table.size > m.maxKeys) problems.push(`size ${r.table.size} over maxKeys ${m.maxKeys}`);
  // Memory follows the bound: records (live and free) never exceed maxKeys.
  if (s.records !== s.live + s.free || s.records > m.maxKeys) problems.push(`records ${s.records}, live ${s.live}, free ${s.free}`);
  if (s.pages !== Math.ceil(s.records / 256)) problems.push(`pages ${s.pages} for ${s.records} records`);
  if (4 * s.used > 3 * s.slots) problems.push(`load ${s.used}/${s.slots}`);
  for (const h of r.held) {
    if (hex(h.key.bytes) !== expectedHex[h.index] || h.key.id !== idOf[h.index]) problems.push(`held key ${h.index} changed`);
  }
  expect(problems).toEqual([]);
}

/** Every record below the high-water mark is a stored key or all zero: evicted keys were zeroed. */
function checkBoundedStore(m: BoundedModel, r: BoundedReal): void {
  const { records, live } = r.table.stats();
  const pages = r.table.pagesForTest();
  const stored = new Set([...m.entries.values()].map((e) => expectedHex[e.index]));
  let nonZero = 0;
  for (let rec = 0; rec < records; rec++) {
    const at = (rec & 255) * RECORD_BYTES;
    const record = pages[rec >>> 8].subarray(at, at + RECORD_BYTES);
    if (record.some((b) => b !== 0)) {
      nonZero++;
      expect(stored.has(hex(record.subarray(0, 256)))).toBe(true);
    }
  }
  expect(nonZero).toBe(live);
}

function holdBounded(r: BoundedReal, key: AuthKey, index: number): void {
  expect(hex(key.bytes)).toBe(expectedHex[index]);
  expect(key.id).toBe(idOf[index]);
  if (r.held.length < 100) r.held.push({ key, index });
  else r.held[(index * 7919) % 100] = { key, index };
}

/**
 * Runs `evict` (an insert into a full table, or evictOne) and checks it removed the key CLOCK
 * picks from the model's bits and the table's hand order; updates the model's bits as the sweep does.
 */
function predictEviction(m: BoundedModel, r: BoundedReal, evict: () => void, added?: { id: bigint; index: number; expiresAt: number }): void {
  // Expired keys an earlier insert of a wave removed on the way leave the model first.
  syncBounded(m, r);
  const order = clockOrder(r);
  expect(order.length).toBe(m.entries.size);
  let at = order.findIndex((c) => {
    const e = m.entries.get(c.id)!;
    return !e.referenced || expired(m, e);
  });
  const fullLap = at < 0;
  if (fullLap) at = 0;
  const victim = order[at].id;
  const victimEntry = m.entries.get(victim)!;
  // CLOCK's promise: a key referenced since the hand last passed it is not evicted while an
  // unreferenced (or expired) key is stored.
  if (!fullLap) expect(!victimEntry.referenced || expired(m, victimEntry)).toBe(true);
  const before = r.table.stats();
  const heldVictim = r.held.filter((h) => idOf[h.index] === victim).length;
  evict();
  const after = r.table.stats();
  expect(after.evictions).toBe(before.evictions + 1);
  // The sweep cleared the bits of the keys it passed (all of them on a full lap).
  const passed = fullLap ? order : order.slice(0, at);
  for (const c of passed) m.entries.get(c.id)!.referenced = false;
  m.entries.delete(victim);
  if (added !== undefined) m.entries.set(added.id, { index: added.index, expiresAt: added.expiresAt, referenced: true });
  r.seen.evictions++;
  r.seen.passedOver += passed.length > 0 && !fullLap ? 1 : 0;
  r.seen.fullLaps += fullLap ? 1 : 0;
  r.seen.expiredVictims += expired(m, victimEntry) ? 1 : 0;
  r.seen.heldEvicted += heldVictim;
  // The hand: when nothing else moved (no compaction, no expired key removed on the way), the next
  // sweep starts right after the victim, and a key inserted took the victim's record, so it is the
  // last the hand meets.
  const next = clockOrder(r);
  const expected = [...order.slice(at + 1), ...order.slice(0, at)].map((c) => c.id);
  if (added !== undefined) expected.push(added.id);
  if (after.compactions === before.compactions && next.length === expected.length) {
    expect(next.map((c) => c.id)).toEqual(expected);
    r.seen.rotations++;
  }
}

abstract class BoundedCmd implements fc.Command<BoundedModel, BoundedReal> {
  check = () => true;
  abstract step(m: BoundedModel, r: BoundedReal): void;
  run(m: BoundedModel, r: BoundedReal): void {
    this.step(m, r);
    syncBounded(m, r);
  }
}

/** One insert, with the model's expectations; shared by the single and the wave commands. */
function boundedInsert(m: BoundedModel, r: BoundedReal, index: number, ttl: number): void {
  const id = idOf[index];
  const { hi, lo } = halvesOf(id);
  const expiresAt = ttl === 0 ? 0 : m.now + ttl;
  const e = m.entries.get(id);
  if (e !== undefined && expired(m, e)) {
    // An expired key under the same id is removed when the insert meets it; do that first, so the
    // hand order below is the one the eviction sees.
    expect(r.table.has(hi, lo)).toBe(false);
    m.entries.delete(id);
    syncBounded(m, r);
  }
  const held = m.entries.get(id);
  if (held !== undefined) {
    const outcome = expectedHex[held.index] === expectedHex[index] ? ALREADY_STORED : COLLISION;
    expect(r.table.insert(pool[index], expiresAt)).toBe(outcome);
    return;
  }
  if (r.table.size >= m.maxKeys) {
    predictEviction(m, r, () => expect(r.table.insert(pool[index], expiresAt)).toBe(ADDED), { id, index, expiresAt });
  } else {
    expect(r.table.insert(pool[index], expiresAt)).toBe(ADDED);
    m.entries.set(id, { index, expiresAt, referenced: true });
  }
}

class BInsert extends BoundedCmd {
  constructor(
    readonly index: number,
    readonly ttl: number,
  ) {
    super();
  }
  step(m: BoundedModel, r: BoundedReal): void {
    boundedInsert(m, r, this.index, this.ttl);
  }
  toString = () => `insert(${this.index}, ttl ${this.ttl})`;
}

/** A lookup: the stored key for the id or nothing, never another key; sets the model's bit. */
function boundedGet(m: BoundedModel, r: BoundedReal, index: number): void {
  const id = idOf[index];
  const { hi, lo } = halvesOf(id);
  const e = m.entries.get(id);
  const got = r.table.get(hi, lo);
  if (e === undefined || expired(m, e)) {
    expect(got).toBeUndefined();
    if (e !== undefined) m.entries.delete(id);
    return;
  }
  expect(got).toBeDefined();
  holdBounded(r, got!, e.index);
  e.referenced = true;
}

class BGet extends BoundedCmd {
  constructor(readonly index: number) {
    super();
  }
  step(m: BoundedModel, r: BoundedReal): void {
    boundedGet(m, r, this.index);
  }
  toString = () => `get(${this.index})`;
}

class BHas extends BoundedCmd {
  constructor(readonly index: number) {
    super();
  }
  step(m: BoundedModel, r: BoundedReal): void {
    const id = idOf[this.index];
    const { hi, lo } = halvesOf(id);
    const e = m.entries.get(id);
    const live = e !== undefined && !expired(m, e);
    expect(r.table.has(hi, lo)).toBe(live);
    if (e !== undefined && !live) m.entries.delete(id);
  }
  toString = () => `has(${this.index})`;
}

class BDelete extends BoundedCmd {
  constructor(readonly index: number) {
    super();
  }
  step(m: BoundedModel, r: BoundedReal): void {
    const id = idOf[this.index];
    const { hi, lo } = halvesOf(id);
    const e = m.entries.get(id);
    expect(r.table.delete(hi, lo)).toBe(e !== undefined && !expired(m, e));
    m.entries.delete(id);
  }
  toString = () => `delete(${this.index})`;
}

class BEvictOne extends BoundedCmd {
  step(m: BoundedModel, r: BoundedReal): void {
    if (m.entries.size === 0) {
      expect(r.table.evictOne()).toBe(false);
      return;
    }
    predictEviction(m, r, () => expect(r.table.evictOne()).toBe(true));
  }
  toString = () => 'evictOne';
}

class BClock extends BoundedCmd {
  constructor(readonly ms: number) {
    super();
  }
  step(m: BoundedModel, r: BoundedReal): void {
    m.now += this.ms;
    r.clock.now = m.now;
  }
  toString = () => `clock +${this.ms}`;
}

class BClear extends BoundedCmd {
  step(m: BoundedModel, r: BoundedReal): void {
    r.table.clear();
    m.entries.clear();
  }
  toString = () => 'clear';
}

/** A run of inserts (some expiring) then lookups of some of them: churn through the bound. */
class BWave extends BoundedCmd {
  constructor(
    readonly start: number,
    readonly count: number,
    readonly ttl: number,
    readonly lookEvery: number,
  ) {
    super();
  }
  step(m: BoundedModel, r: BoundedReal): void {
    for (let i = 0; i < this.count; i++) {
      const index = (this.start + i) % pool.length;
      boundedInsert(m, r, index, i % 3 === 0 ? this.ttl : 0);
      if (i % this.lookEvery === 0) boundedGet(m, r, (this.start + i * 7) % pool.length);
    }
    checkBoundedStore(m, r);
  }
  toString = () => `wave(${this.start}, ${this.count}, ttl ${this.ttl}, look 1 in ${this.lookEvery})`;
}

/** Deletes all stored keys but one in `keepEvery`: the bounded table shrinks and compacts too. */
class BDelWave extends BoundedCmd {
  constructor(readonly keepEvery: number) {
    super();
  }
  step(m: BoundedModel, r: BoundedReal): void {
    let i = 0;
    for (const [id, e] of [...m.entries]) {
      if (i++ % this.keepEvery === 0) continue;
      const { hi, lo } = halvesOf(id);
      expect(r.table.delete(hi, lo)).toBe(!expired(m, e));
      m.entries.delete(id);
    }
    checkBoundedStore(m, r);
  }
  toString = () => `delWave(keep 1 in ${this.keepEvery})`;
}

describe('bounded KeyTable (CLOCK eviction) against a model', () => {
  const bIndex = fc.oneof(fc.nat({ max: 40 }), fc.integer({ min: ORIGINALS, max: pool.length - 1 }), fc.nat({ max: pool.length - 1 }));
  const bTtl = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: -50, max: 2000 }));
  const bCommands = [
    fc.oneof(
      { arbitrary: fc.tuple(bIndex, bTtl).map(([i, t]): BoundedCmd => new BInsert(i, t)), weight: 6 },
      { arbitrary: bIndex.map((i): BoundedCmd => new BGet(i)), weight: 6 },
      { arbitrary: bIndex.map((i): BoundedCmd => new BHas(i)), weight: 2 },
      { arbitrary: bIndex.map((i): BoundedCmd => new BDelete(i)), weight: 2 },
      { arbitrary: fc.constant(null).map((): BoundedCmd => new BEvictOne()), weight: 1 },
      { arbitrary: fc.integer({ min: 1, max: 1500 }).map((ms): BoundedCmd => new BClock(ms)), weight: 2 },
      {
        arbitrary: fc
          .tuple(fc.nat({ max: pool.length - 1 }), fc.integer({ min: 20, max: 800 }), fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 5 }))
          .map(([s, c, t, l]): BoundedCmd => new BWave(s, c, t, l)),
        weight: 2,
      },
      { arbitrary: fc.integer({ min: 2, max: 12 }).map((k): BoundedCmd => new BDelWave(k)), weight: 1 },
      { arbitrary: fc.constant(null).map((): BoundedCmd => new BClear()), weight: 1 },
    ),
  ];

  it('size stays within maxKeys, lookups never return a wrong key, and evictions follow CLOCK', () => {
    const totals = { evictions: 0, passedOver: 0, fullLaps: 0, expiredVictims: 0, heldEvicted: 0, rotations: 0, compactions: 0, runs: 0 };
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 20, max: 80 }), fc.integer({ min: 250, max: 400 })),
        fc.commands(bCommands, { maxCommands: 80, size: 'medium' }),
        (maxKeys, cmds) => {
          const clock = { now: 1_700_000_000_000 };
          const table = new KeyTable(() => clock.now, maxKeys);
          const real: BoundedReal = {
            table,
            clock,
            held: [],
            seen: { evictions: 0, passedOver: 0, fullLaps: 0, expiredVictims: 0, heldEvicted: 0, rotations: 0 },
          };
          const model: BoundedModel = { entries: new Map(), now: clock.now, maxKeys };
          fc.modelRun(() => ({ model, real }), cmds);
          checkBoundedStore(model, real);
          for (const k of Object.keys(real.seen) as (keyof BoundedReal['seen'])[]) totals[k] += real.seen[k];
          totals.compactions += table.stats().compactions;
          table.clear();
          for (const h of real.held) expect(hex(h.key.bytes)).toBe(expectedHex[h.index]);
          totals.runs++;
        },
      ),
      { numRuns: 40, seed: 0xc10c },
    );
    // The runs did cover what they are meant to: evictions of every kind, held keys evicted, compaction.
    expect(totals.runs).toBe(40);
    expect(totals.evictions).toBeGreaterThan(5000);
    expect(totals.passedOver).toBeGreaterThan(500);
    expect(totals.fullLaps).toBeGreaterThan(50);
    expect(totals.expiredVictims).toBeGreaterThan(50);
    expect(totals.heldEvicted).toBeGreaterThan(20);
    expect(totals.rotations).toBeGreaterThan(1000);
    expect(totals.compactions).toBeGreaterThan(5);
  }, 300_000);
});
