import { describe, expect, it } from 'vitest';
import { AuthKey, AuthKeyDoesNotExist, AuthKeyManager } from '../src/index.ts';
import { describeManagerConformance } from './conformance.ts';
import { randomKey, seededBytes } from './helpers.ts';

describeManagerConformance(
  'AuthKeyManager (memory)',
  async () => {
    const manager = new AuthKeyManager();
    return { managers: [manager, manager, manager], close: async () => manager.clear() };
  },
  { expiry: true },
);

describe('AuthKeyManager (memory) specifics', () => {
  it('the reference chapter usage example holds, with a real 2048-bit key', async () => {
    const manager = new AuthKeyManager();
    const authKey = new AuthKey(seededBytes(256, 2048));
    await manager.setKey(authKey.value);
    const data = await manager.getKey(authKey.id);
    expect(data.id).toBe(authKey.id);
    expect(data.value).toBe(authKey.value);
    expect(data.hash).toBe(authKey.hash);
    expect(data.auxHash).toBe(authKey.auxHash);
  });

  it('peekKey finds a key by the 8 id bytes at an offset of a packet, synchronously', async () => {
    const manager = new AuthKeyManager();
    const key = randomKey();
    await manager.setKey(key);
    const packet = new Uint8Array(64);
    packet.set(key.idBytes, 0);
    expect(manager.peekKey(packet)?.equals(key)).toBe(true);
    const framed = new Uint8Array(80);
    framed.set(key.idBytes, 4);
    expect(manager.peekKey(framed, 4)?.equals(key)).toBe(true);
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
  });

  it('keeps every key through growth, deletes and compaction (20,000 keys)', async () => {
    const manager = new AuthKeyManager();
    const keys = Array.from({ length: 20_000 }, (_, i) => new AuthKey(seededBytes(256, i + 1)));
    for (const k of keys) manager.setKeySync(k);
    expect(manager.size).toBe(keys.length);
    // Delete three of every four, forcing the records to be compacted on the next growth.
    for (let i = 0; i < keys.length; i++) if (i % 4 !== 0) await manager.delKey(keys[i].idBytes);
    const more = Array.from({ length: 20_000 }, (_, i) => new AuthKey(seededBytes(256, 100_000 + i)));
    for (const k of more) manager.setKeySync(k);
    expect(manager.size).toBe(5000 + more.length);
    for (let i = 0; i < keys.length; i++) {
      const got = manager.peekKey(keys[i].idBytes);
      if (i % 4 === 0) expect(got?.equals(keys[i]), `key ${i}`).toBe(true);
      else expect(got).toBeUndefined();
    }
    for (const k of more) expect(manager.peekKey(k.idBytes)?.equals(k)).toBe(true);
  });

  it('a key handed out stays the same after the manager deletes it and reuses space', async () => {
    const manager = new AuthKeyManager();
    const keys = Array.from({ length: 3000 }, (_, i) => new AuthKey(seededBytes(256, 7 + i)));
    for (const k of keys) manager.setKeySync(k);
    const held = await manager.getKey(keys[0].id);
    const heldBytes = held.bytes;
    for (const k of keys) await manager.delKey(k);
    for (let i = 0; i < 5000; i++) manager.setKeySync(new AuthKey(seededBytes(256, 50_000 + i)));
    expect(held.bytes).toEqual(heldBytes);
    expect(held.equals(keys[0])).toBe(true);
    await expect(manager.getKey(keys[0].id)).rejects.toBeInstanceOf(AuthKeyDoesNotExist);
  });

  it('evicts expired keys without a timer: size drops once the table is rebuilt', async () => {
    const manager = new AuthKeyManager();
    const soon = Date.now() + 100;
    for (let i = 0; i < 500; i++) manager.setKeySync(new AuthKey(seededBytes(256, 9000 + i)), { expiresAt: soon });
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 2000; i++) manager.setKeySync(new AuthKey(seededBytes(256, 19_000 + i)));
    expect(manager.size).toBe(2000);
  });
});
