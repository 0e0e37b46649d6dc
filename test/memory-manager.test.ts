import { describe, expect, it } from 'vitest';
import { AuthKey, AuthKeyCollision, AuthKeyDoesNotExist, AuthKeyManager } from '../src/index.ts';
import { KeyTable } from '../src/managers/key-table.ts';
import { tableOf } from '../src/managers/auth-key-manager.ts';
import { describeManagerConformance } from './conformance.ts';
import { forgeCollision, hex, nodeSha1, randomKey, rejection, seededBytes } from './helpers.ts';

describeManagerConformance(
  'AuthKeyManager (memory)',
  async () => {
    let now = Date.now();
    const manager = new AuthKeyManager({ now: () => now });
    const clock = { now: () => now, advance: async (ms: number) => void (now += ms) };
    return { managers: [manager, manager, manager], close: async () => manager.clear(), clock };
  },
  { expiry: true },
);

describe('AuthKeyManager (memory) specifics', () => {
  it('the reference chapter usage example holds, with a real 2048-bit key', async () => {
    // Expected values from the seeded bytes and node:crypto's SHA-1 alone: the value is the 256
    // bytes read big-endian; auth_key_id is digest bytes 12..19 and aux_hash digest bytes 0..7,
    // each read big-endian as test/auth-key.test.ts checks against the Python vectors.
    const bytes = seededBytes(256, 2048);
    const digest = nodeSha1(bytes);
    const value = BigInt('0x' + hex(bytes));
    const id = digest.readBigUInt64BE(12);
    const manager = new AuthKeyManager();
    await manager.setKey(value);
    const data = await manager.getKey(id);
    expect(data.id).toBe(id);
    expect(data.value).toBe(value);
    expect(hex(data.bytes)).toBe(hex(bytes));
    expect(data.hash).toBe(BigInt('0x' + digest.toString('hex')));
    expect(data.auxHash).toBe(digest.readBigUInt64BE(0));
    expect(hex(data.idBytes)).toBe(digest.subarray(12, 20).toString('hex'));
  });

  it('peekKey finds a key by the 8 id bytes at an offset of a packet, synchronously', async () => {
    const manager = new AuthKeyManager();
    const bytes = seededBytes(256, 2049);
    const idBytes = nodeSha1(bytes).subarray(12, 20);
    await manager.setKey(new AuthKey(bytes));
    const packet = new Uint8Array(64);
    packet.set(idBytes, 0);
    expect(hex(manager.peekKey(packet)!.bytes)).toBe(hex(bytes));
    const framed = new Uint8Array(80);
    framed.set(idBytes, 4);
    expect(hex(manager.peekKey(framed, 4)!.bytes)).toBe(hex(bytes));
    expect(manager.peekKey(framed, 5)).toBeUndefined();
    expect(manager.peekKey(new Uint8Array(8))).toBeUndefined();
  });

  it('peekKey rejects bad arguments', () => {
    const manager = new AuthKeyManager();
    expect(() => manager.peekKey('x' as never)).toThrow(TypeError);
    expect(() => manager.peekKey(new Uint8Array(7))).toThrow(/expected 8 id bytes at offset 0, got a packet of 7 bytes/);
    expect(() => manager.peekKey(new Uint8Array(16), 9)).toThrow(RangeError);
    expect(() => manager.peekKey(new Uint8Array(16), -1)).toThrow(RangeError);
    expect(() => manager.peekKey(new Uint8Array(16), 1.5)).toThrow(RangeError);
    // An object offset is refused by its type; its valueOf (caller code) is never called.
    let called = false;
    const sneaky = { valueOf: () => ((called = true), 0) };
    expect(() => manager.peekKey(new Uint8Array(16), sneaky as never)).toThrow(new TypeError('peekKey offset: expected a number, got Object'));
    expect(() => manager.peekKey(new Uint8Array(16), 1n as never)).toThrow(TypeError);
    expect(called).toBe(false);
  });

  it('keeps every key through growth, deletes and compaction (20,000 keys)', async () => {
    const manager = new AuthKeyManager();
    // Each key's bytes and its id bytes (SHA-1 digest bytes 12..19 by node:crypto).
    const seeded = (seed: number) => {
      const bytes = seededBytes(256, seed);
      return { bytes, idBytes: new Uint8Array(nodeSha1(bytes).subarray(12, 20)) };
    };
    const keys = Array.from({ length: 20_000 }, (_, i) => seeded(i + 1));
    for (const k of keys) manager.setKeySync(new AuthKey(k.bytes));
    expect(manager.size).toBe(keys.length);
    // Delete three of every four, forcing the records to be compacted on the next growth.
    for (let i = 0; i < keys.length; i++) if (i % 4 !== 0) await manager.delKey(keys[i].idBytes);
    const more = Array.from({ length: 20_000 }, (_, i) => seeded(100_000 + i));
    for (const k of more) manager.setKeySync(new AuthKey(k.bytes));
    expect(manager.size).toBe(5000 + more.length);
    for (let i = 0; i < keys.length; i++) {
      const got = manager.peekKey(keys[i].idBytes);
      if (i % 4 === 0) expect(got && hex(got.bytes), `key ${i}`).toBe(hex(keys[i].bytes));
      else expect(got).toBeUndefined();
    }
    for (const k of more) expect(hex(manager.peekKey(k.idBytes)!.bytes)).toBe(hex(k.bytes));
  });

  it('a key handed out stays the same after the manager deletes it and reuses space', async () => {
    const manager = new AuthKeyManager();
    const keys = Array.from({ length: 3000 }, (_, i) => new AuthKey(seededBytes(256, 7 + i)));
    for (const k of keys) manager.setKeySync(k);
    const first = seededBytes(256, 7);
    const firstId = nodeSha1(first).readBigUInt64BE(12);
    const held = await manager.getKey(firstId);
    for (const k of keys) await manager.delKey(k);
    for (let i = 0; i < 5000; i++) manager.setKeySync(new AuthKey(seededBytes(256, 50_000 + i)));
    expect(hex(held.bytes)).toBe(hex(first));
    expect(held.id).toBe(firstId);
    await expect(manager.getKey(firstId)).rejects.toBeInstanceOf(AuthKeyDoesNotExist);
  });

  it('evicts expired keys without a timer: size drops once the table is rebuilt (injected clock)', async () => {
    let now = 1_000_000;
    const manager = new AuthKeyManager({ now: () => now });
    for (let i = 0; i < 500; i++) manager.setKeySync(new AuthKey(seededBytes(256, 9000 + i)), { expiresAt: now + 100 });
    now += 100;
    for (let i = 0; i < 2000; i++) manager.setKeySync(new AuthKey(seededBytes(256, 19_000 + i)));
    expect(manager.size).toBe(2000);
  });

  it('expiry follows the injected clock, not Date.now, with no sleeps', async () => {
    // A clock in 1970: expiresAt values long past by Date.now are still ahead of it.
    let now = 5_000;
    const manager = new AuthKeyManager({ now: () => now });
    const key = new AuthKey(seededBytes(256, 77));
    const dated = new AuthKey(seededBytes(256, 78));
    const forever = new AuthKey(seededBytes(256, 79));
    await manager.setKey(key, { expiresAt: 6_000 });
    await manager.setKey(dated, { expiresAt: new Date(6_500) });
    await manager.setKey(forever);
    now = 5_999;
    expect(await manager.hasKey(key)).toBe(true);
    expect(manager.peekKey(key.idBytes)?.equals(key)).toBe(true);
    now = 6_000; // expired at expiresAt itself
    expect(await manager.hasKey(key)).toBe(false);
    expect(manager.peekKey(key.idBytes)).toBeUndefined();
    await rejection(manager.getKey(key.id), AuthKeyDoesNotExist);
    expect((await manager.getKey(dated.id)).equals(dated)).toBe(true);
    now = 6_500;
    await rejection(manager.delKey(dated.idBytes), AuthKeyDoesNotExist);
    // The expired key's id is free again, for a rival too.
    const rival = forgeCollision(key, 3);
    await manager.setKey(rival);
    await rejection(manager.setKey(key), AuthKeyCollision);
    now = Number.MAX_SAFE_INTEGER;
    expect((await manager.getKey(forever.id)).equals(forever)).toBe(true);
    expect(manager.size).toBe(2);
  });

  it('reads options.now once, calls it without a this, and refuses a bad clock or options', async () => {
    let reads = 0;
    let self: unknown = 'not called';
    const options = {
      get now() {
        reads++;
        return function (this: unknown) {
          self = this;
          return 10;
        };
      },
    };
    const manager = new AuthKeyManager(options);
    await manager.setKey(new AuthKey(seededBytes(256, 80)), { expiresAt: 20 });
    expect(await manager.hasKey(new AuthKey(seededBytes(256, 80)))).toBe(true);
    expect(reads).toBe(1);
    expect(self).toBeUndefined();
    for (const bad of [5, 'Date.now', null, {}]) expect(() => new AuthKeyManager({ now: bad as never })).toThrow(TypeError);
    expect(() => new AuthKeyManager({ now: 5 as never })).toThrow(
      /AuthKeyManager: expected options\.now as a function returning epoch milliseconds, got number/,
    );
    for (const bad of [null, 5, 'x']) expect(() => new AuthKeyManager(bad as never)).toThrow(/AuthKeyManager: expected an options object/);
    expect(new AuthKeyManager({}).size).toBe(0);
    expect(new AuthKeyManager({ now: undefined }).size).toBe(0);
  });

  it("zeroes a removed key's record in the store: delKey, expiry and clear", async () => {
    let now = 1_000;
    const manager = new AuthKeyManager({ now: () => now });
    const keys = Array.from({ length: 900 }, (_, i) => new AuthKey(seededBytes(256, 40_000 + i)));
    keys.forEach((k, i) => manager.setKeySync(k, i % 3 === 1 ? { expiresAt: 2_000 } : undefined));
    for (const k of keys) expect(manager.peekKey(k.idBytes)).toBeDefined();
    const pages = tableOf(manager).pagesForTest();
    const inStore = (k: AuthKey) => pages.some((p) => Buffer.from(p.buffer, p.byteOffset, p.length).indexOf(Buffer.from(k.bytes)) >= 0);
    for (const k of keys) expect(inStore(k)).toBe(true);
    // Deleted, expired (evicted when looked up), kept.
    for (let i = 0; i < keys.length; i += 3) await manager.delKey(keys[i]);
    now = 2_000;
    for (let i = 1; i < keys.length; i += 3) expect(await manager.hasKey(keys[i])).toBe(false);
    for (let i = 0; i < keys.length; i++) expect(inStore(keys[i]), `key ${i}`).toBe(i % 3 === 2);
    await manager.clear();
    for (const p of pages) expect(p.every((b) => b === 0)).toBe(true);
  });

  it('a key handed out reads the store in place until the store lets go of it, then owns a copy: delKey, expiry, compaction, clear', async () => {
    let now = 1_000;
    const manager = new AuthKeyManager({ now: () => now });
    const table = tableOf(manager);
    // Expected values from the seeds and node:crypto only.
    const n = 3000;
    const bytes = Array.from({ length: n }, (_, i) => seededBytes(256, 60_000 + i));
    const ids = bytes.map((b) => new Uint8Array(nodeSha1(b).subarray(12, 20)));
    bytes.forEach((b, i) => manager.setKeySync(new AuthKey(b), i % 4 === 1 ? { expiresAt: 2_000 } : undefined));
    const held: AuthKey[] = [];
    for (let i = 0; i < n; i++) {
      const key = i % 2 === 0 ? manager.peekKey(ids[i])! : await manager.getKey(ids[i]);
      // The same object for every lookup, by either route.
      expect(manager.peekKey(ids[i])).toBe(key);
      expect(await manager.getKey(ids[i])).toBe(key);
      held.push(key);
    }
    const pagesBefore = table.pagesForTest();
    const inStorePage = (k: AuthKey) => pagesBefore.includes(AuthKey.recordOf(k).data);
    const intact = (i: number) => hex(held[i].bytes) === hex(bytes[i]) && held[i].id === nodeSha1(bytes[i]).readBigUInt64BE(12);
    const inStore = (i: number) => pagesBefore.some((p) => Buffer.from(p.buffer, p.byteOffset, p.length).indexOf(Buffer.from(bytes[i])) >= 0);
    // Looked up, not copied: every key points into a page of the store.
    expect(held.every(inStorePage)).toBe(true);

    // delKey: the key gets a copy, its record is zeroed.
    for (let i = 0; i < n; i += 4) await manager.delKey(ids[i]);
    // Expiry: the keys expire and are evicted when met.
    now = 2_000;
    for (let i = 1; i < n; i += 4) expect(await manager.hasKey(ids[i])).toBe(false);
    for (let i = 0; i < n; i++) {
      const removed = i % 4 < 2;
      expect(intact(i), `key ${i}`).toBe(true);
      expect(inStorePage(held[i]), `key ${i}`).toBe(!removed);
      expect(inStore(i), `key ${i}`).toBe(!removed);
    }

    // Compaction: deleting most of the rest moves the survivors into the first pages and drops the others.
    const compactions = table.stats().compactions;
    for (let i = 2; i < n; i += 4) await manager.delKey(ids[i]);
    for (let i = 3; i < n; i += 8) await manager.delKey(ids[i]);
    expect(table.stats().compactions).toBeGreaterThan(compactions);
    expect(table.stats().pages).toBeLessThan(pagesBefore.length);
    const pagesAfter = table.pagesForTest();
    for (let i = 0; i < n; i++) {
      const stored = i % 8 === 7;
      expect(intact(i), `key ${i}`).toBe(true);
      // A survivor's key follows its record into a page the store still has; a removed one left.
      expect(pagesAfter.includes(AuthKey.recordOf(held[i]).data), `key ${i}`).toBe(stored);
      expect(inStore(i), `key ${i}`).toBe(stored);
      if (stored) expect(manager.peekKey(ids[i])).toBe(held[i]);
    }

    // clear: every key gets a copy, the store is zeroed and holds no page.
    await manager.clear();
    for (let i = 0; i < n; i++) {
      expect(intact(i), `key ${i}`).toBe(true);
      expect(inStorePage(held[i])).toBe(false);
    }
    for (const p of pagesBefore) expect(p.every((b) => b === 0)).toBe(true);
    expect(table.stats().pages).toBe(0);
    // A held key stored again is stored as it reads, and found as the same value.
    await manager.setKey(held[7]);
    expect(hex((await manager.getKey(ids[7])).bytes)).toBe(hex(bytes[7]));
  });

  it('setKey of a key this manager handed out, after it expired: stored from its bytes, not from the zeroed record', async () => {
    let now = 1_000;
    const manager = new AuthKeyManager({ now: () => now });
    const bytes = seededBytes(256, 61_000);
    const id = new Uint8Array(nodeSha1(bytes).subarray(12, 20));
    manager.setKeySync(new AuthKey(bytes), { expiresAt: 2_000 });
    const key = manager.peekKey(id)!;
    now = 2_000;
    // setKey meets the expired record first, evicts it (the key gets its copy), then stores the key.
    await manager.setKey(key);
    const again = await manager.getKey(id);
    expect(hex(again.bytes)).toBe(hex(bytes));
    expect(hex(key.bytes)).toBe(hex(bytes));
  });
});

