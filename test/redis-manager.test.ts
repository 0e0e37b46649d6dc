/** What the Redis manager does beyond the conformance suite, on a server: storage format, integrity, encryption (redis-manager-offline.test.ts: what it does without one). */
import { createCipheriv, randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthKey, AuthKeyCollision, AuthKeyDoesNotExist } from '../src/index.ts';
import { AuthKeyCorrupted, AuthKeyStoreUnavailable, RedisAuthKeyManager, type RedisAuthKeyManagerOptions } from '../src/redis.ts';
import { forgeCollision, hex, randomKey, rejection } from './helpers.ts';
import { type Topology, clusterNodes, connect, dropPrefix, redisUrl, uniquePrefix } from './redis-helpers.ts';

const nameOf = (prefix: string, key: AuthKey) => prefix + hex(key.idBytes);
const secret = () => new Uint8Array(randomBytes(32));

describe.skipIf(!redisUrl)('RedisAuthKeyManager on Redis', () => {
  let redis: Redis;
  const prefixes: string[] = [];

  beforeAll(() => {
    redis = connect('standalone') as Redis;
  });
  afterAll(async () => {
    for (const p of prefixes) await dropPrefix(redis, p);
    await redis.quit();
  });

  /** A manager on the shared connection with a fresh prefix. */
  function manager(options: Partial<RedisAuthKeyManagerOptions> = {}): { m: RedisAuthKeyManager; prefix: string } {
    const prefix = (options.prefix as string | undefined) ?? uniquePrefix();
    prefixes.push(prefix);
    return { m: new RedisAuthKeyManager({ ...options, client: redis, prefix } as RedisAuthKeyManagerOptions), prefix };
  }

  describe('storage format', () => {
    it('unencrypted, the value is the raw 256 key bytes under prefix + 16 lowercase hex digits of the id', async () => {
      const { m, prefix } = manager();
      const key = randomKey();
      await m.setKey(key);
      const stored = await redis.getBuffer(nameOf(prefix, key));
      expect(stored).toEqual(Buffer.from(key.bytes));
      expect(nameOf(prefix, key)).toMatch(/:[0-9a-f]{16}$/);
    });

    it('the default prefix is authkey:', async () => {
      const m = new RedisAuthKeyManager({ client: redis });
      const key = randomKey();
      await m.setKey(key);
      try {
        expect(await redis.exists(`authkey:${hex(key.idBytes)}`)).toBe(1);
      } finally {
        await m.delKey(key);
      }
    });

    it('expiresAt becomes the Redis expiry time (ms, rounded up); no expiresAt, no expiry', async () => {
      const { m, prefix } = manager();
      const [a, b, c] = [randomKey(), randomKey(), randomKey()];
      const at = Date.now() + 60_000.4;
      await m.setKey(a, { expiresAt: at });
      await m.setKey(b, { expiresAt: new Date(Math.floor(at)) });
      await m.setKey(c);
      expect(await redis.call('PEXPIRETIME', nameOf(prefix, a))).toBe(Math.ceil(at));
      expect(await redis.call('PEXPIRETIME', nameOf(prefix, b))).toBe(Math.floor(at));
      expect(await redis.pttl(nameOf(prefix, c))).toBe(-1);
    });

    it('an expiresAt beyond what Redis takes is not refused (a key for practically ever)', async () => {
      const { m } = manager();
      const key = randomKey();
      await m.setKey(key, { expiresAt: 1e300 });
      expect((await m.getKey(key.id)).equals(key)).toBe(true);
    });

    it('setKey of a stored key keeps its expiry (a no-op)', async () => {
      const { m, prefix } = manager();
      const key = randomKey();
      const at = Date.now() + 30_000;
      await m.setKey(key, { expiresAt: at });
      await m.setKey(key);
      await m.setKey(key, { expiresAt: at + 99_000 });
      expect(await redis.call('PEXPIRETIME', nameOf(prefix, key))).toBe(at);
    });
  });

  describe('integrity on read', () => {
    it('a value that is not a Redis string (a hash) is corrupted, not a store failure', async () => {
      const { m, prefix } = manager();
      const key = randomKey();
      await redis.hset(nameOf(prefix, key), 'f', 'v');
      await rejection(m.getKey(key.id), AuthKeyCorrupted);
      await rejection(m.setKey(key), AuthKeyCorrupted);
      await m.delKey(key.idBytes);
    });

    it('the error says what is wrong, never the bytes', async () => {
      const { m, prefix } = manager();
      const key = randomKey();
      const other = randomKey();
      await redis.set(nameOf(prefix, key), Buffer.from(other.bytes));
      const error = await rejection(m.getKey(key.id), AuthKeyCorrupted);
      expect(error.message).toMatch(/hash to a different id/);
      for (const secretHex of [hex(other.bytes), hex(key.bytes)]) expect(error.message).not.toContain(secretHex.slice(0, 16));
      await redis.set(nameOf(prefix, key), Buffer.alloc(10));
      expect((await rejection(m.getKey(key.id), AuthKeyCorrupted)).message).toMatch(/expected 256 key bytes, got 10/);
    });
  });

  describe('encryption at rest', () => {
    it('the value is version ‖ iv ‖ ciphertext ‖ tag (285 bytes), never the key bytes, different on every write', async () => {
      const { m, prefix } = manager({ encryption: { secrets: { 7: secret() }, current: 7 } });
      const key = randomKey();
      await m.setKey(key);
      const first = (await redis.getBuffer(nameOf(prefix, key)))!;
      expect(first.length).toBe(1 + 12 + 256 + 16);
      expect(first[0]).toBe(7);
      expect(first.includes(Buffer.from(key.bytes.subarray(0, 16)))).toBe(false);
      await m.delKey(key);
      await m.setKey(key);
      const second = (await redis.getBuffer(nameOf(prefix, key)))!;
      expect(second.subarray(1, 13).equals(first.subarray(1, 13))).toBe(false);
      expect((await m.getKey(key.id)).equals(key)).toBe(true);
    });

    it('a value moved to another id does not open there: AuthKeyCorrupted', async () => {
      const s = secret();
      const { m, prefix } = manager({ encryption: { secrets: { 1: s }, current: 1 } });
      const [key, other] = [randomKey(), randomKey()];
      await m.setKey(key);
      await redis.set(nameOf(prefix, other), (await redis.getBuffer(nameOf(prefix, key)))!);
      expect((await rejection(m.getKey(other.id), AuthKeyCorrupted)).message).toMatch(/does not authenticate/);
      await rejection(m.setKey(other), AuthKeyCorrupted);
    });

    it('a value sealed under another secret with the same version number: AuthKeyCorrupted', async () => {
      const prefix = uniquePrefix();
      const { m: writer } = manager({ prefix, encryption: { secrets: { 1: secret() }, current: 1 } });
      const { m: reader } = manager({ prefix, encryption: { secrets: { 1: secret() }, current: 1 } });
      const key = randomKey();
      await writer.setKey(key);
      await rejection(reader.getKey(key.id), AuthKeyCorrupted);
      // setKey cannot compare with a value it cannot open: refused, and the value stays.
      await rejection(reader.setKey(key), AuthKeyCorrupted);
      expect((await writer.getKey(key.id)).equals(key)).toBe(true);
    });

    it('a flipped bit anywhere in a sealed value: AuthKeyCorrupted', async () => {
      const { m, prefix } = manager({ encryption: { secrets: { 1: secret() }, current: 1 } });
      const key = randomKey();
      await m.setKey(key);
      const sealed = (await redis.getBuffer(nameOf(prefix, key)))!;
      for (const at of [0, 5, 100, 284]) {
        const bad = Buffer.from(sealed);
        bad[at] ^= 1;
        await redis.set(nameOf(prefix, key), bad);
        await rejection(m.getKey(key.id), AuthKeyCorrupted);
      }
    });

    it('raw values are refused by an encrypting manager and sealed ones by a plain one', async () => {
      const prefix = uniquePrefix();
      const { m: plain } = manager({ prefix });
      const { m: sealed } = manager({ prefix, encryption: { secrets: { 1: secret() }, current: 1 } });
      const [a, b] = [randomKey(), randomKey()];
      await plain.setKey(a);
      await sealed.setKey(b);
      // Each says what is stored rather than "damaged" (issue 18): neither value is.
      expect((await rejection(sealed.getKey(a.id), AuthKeyCorrupted)).message).toMatch(
        /the key of this id stored unsealed \(raw key bytes\) where this manager expects sealed values/,
      );
      expect((await rejection(plain.getKey(b.id), AuthKeyCorrupted)).message).toMatch(
        /sealed under secret version 1, which this manager cannot open: it has no encryption configured/,
      );
    });

    it('rotation: values sealed with v1 read (and setKey-compare) after current moves to v2; v2 writes; v1 dropped means corrupted', async () => {
      const prefix = uniquePrefix();
      const [s1, s2] = [secret(), secret()];
      const { m: before } = manager({ prefix, encryption: { secrets: { 1: s1 }, current: 1 } });
      const { m: during } = manager({ prefix, encryption: { secrets: { 1: s1, 2: s2 }, current: 2 } });
      const { m: after } = manager({ prefix, encryption: { secrets: { 2: s2 }, current: 2 } });
      const [old, fresh] = [randomKey(), randomKey()];
      await before.setKey(old);
      expect((await during.getKey(old.id)).equals(old)).toBe(true);
      await during.setKey(old);
      expect((await redis.getBuffer(nameOf(prefix, old)))![0]).toBe(1);
      await during.setKey(fresh);
      expect((await redis.getBuffer(nameOf(prefix, fresh)))![0]).toBe(2);
      expect((await after.getKey(fresh.id)).equals(fresh)).toBe(true);
      expect((await rejection(after.getKey(old.id), AuthKeyCorrupted)).message).toMatch(
        /sealed under secret version 1, which this manager cannot open: it has secret versions 2/,
      );
      // Re-sealing under v2 (read with v1 still known, delete, write) completes the rotation.
      const key = await during.getKey(old.id);
      await during.delKey(old);
      await during.setKey(key);
      expect((await after.getKey(old.id)).equals(old)).toBe(true);
    });

    it('the secrets are copied: changing the caller’s array later changes nothing', async () => {
      const s = secret();
      const { m } = manager({ encryption: { secrets: { 1: s }, current: 1 } });
      const key = randomKey();
      await m.setKey(key);
      s.fill(0);
      expect((await m.getKey(key.id)).equals(key)).toBe(true);
    });
  });

  describe('connection ownership', () => {
    it('{ url }: the manager opens its own connection and close() ends it', async () => {
      const m = new RedisAuthKeyManager({ url: redisUrl, prefix: uniquePrefix() });
      const key = randomKey();
      await m.setKey(key);
      expect((await m.getKey(key.id)).equals(key)).toBe(true);
      const clients = async () => ((await redis.client('LIST')) as string).split('\n').filter((line) => line.includes(`id=`)).length;
      const open = await clients();
      await m.delKey(key);
      await m.close();
      await m.close();
      for (let i = 0; i < 40 && (await clients()) >= open; i++) await new Promise((r) => setTimeout(r, 25));
      expect(await clients()).toBe(open - 1);
      expect((await rejection(m.hasKey(key), AuthKeyStoreUnavailable)).message).toMatch(/closed/);
    });

    it('{ client }: close() leaves the caller’s connection open', async () => {
      const client = connect('standalone') as Redis;
      try {
        const m = new RedisAuthKeyManager({ client, prefix: uniquePrefix() });
        expect(await m.hasKey(1n)).toBe(false);
        await m.close();
        expect(await client.ping()).toBe('PONG');
        expect(client.status).toBe('ready');
      } finally {
        await client.quit();
      }
    });
  });
});

