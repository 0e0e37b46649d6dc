/**
 * connectRedis (the client factory behind the manager's `url` and the CLI), store operations on a
 * client that is connecting or reconnecting, and RedisAuthKeyManager#stats.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthKeyStoreUnavailable, RedisAuthKeyManager, connectRedis, importKeys } from '../src/redis.ts';
import { AuthKeyManager } from '../src/index.ts';
import { hex, randomKey, rejection } from './helpers.ts';
import { clusterNodes, connect, dropPrefix, redisServerAvailable, redisUrl, uniquePrefix } from './redis-helpers.ts';
import { freePort, startRedisServer } from '../support/redis-server.ts';

const HOUR = 3_600_000;

describe.skipIf(!redisUrl)('connectRedis', () => {
  it("connects a standalone client that the manager uses; it is the caller's to end", async () => {
    const client = await connectRedis({ urls: redisUrl, timeoutMs: 5000 });
    try {
      expect(client).toBeInstanceOf(Redis);
      expect(client.status).toBe('ready');
      const manager = new RedisAuthKeyManager({ client, prefix: uniquePrefix() });
      const key = randomKey();
      await manager.setKey(key);
      expect((await manager.getKey(key.id)).equals(key)).toBe(true);
      await manager.delKey(key.id);
      await manager.close();
      expect(client.status).toBe('ready');
    } finally {
      await client.quit();
    }
  });

  it('Redis not reachable: AuthKeyStoreUnavailable naming the server and why, credentials blanked, no ioredis wording', async () => {
    const port = await freePort();
    const password = `pw-${randomBytes(6).toString('hex')}`;
    const error = await rejection(connectRedis({ urls: [`redis://user:${password}@127.0.0.1:${port}`], timeoutMs: 2000 }), AuthKeyStoreUnavailable);
    expect(error.message).toBe(`auth key store unavailable: cannot connect to redis://***@127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(String(error.stack) + String(error.cause)).not.toContain(password);
  });

  it('bad options: TypeError / RangeError before anything is opened, the URL not repeated', async () => {
    await expect(connectRedis(null as never)).rejects.toThrow(TypeError);
    await expect(connectRedis({ urls: 6379 } as never)).rejects.toThrow(TypeError);
    await expect(connectRedis({ urls: [] })).rejects.toThrow(TypeError);
    await expect(connectRedis({ urls: redisUrl, cluster: 'yes' } as never)).rejects.toThrow(TypeError);
    await expect(connectRedis({ urls: 'http://user:secret@127.0.0.1:1' })).rejects.toThrow(/^connectRedis url: expected a redis:\/\/ or rediss:\/\/ URL$/);
    await expect(connectRedis({ urls: ['redis://127.0.0.1:1', 'redis://127.0.0.1:2'] })).rejects.toThrow(RangeError);
    await expect(connectRedis({ urls: 'redis://user:%zzsecret@127.0.0.1:1' })).rejects.toThrow(/^connectRedis url: the password is not valid percent-encoding/);
    await expect(connectRedis({ urls: redisUrl, timeoutMs: 0 })).rejects.toThrow(RangeError);
  });

  it.skipIf(!clusterNodes)('cluster: a Cluster client from one seed; a Cluster node named without cluster is refused (RangeError)', async () => {
    const seed = `redis://${clusterNodes.split(',')[0].trim()}`;
    const client = await connectRedis({ urls: [seed], cluster: true, timeoutMs: 5000 });
    try {
      expect(client.isCluster).toBe(true);
      const prefix = uniquePrefix();
      const manager = new RedisAuthKeyManager({ client, prefix });
      const keys = Array.from({ length: 30 }, randomKey);
      await Promise.all(keys.map((k) => manager.setKey(k)));
      expect((await manager.stats()).keys).toBe(30);
      await manager.close();
      await dropPrefix(client, prefix);
    } finally {
      await client.quit();
    }
    await expect(connectRedis({ urls: seed, timeoutMs: 5000 })).rejects.toThrow(/is a node of a Redis Cluster: connect with cluster: true/);
  });
});

describe.skipIf(!redisServerAvailable)('connectRedis: a server that accepts but never answers', () => {
  it('rejects after timeoutMs with AuthKeyStoreUnavailable, not a hang', async () => {
    const server = await startRedisServer();
    process.kill(server.pid, 'SIGSTOP');
    try {
      const error = await rejection(connectRedis({ urls: server.url, timeoutMs: 300 }), AuthKeyStoreUnavailable);
      expect(error.message).toBe(`auth key store unavailable: cannot connect to ${server.url}: no answer within 300 ms`);
    } finally {
      process.kill(server.pid, 'SIGCONT');
      await server.stop();
      await rm(server.dir, { recursive: true, force: true });
    }
  });
});

// Regression (issue 18): the store operations sent their commands straight to the client, so right
// after `new RedisAuthKeyManager({ url })` (or while the client reconnected) they failed with
// "Stream isn't writeable and enableOfflineQueue options is false". They now wait like getKey.
describe.skipIf(!redisUrl)('store operations wait for the connection', () => {
  let seeder: Redis;
  const prefix = uniquePrefix();
  const secrets = { 1: new Uint8Array(randomBytes(32)) };
  const stored: string[] = [];
  beforeAll(async () => {
    seeder = connect('standalone') as Redis;
    const manager = new RedisAuthKeyManager({ client: seeder, prefix, encryption: { secrets, current: 1 } });
    const keys = Array.from({ length: 40 }, randomKey);
    await Promise.all(keys.map((k) => manager.setKey(k)));
    // Raw values, which reseal() seals.
    for (const k of keys.slice(0, 10)) await seeder.set(prefix + hex(k.idBytes), Buffer.from(k.bytes));
    stored.push(...keys.map((k) => hex(k.idBytes)));
    await manager.close();
  });
  afterAll(async () => {
    await dropPrefix(seeder, prefix);
    await seeder.quit();
  });

  const fresh = () =>
    new RedisAuthKeyManager({ url: redisUrl, prefix, timeoutMs: 5000, encryption: { secrets: { 1: new Uint8Array(secrets[1]) }, current: 1 } });

  it('a manager just made with url: keys(), verify(), stats(), reseal(), exportKeys() each succeed at once', async () => {
    const ids: string[] = [];
    const keysManager = fresh();
    for await (const info of keysManager.keys()) ids.push(hex(info.idBytes));
    expect(ids.sort()).toEqual([...stored].sort());
    await keysManager.close();

    const verifyManager = fresh();
    expect(await verifyManager.verify()).toMatchObject({ scanned: 40, ok: 40, corrupted: 0 });
    await verifyManager.close();

    const statsManager = fresh();
    expect((await statsManager.stats()).keys).toBe(40);
    await statsManager.close();

    const resealManager = fresh();
    const report = await resealManager.reseal();
    expect(report.scanned).toBe(40);
    expect(report.resealed + report.alreadyCurrent).toBe(40);
    await resealManager.close();

    const exportManager = fresh();
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const exported = await exportManager.exportKeys(out, { secret: new Uint8Array(32).fill(7) });
    expect(exported.exported).toBe(40);
    out.end();
    await exportManager.close();
    const target = new AuthKeyManager();
    expect((await importKeys(target, [Buffer.concat(chunks)], { secret: new Uint8Array(32).fill(7) })).imported).toBe(40);
  });

  it('while the client reconnects (its connection killed): verify() waits for it and succeeds', async () => {
    const client = await connectRedis({ urls: redisUrl, timeoutMs: 5000 });
    const manager = new RedisAuthKeyManager({ client, prefix, timeoutMs: 5000, encryption: { secrets: { 1: new Uint8Array(secrets[1]) }, current: 1 } });
    try {
      const id = await client.client('ID');
      const closed = new Promise((resolve) => client.once('close', resolve));
      await seeder.client('KILL', 'ID', String(id));
      await closed;
      expect(client.status).not.toBe('ready');
      expect(await manager.verify()).toMatchObject({ scanned: 40, ok: 40 });
    } finally {
      await manager.close();
      client.disconnect();
    }
  });

  it('a Redis that never answers: AuthKeyStoreUnavailable after timeoutMs, saying so', async () => {
    const port = await freePort();
    const manager = new RedisAuthKeyManager({ url: `redis://127.0.0.1:${port}`, prefix, timeoutMs: 300 });
    try {
      for (const operation of [() => manager.verify(), () => manager.stats(), () => manager.keys().next()]) {
        const error = await rejection(operation(), AuthKeyStoreUnavailable);
        expect(error.message).toMatch(/Redis did not answer within 300 ms$/);
        expect(error.message).not.toMatch(/Stream isn't writeable/);
      }
    } finally {
      await manager.close();
    }
  });
});

describe.skipIf(!redisUrl)('RedisAuthKeyManager#stats', () => {
  let client: Redis;
  const prefix = uniquePrefix();
  beforeAll(() => {
    client = connect('standalone') as Redis;
  });
  afterAll(async () => {
    await dropPrefix(client, prefix);
    await client.quit();
  });

  it('counts keys, expiring, raw, sealed per version and other values, with no secret and without opening a value', async () => {
    const at = Date.now() + HOUR;
    const plain = new RedisAuthKeyManager({ client, prefix });
    const v3 = new RedisAuthKeyManager({ client, prefix, encryption: { secrets: { 3: new Uint8Array(randomBytes(32)) }, current: 3 } });
    const v9 = new RedisAuthKeyManager({ client, prefix, encryption: { secrets: { 9: new Uint8Array(randomBytes(32)) }, current: 9 } });
    await Promise.all(Array.from({ length: 12 }, (_, i) => plain.setKey(randomKey(), i < 4 ? { expiresAt: at } : undefined)));
    await Promise.all(Array.from({ length: 7 }, (_, i) => v3.setKey(randomKey(), i < 2 ? { expiresAt: at } : undefined)));
    await Promise.all(Array.from({ length: 5 }, () => v9.setKey(randomKey())));
    // Not keys: a short value (expiring), an empty string, a hash; and a name that is not prefix + 16 hex digits (not counted).
    await client.set(`${prefix}00000000000000aa`, 'short', 'PX', HOUR);
    await client.set(`${prefix}00000000000000ab`, '');
    await client.hset(`${prefix}00000000000000bb`, 'f', 'v');
    await client.set(`${prefix}not-an-id`, randomBytes(256));
    // A manager without secrets counts the sealed values too.
    const progress: number[] = [];
    const stats = await plain.stats({ batch: 5, onProgress: (done) => progress.push(done) });
    expect(stats).toEqual({ keys: 27, expiring: 7, raw: 12, sealed: { 3: 7, 9: 5 }, other: 3 });
    expect(progress.at(-1)).toBe(27);
    await Promise.all([plain.close(), v3.close(), v9.close()]);
  });

  it('bad options reject before Redis is asked; an aborted signal rejects with its reason', async () => {
    const manager = new RedisAuthKeyManager({ client, prefix });
    await expect(manager.stats({ batch: 0 })).rejects.toThrow(RangeError);
    await expect(manager.stats('x' as never)).rejects.toThrow(TypeError);
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(manager.stats({ signal: controller.signal })).rejects.toThrow('stop');
    await manager.close();
    await expect(manager.stats()).rejects.toThrow(AuthKeyStoreUnavailable);
  });
});