describe('KeyTable bounded by maxKeys (CLOCK eviction)', () => {
  /** The id halves of seeded key bytes, from node:crypto's SHA-1 (digest bytes 12..19). */
  const halves = (bytes: Uint8Array) => {
    const d = nodeSha1(bytes);
    return { hi: d.readInt32BE(12), lo: d.readInt32BE(16) };
  };
  const inPages = (pages: readonly Uint8Array[], bytes: Uint8Array) =>
    pages.some((p) => Buffer.from(p.buffer, p.byteOffset, p.length).indexOf(Buffer.from(bytes)) >= 0);

  it('an evicted record is zeroed, and a key handed out for it stays valid and equal', () => {
    const table = new KeyTable(() => 0, 300);
    const bytes = Array.from({ length: 600 }, (_, i) => seededBytes(256, 70_000 + i));
    for (let i = 0; i < 300; i++) table.insert(new AuthKey(bytes[i]), 0);
    // Hand out every key of the first 300 (their records are then referenced).
    const held = bytes.slice(0, 300).map((b) => {
      const { hi, lo } = halves(b);
      return table.get(hi, lo)!;
    });
    const pages = table.pagesForTest();
    for (let i = 0; i < 300; i++) expect(AuthKey.recordOf(held[i]).data).toBe(pages[i >>> 8]);
    // 300 more: each insert evicts one key, so all of the first 300 go.
    for (let i = 300; i < 600; i++) table.insert(new AuthKey(bytes[i]), 0);
    expect(table.size).toBe(300);
    expect(table.stats().evictions).toBe(300);
    for (let i = 0; i < 300; i++) {
      const { hi, lo } = halves(bytes[i]);
      expect(table.get(hi, lo), `key ${i}`).toBeUndefined();
      // Its bytes are nowhere in the store: the record was zeroed (and reused by a later key).
      expect(inPages(table.pagesForTest(), bytes[i]), `key ${i}`).toBe(false);
      // The key handed out owns a copy and still reads as made (values from the seed and node:crypto).
      expect(hex(held[i].bytes)).toBe(hex(bytes[i]));
      expect(held[i].id).toBe(nodeSha1(bytes[i]).readBigUInt64BE(12));
      expect(pages).not.toContain(AuthKey.recordOf(held[i]).data);
    }
    for (let i = 300; i < 600; i++) {
      const { hi, lo } = halves(bytes[i]);
      expect(hex(table.get(hi, lo)!.bytes), `key ${i}`).toBe(hex(bytes[i]));
    }
  });

  it('evictOne zeroes the evicted record; false on an empty table', () => {
    const table = new KeyTable(() => 0, 4);
    expect(table.evictOne()).toBe(false);
    const bytes = seededBytes(256, 71_000);
    table.insert(new AuthKey(bytes), 0);
    const pages = table.pagesForTest();
    expect(inPages(pages, bytes)).toBe(true);
    expect(table.evictOne()).toBe(true);
    expect(table.size).toBe(0);
    expect(inPages(pages, bytes)).toBe(false);
    expect(pages.every((p) => p.every((b) => b === 0))).toBe(true);
    expect(table.evictOne()).toBe(false);
  });

  it('a key looked up since the hand passed survives, an unreferenced one goes', () => {
    const table = new KeyTable(() => 0, 3);
    const bytes = Array.from({ length: 5 }, (_, i) => seededBytes(256, 72_000 + i));
    const has = (i: number) => table.has(halves(bytes[i]).hi, halves(bytes[i]).lo);
    for (let i = 0; i < 3; i++) table.insert(new AuthKey(bytes[i]), 0);
    // All three were just inserted (referenced): a full lap clears them, and the first one goes.
    table.insert(new AuthKey(bytes[3]), 0);
    expect([0, 1, 2, 3].map(has)).toEqual([false, true, true, true]);
    // Keys 1 and 2 are now unreferenced; look up 1: key 2 is the next to go, not 1.
    table.get(halves(bytes[1]).hi, halves(bytes[1]).lo);
    table.insert(new AuthKey(bytes[4]), 0);
    expect([1, 2, 3, 4].map(has)).toEqual([true, false, true, true]);
  });

  it('an expired key is evicted before an unexpired one, even if referenced', () => {
    let now = 1_000;
    const table = new KeyTable(() => now, 3);
    const bytes = Array.from({ length: 4 }, (_, i) => seededBytes(256, 73_000 + i));
    const has = (i: number) => table.has(halves(bytes[i]).hi, halves(bytes[i]).lo);
    table.insert(new AuthKey(bytes[0]), 0);
    table.insert(new AuthKey(bytes[1]), 0);
    table.insert(new AuthKey(bytes[2]), 2_000);
    now = 2_000;
    table.insert(new AuthKey(bytes[3]), 0);
    expect(table.stats().evictions).toBe(1);
    expect([0, 1, 2, 3].map(has)).toEqual([true, true, false, true]);
  });

  it('memory stays bounded under churn of 10 × maxKeys inserts, with lookups and deletes', () => {
    const maxKeys = 1000;
    const table = new KeyTable(() => 0, maxKeys);
    const held: { key: AuthKey; bytes: Uint8Array }[] = [];
    let peak = { records: 0, pages: 0, slots: 0 };
    for (let i = 0; i < 10 * maxKeys; i++) {
      const bytes = seededBytes(256, 80_000 + i);
      table.insert(new AuthKey(bytes), 0);
      if (i % 3 === 0) {
        const { hi, lo } = halves(bytes);
        const key = table.get(hi, lo)!;
        if (i % 97 === 0) held.push({ key, bytes });
      }
      if (i % 11 === 0) {
        const { hi, lo } = halves(seededBytes(256, 80_000 + i - 5));
        table.delete(hi, lo);
      }
      const s = table.stats();
      expect(table.size).toBeLessThanOrEqual(maxKeys);
      peak = { records: Math.max(peak.records, s.records), pages: Math.max(peak.pages, s.pages), slots: Math.max(peak.slots, s.slots) };
    }
    // Never more records than maxKeys, so never more pages than maxKeys needs; the slot array
    // stays at the size maxKeys keys need (load between 1/4 and 3/4: 2048 or 4096 slots).
    expect(peak.records).toBeLessThanOrEqual(maxKeys);
    expect(peak.pages).toBe(Math.ceil(maxKeys / 256));
    expect(peak.slots).toBeLessThanOrEqual(4096);
    expect(table.stats().evictions).toBeGreaterThan(8 * maxKeys);
    for (const h of held) expect(hex(h.key.bytes)).toBe(hex(h.bytes));
    // Everything a lookup finds is the key stored under that id.
    for (let i = 0; i < 10 * maxKeys; i++) {
      const bytes = seededBytes(256, 80_000 + i);
      const { hi, lo } = halves(bytes);
      const got = table.get(hi, lo);
      if (got !== undefined) expect(hex(got.bytes)).toBe(hex(bytes));
    }
  });
});
