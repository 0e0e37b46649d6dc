/** Dumps into and out of the suite's Redis (standalone and Cluster); the format itself is tested in dump.test.ts, with no server. */
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { AuthKeyManager } from '../src/index.ts';
import { DumpDecryptionFailed, importKeys } from '../src/dump.ts';
import { RedisAuthKeyManager } from '../src/redis.ts';
import { PASS, SECRET, dump, emptyReport, entries } from './dump-helpers.ts';
import { hex, randomBytes, rejection } from './helpers.ts';
import { clusterNodes, connect, dropPrefix, redisUrl, uniquePrefix } from './redis-helpers.ts';

describe.skipIf(!redisUrl)('export → import with Redis', () => {
  const clients: ReturnType<typeof connect>[] = [];
  const prefixes: string[] = [];
  const open = (options: { encryption?: { secrets: Record<number, Uint8Array>; current: number } } = {}) => {
    const client = connect('standalone');
    const prefix = uniquePrefix();
    clients.push(client);
    prefixes.push(prefix);
    return { client, prefix, manager: new RedisAuthKeyManager({ client, prefix, ...options }) };
  };
  const countUnder = async (client: ReturnType<typeof connect>, prefix: string) => {
    let n = 0;
    let cursor = '0';
    do {
      const [next, names] = await (client as import('ioredis').Redis).scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      n += names.length;
    } while (cursor !== '0');
    return n;
  };
  afterAll(async () => {
    for (let i = 0; i < clients.length; i++) {
      await dropPrefix(clients[i], prefixes[i]);
      await clients[i].quit();
    }
  });

  it('10,000 keys with their expiry into Redis (PEXPIRETIME within 1 ms), and back out', async () => {
    const given = entries(10_000);
    const bytes = await dump(given, PASS);
    const { client, prefix, manager } = open({ encryption: { secrets: { 1: randomBytes(32) }, current: 1 } });
    expect(await importKeys(manager, Readable.from([bytes]), PASS)).toEqual({ ...emptyReport(), records: 10_000, imported: 10_000 });
    expect(await countUnder(client, prefix)).toBe(10_000);
    const pipeline = client.pipeline();
    for (const e of given) pipeline.pexpiretime(prefix + hex(e.key.idBytes));
    const expiries = (await pipeline.exec())!.map(([error, value]) => {
      expect(error).toBeNull();
      return value as number;
    });
    given.forEach((e, i) => {
      if (e.expiresAt === undefined) expect(expiries[i]).toBe(-1);
      else expect(Math.abs(expiries[i] - e.expiresAt)).toBeLessThanOrEqual(1);
    });
    for (let i = 0; i < given.length; i += 97) expect((await manager.getKey(given[i].key.id)).equals(given[i].key)).toBe(true);
    // Into a memory manager from a source built on the Redis store (what the Redis manager's exportKeys does).
    async function* fromRedis() {
      for (let i = 0; i < given.length; i++) yield { key: await manager.getKey(given[i].key.id), expiresAt: expiries[i] === -1 ? undefined : expiries[i] };
    }
    const memory = new AuthKeyManager();
    expect((await importKeys(memory, [await dump(fromRedis())], SECRET)).imported).toBe(10_000);
  });

  it('a wrong passphrase imports nothing into Redis; a corrupted value under an id counts as a collision', async () => {
    const given = entries(5);
    const bytes = await dump(given, PASS);
    const { client, prefix, manager } = open();
    await rejection(importKeys(manager, [bytes], { passphrase: 'nope' }), DumpDecryptionFailed);
    expect(await countUnder(client, prefix)).toBe(0);
    // Another key's bytes planted under the id of given[1]: the manager reads it as corrupted and never overwrites it.
    await client.set(prefix + hex(given[1].key.idBytes), Buffer.from(given[0].key.bytes));
    await manager.setKey(given[3].key, given[3].expiresAt === undefined ? undefined : { expiresAt: given[3].expiresAt });
    expect(await importKeys(manager, [bytes], PASS)).toEqual({
      ...emptyReport(),
      records: 5,
      imported: 3,
      unchanged: 1,
      collisions: 1,
      collisionIds: [given[1].key.id],
      collisionReasons: ['the stored value cannot be used: its bytes hash to a different id'],
    });
  });
});

describe.skipIf(!clusterNodes)('import into a Redis Cluster', () => {
  it('2,000 keys with their expiry land on every master', async () => {
    const client = connect('cluster');
    const prefix = uniquePrefix();
    const manager = new RedisAuthKeyManager({ client, prefix });
    try {
      const given = entries(2000);
      expect(await importKeys(manager, [await dump(given)], SECRET)).toEqual({ ...emptyReport(), records: 2000, imported: 2000 });
      const cluster = client as import('ioredis').Cluster;
      const perMaster = await Promise.all(
        cluster.nodes('master').map(async (node) => (await node.scan('0', 'MATCH', `${prefix}*`, 'COUNT', 100_000))[1].length),
      );
      expect(perMaster.every((n) => n > 0)).toBe(true);
      for (let i = 0; i < given.length; i += 41) {
        const e = given[i];
        const at = await cluster.pexpiretime(prefix + hex(e.key.idBytes));
        if (e.expiresAt === undefined) expect(at).toBe(-1);
        else expect(Math.abs(at - e.expiresAt)).toBeLessThanOrEqual(1);
        expect((await manager.getKey(e.key.id)).equals(e.key)).toBe(true);
      }
    } finally {
      await manager.close();
      await dropPrefix(client, prefix);
      await client.quit();
    }
  });
});
