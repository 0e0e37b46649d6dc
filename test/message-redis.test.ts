/**
 * RedisAuthKeyManager#decryptPacket against the suite's Redis: the message crypto itself is checked
 * against node:crypto and the GramJS vectors in message.test.ts, which needs no server.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AuthKey, MessageRejected } from '../src/index.ts';
import { MESSAGE_REJECTED } from '../src/core/errors.ts';
import { RedisAuthKeyManager, type RedisAuthKeyManagerOptions } from '../src/redis.ts';
import { fromHex, hex, seededBytes } from './helpers.ts';
import { redisUrl, uniquePrefix, waitLinked } from './redis-helpers.ts';

const file = JSON.parse(readFileSync(new URL('./vectors/mtproto2.json', import.meta.url), 'utf8')) as { authKey: string };
const key = new AuthKey(fromHex(file.authKey));
const other = new AuthKey(seededBytes(256, 0x0e4e));

/** `n` bytes of message data (n ≥ 32, a multiple of 4) whose message_data_length field (bytes 28..31, little-endian) is right. */
function message(n: number): Uint8Array {
  const p = seededBytes(n, n);
  new DataView(p.buffer).setUint32(28, n - 32, true);
  return p;
}

describe.skipIf(!redisUrl)('RedisAuthKeyManager#decryptPacket', () => {
  const data = message(120);

  it.each([
    ['without a cache', undefined],
    ['with a near cache', { maxKeys: 100 }],
  ] as const)('%s: from Redis, then (cached) from memory; undefined for an unknown id; MessageRejected for a bad packet', async (_name, cache) => {
    const options = { url: redisUrl, prefix: uniquePrefix(), ...(cache ? { cache } : {}) } as unknown as RedisAuthKeyManagerOptions;
    const manager = new RedisAuthKeyManager(options);
    try {
      if (cache) await waitLinked(manager);
      await manager.setKey(key);
      // The first or second getKey after a setKey caches the key (see the near cache).
      for (let round = 0; round < 3; round++) {
        const got = await manager.decryptPacket(key.encryptMessage(data, 'client'));
        expect(got?.key.equals(key)).toBe(true);
        expect(hex(got!.data)).toBe(hex(data));
      }
      if (cache) expect(manager.peekKey(key.idBytes)).toBeDefined();
      const server = await manager.decryptPacket(key.encryptMessage(data, 'server'), 'server');
      expect(hex(server!.data)).toBe(hex(data));
      expect(await manager.decryptPacket(other.encryptMessage(data, 'client'))).toBeUndefined();
      const bad = key.encryptMessage(data, 'client');
      bad[30] ^= 4;
      const error = await manager.decryptPacket(bad).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(MessageRejected);
      expect((error as Error).message).toBe(MESSAGE_REJECTED);
      await expect(manager.decryptPacket('x' as never)).rejects.toThrow(TypeError);
      await expect(manager.decryptPacket(bad, 'x' as never)).rejects.toThrow(RangeError);
      await expect(manager.decryptPacket(new Uint8Array(3))).rejects.toThrow(MessageRejected);
    } finally {
      await manager.delKey(key).catch(() => undefined);
      await manager.close();
    }
  });

  it('decrypts what the packet held when called, even if the caller changes it while Redis answers', async () => {
    const manager = new RedisAuthKeyManager({ url: redisUrl, prefix: uniquePrefix() } as unknown as RedisAuthKeyManagerOptions);
    try {
      await manager.setKey(key);
      const packet = key.encryptMessage(data, 'client');
      const pending = manager.decryptPacket(packet);
      packet.fill(0);
      expect(hex((await pending)!.data)).toBe(hex(data));
    } finally {
      await manager.delKey(key).catch(() => undefined);
      await manager.close();
    }
  });
});