/**
 * A value sealed as the manager documents it (version ‖ 12-byte IV ‖ AES-256-GCM ciphertext ‖
 * 16-byte tag, the 8 id bytes as associated data), made here with node:crypto so that the test can
 * seal bytes the manager never would (a zero key, another key's bytes).
 */
function sealAs(version: number, secret: Uint8Array, idBytes: Uint8Array, plain: Uint8Array): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', secret, iv);
  cipher.setAAD(idBytes);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([Buffer.from([version]), iv, body, cipher.getAuthTag()]);
}

const flip = (b: Uint8Array, at: number): Buffer => {
  const out = Buffer.from(b);
  out[at] ^= 1;
  return out;
};

/** A damaged stored value: raw bytes to SET, or 'hash' for a value of the wrong Redis type. */
type Damage = (key: AuthKey, seal: (bytes: Uint8Array) => Buffer) => Buffer | 'hash';

const plainDamage: Array<[string, Damage]> = [
  ['255 bytes (truncated)', (key) => Buffer.from(key.bytes.subarray(0, 255))],
  ['257 bytes', (key) => Buffer.concat([key.bytes, Buffer.alloc(1)])],
  ['an empty string', () => Buffer.alloc(0)],
  ['the key with one flipped bit (hashes to another id)', (key) => flip(key.bytes, 100)],
  ['another key’s bytes (hash to another id)', () => Buffer.from(randomKey().bytes)],
  ['256 zero bytes', () => Buffer.alloc(256)],
  ['a value that is not a Redis string (a hash)', () => 'hash'],
];

const sealedDamage: Array<[string, Damage]> = [
  ['a sealed value with one flipped bit', (key, seal) => flip(seal(key.bytes), 100)],
  ['a sealed value truncated to 284 bytes', (key, seal) => seal(key.bytes).subarray(0, 284)],
  ['the raw 256 key bytes', (key) => Buffer.from(key.bytes)],
  ['the key with one flipped bit, sealed for this id (opens, hashes to another id)', (key, seal) => seal(flip(key.bytes, 7))],
  ['another key’s bytes sealed for this id (opens, hash to another id)', (_key, seal) => seal(randomKey().bytes)],
  ['256 zero bytes sealed for this id', (_key, seal) => seal(new Uint8Array(256))],
  ['a value that is not a Redis string (a hash)', () => 'hash'],
];

const topologies: Array<[Topology, boolean]> = [
  ['standalone', Boolean(redisUrl)],
  ['cluster', Boolean(clusterNodes)],
];

describe.each(topologies)('RedisAuthKeyManager on Redis %s: a stored value that is not a valid key for its id', (topology, available) => {
  let client: Redis | Cluster;
  const prefix = uniquePrefix();
  const secret = new Uint8Array(randomBytes(32));

  beforeAll(() => {
    if (available) client = connect(topology);
  });
  afterAll(async () => {
    if (!available) return;
    await dropPrefix(client, prefix);
    await client.quit();
  });

  const cases: Array<[string, string, Damage]> = [
    ...plainDamage.map(([label, damage]): [string, string, Damage] => ['plain', label, damage]),
    ...sealedDamage.map(([label, damage]): [string, string, Damage] => ['sealed', label, damage]),
  ];

  it.skipIf(!available).each(cases)(
    '%s manager, %s: getKey and setKey reject AuthKeyCorrupted and leave it; hasKey says true; delKey removes it',
    async (mode, _label, damage) => {
      const m = new RedisAuthKeyManager({ client, prefix, ...(mode === 'sealed' ? { encryption: { secrets: { 3: secret }, current: 3 } } : {}) });
      const key = randomKey();
      const name = nameOf(prefix, key);
      const bad = damage(key, (bytes) => sealAs(3, secret, key.idBytes, bytes));
      if (bad === 'hash') await client.hset(name, 'f', 'v');
      else await client.set(name, bad);
      const stays = async () => {
        if (bad === 'hash') expect(await client.type(name)).toBe('hash');
        else expect(await client.getBuffer(name)).toEqual(bad);
      };

      const read = await rejection(m.getKey(key.id), AuthKeyCorrupted);
      expect(read.authKeyId).toBe(key.id);
      expect(read.message).toContain(hex(key.idBytes));
      const write = await rejection(m.setKey(key), AuthKeyCorrupted);
      expect(write.name).toBe('AuthKeyCorrupted');
      expect(write.authKeyId).toBe(key.id);
      // Not even an expiry is added to it.
      await rejection(m.setKey(key, { expiresAt: Date.now() + 60_000 }), AuthKeyCorrupted);
      expect(await client.pttl(name)).toBe(-1);
      await stays();
      // The id is taken: hasKey says so, as documented.
      expect(await m.hasKey(key)).toBe(true);
      expect(await m.hasKey(key.idBytes)).toBe(true);
      await stays();
      await m.delKey(key);
      expect(await m.hasKey(key)).toBe(false);
      await rejection(m.getKey(key.id), AuthKeyDoesNotExist);
      await m.setKey(key);
      expect((await m.getKey(key.id)).equals(key)).toBe(true);
    },
  );

  it.skipIf(!available).each([['plain'], ['sealed']])(
    '%s manager: a different valid key stored under the id is still a collision (AuthKeyCollision)',
    async (mode) => {
      const m = new RedisAuthKeyManager({ client, prefix, ...(mode === 'sealed' ? { encryption: { secrets: { 3: secret }, current: 3 } } : {}) });
      const key = randomKey();
      const rival = forgeCollision(key);
      // The stored value is the real key for this id; setKey of other bytes under it is a rival.
      await m.setKey(key);
      await rejection(m.setKey(rival), AuthKeyCollision);
      expect((await m.getKey(key.id)).equals(key)).toBe(true);
      await m.delKey(key);
    },
  );
});
