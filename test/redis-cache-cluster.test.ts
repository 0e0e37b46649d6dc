/**
 * The near cache of RedisAuthKeyManager on a Redis Cluster of its own: 3 masters with a replica
 * each and a 1000 ms cluster-node-timeout, started in beforeAll and stopped in afterAll (failovers
 * and FLUSHALL touch no other test). Every node is tracked; after a manual failover and after a
 * master is killed and replaced by its replica, a key deleted on the new master is never served.
 */
import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuthKeyDoesNotExist, type AuthKey } from '../src/index.ts';
import { RedisAuthKeyManager } from '../src/redis.ts';
import { hex, randomKey, rejection } from './helpers.ts';
import {
  type CacheOptions,
  callsOf,
  commandCalls,
  eventually as eventuallyAvailable,
  redisServerAvailable,
  uniquePrefix,
  waitFor,
  waitLinked,
} from './redis-helpers.ts';
import { type RedisClusterProcess, type RedisProcess, redisCli, startRedisCluster } from '../support/redis-server.ts';

describe.skipIf(!redisServerAvailable)('RedisAuthKeyManager near cache (Redis Cluster, 3 masters × 1 replica)', () => {
  let cluster: RedisClusterProcess;
  /** The test's own Cluster connection: the truth and command counts. */
  let raw: Cluster;
  const clients: Cluster[] = [];
  const opened: RedisAuthKeyManager[] = [];

  function connectCluster(): Cluster {
    const client = new Cluster(
      cluster.spec.split(',').map((address) => {
        const [host, port] = address.split(':');
        return { host, port: Number(port) };
      }),
      { enableAutoPipelining: true },
    );
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    cluster = await startRedisCluster(3, { replicas: 1, nodeTimeoutMs: 1000 });
    raw = connectCluster();
    clients.length = 0;
  }, 120_000);
  afterAll(async () => {
    raw?.disconnect();
    await cluster?.stop();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((m) => m.close()));
    for (const c of clients.splice(0)) c.disconnect();
  });

  /** A manager on a Cluster connection of its own, with `cache` (none if undefined). */
  function manager(prefix: string, cache: CacheOptions | undefined = { maxKeys: 10_000 }, timeoutMs = 1000): RedisAuthKeyManager {
    const m = new RedisAuthKeyManager({ client: connectCluster(), prefix, timeoutMs, ...(cache ? { cache } : {}) });
    opened.push(m);
    return m;
  }

  /** getKey until the key is cached (a read overtaken by an invalidation does not fill). */
  async function fill(m: RedisAuthKeyManager, key: AuthKey): Promise<void> {
    for (let i = 0; i < 5 && m.peekKey(key.idBytes) === undefined; i++) expect((await m.getKey(key.id)).equals(key)).toBe(true);
    expect(m.peekKey(key.idBytes)?.equals(key), 'cached after at most 5 getKey').toBe(true);
  }

  /**
   * `writer` stores `keys`, then `cached` reads each until it is cached. The fills wait for the
   * writes' invalidations to arrive first: every write is reported by the master and again by its
   * replica (which applies it a little later), and a fill made between the two is dropped by the
   * second, which would make a hit count here uncertain. So the fills wait until every replica
   * holds the keys (its notice is sent as it applies the write, before it answers that it has them).
   */
  async function storeAndFill(cached: RedisAuthKeyManager, writer: RedisAuthKeyManager, keys: AuthKey[], prefix: string): Promise<void> {
    for (const key of keys) await eventually(() => writer.setKey(key));
    await replicated(prefix, keys);
    for (const key of keys) await eventually(() => fill(cached, key));
  }

  /** Waits until each replica holds every key of `keys` that its master holds (replication lags a little). */
  async function replicated(prefix: string, keys: AuthKey[]): Promise<void> {
    for (const { master, replicas } of await cluster.shards()) {
      const held = await heldBy(master, prefix, keys);
      for (const replica of replicas) {
        const direct = new Redis(replica.port, '127.0.0.1');
        direct.on('error', () => undefined);
        try {
          await direct.readonly();
          await waitFor(
            async () => {
              const found = await Promise.all(held.map((k) => direct.exists(prefix + hex(k.idBytes)).catch(() => 0)));
              return found.every((n) => n === 1);
            },
            `replica ${replica.port} to hold the ${held.length} keys its master ${master.port} holds`,
            { everyMs: 5 },
          );
        } finally {
          direct.disconnect();
        }
      }
    }
  }

  /** Runs `op` until it resolves: calls fail with AuthKeyStoreUnavailable while the cluster reroutes. */
  const eventually = <T>(op: () => Promise<T>): Promise<T> => eventuallyAvailable(op, 15_000, 50);

  /** The keys among `keys` that `node` holds as a master (EXISTS answers there instead of MOVED). */
  async function heldBy(node: RedisProcess, prefix: string, keys: AuthKey[]): Promise<AuthKey[]> {
    const direct = new Redis(node.port, '127.0.0.1');
    direct.on('error', () => undefined);
    try {
      const held: AuthKey[] = [];
      for (const key of keys) if ((await direct.exists(prefix + hex(key.idBytes)).catch(() => 0)) === 1) held.push(key);
      return held;
    } finally {
      direct.disconnect();
    }
  }

  /** Deletes each key with `deleter` and waits until `cached` serves none of them, then checks getKey. */
  async function deletedEverywhere(cached: RedisAuthKeyManager, deleter: RedisAuthKeyManager, keys: AuthKey[]): Promise<number> {
    const start = performance.now();
    for (const key of keys) await eventually(() => deleter.delKey(key.id));
    await waitFor(() => keys.every((k) => cached.peekKey(k.idBytes) === undefined), 'every key deleted by another manager to leave the cache', {
      everyMs: 1,
      describe: () => `${keys.filter((k) => cached.peekKey(k.idBytes) !== undefined).length} still served; ${JSON.stringify(cached.cacheStats())}`,
    });
    const ms = performance.now() - start;
    for (const key of keys)
      await rejection(
        eventually(() => cached.getKey(key.id).catch((e: unknown) => Promise.reject(e))),
        AuthKeyDoesNotExist,
      );
    return ms;
  }

  it('tracks every node, masters and replicas: one named tracking connection on each', async () => {
    const m = manager(uniquePrefix());
    await waitLinked(m);
    for (const node of cluster.nodes) {
      const list = await redisCli(node.port, 'client', 'list');
      const tracking = list.split('\n').filter((line) => line.includes('name=mtproto-authkey-invalidation'));
      expect(tracking, `node ${node.port}`).toHaveLength(1);
      expect(tracking[0]).toMatch(/flags=\S*t/);
    }
  });

  it('hits skip Redis: after one fill per key, 100 lookups of each of 30 keys (spread over the masters) run no GET', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [manager(prefix), manager(prefix, undefined)];
    await waitLinked(a);
    const keys = Array.from({ length: 30 }, randomKey);
    await storeAndFill(a, b, keys, prefix);
    const before = await commandCalls(raw);
    for (let i = 0; i < 100; i++) {
      for (const key of keys) {
        const got = i % 2 === 0 ? a.peekKey(key.idBytes) : await a.getKey(key.id);
        expect(got?.equals(key), `lookup ${i}: ${JSON.stringify(a.cacheStats())}`).toBe(true);
      }
    }
    expect(callsOf('get', before, await commandCalls(raw))).toBe(0);
  });

  it('a delKey by another manager on any master reaches the cache', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [manager(prefix), manager(prefix, undefined)];
    await waitLinked(a);
    const keys = Array.from({ length: 30 }, randomKey);
    await storeAndFill(a, b, keys, prefix);
    await deletedEverywhere(a, b, keys);
  });

  it('FLUSHALL on one master: none of its keys is served afterwards', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [manager(prefix), manager(prefix, undefined)];
    await waitLinked(a);
    const keys = Array.from({ length: 30 }, randomKey);
    await storeAndFill(a, b, keys, prefix);
    const { master } = (await cluster.shards())[0];
    const held = await heldBy(master, prefix, keys);
    expect(held.length).toBeGreaterThan(0);
    const flushes = a.cacheStats().flushes;
    await redisCli(master.port, 'FLUSHALL');
    await waitFor(() => held.every((k) => a.peekKey(k.idBytes) === undefined), "the flushed master's keys to leave the cache", { everyMs: 1 });
    expect(a.cacheStats().flushes).toBeGreaterThan(flushes);
    for (const key of held) await rejection(a.getKey(key.id), AuthKeyDoesNotExist);
  });

  describe('failover', () => {
    it('CLUSTER FAILOVER: afterwards a key deleted on the new master by another manager is never served; the cache is linked and fills', async () => {
      const prefix = uniquePrefix();
      const [a, b] = [manager(prefix), manager(prefix, undefined)];
      await waitLinked(a);
      const keys = Array.from({ length: 30 }, randomKey);
      await storeAndFill(a, b, keys, prefix);
      const shard = (await cluster.shards())[0];
      const replica = shard.replicas[0];
      const start = performance.now();
      await cluster.failover(replica);
      const failedOver = performance.now() - start;
      const relinked = await waitLinked(a, 20_000);
      const held = await heldBy(replica, prefix, keys);
      expect(held.length, 'keys on the promoted node').toBeGreaterThan(0);
      // Whatever the cache still holds must follow deletes on the new master.
      const ms = await deletedEverywhere(a, b, held);
      console.log(
        `CLUSTER FAILOVER took ${failedOver.toFixed(0)} ms, linked ${relinked.toFixed(0)} ms after; ${held.length} keys deleted on the new master left the cache in ${ms.toFixed(1)} ms`,
      );
      // And the cache keeps working: a new key on the new master fills, is served, and is dropped on delete.
      const rest = keys.filter((k) => !held.includes(k));
      for (const key of rest) expect((await eventually(() => a.getKey(key.id))).equals(key)).toBe(true);
      const fresh = Array.from({ length: 10 }, randomKey);
      await storeAndFill(a, b, fresh, prefix);
      await deletedEverywhere(a, b, fresh);
    }, 60_000);

    it('a master killed (SIGKILL) and replaced by its replica: the cache empties, re-links, and never serves a key deleted on the new master', async () => {
      const prefix = uniquePrefix();
      const [a, b] = [manager(prefix), manager(prefix, undefined)];
      await waitLinked(a);
      const keys = Array.from({ length: 30 }, randomKey);
      await storeAndFill(a, b, keys, prefix);
      const shard = (await cluster.shards()).find((s) => s.replicas.length > 0)!;
      const before = await heldBy(shard.master, prefix, keys);
      expect(before.length).toBeGreaterThan(0);
      let sawUnlinked = false;
      const watch = setInterval(() => {
        if (!a.cacheStats().linked) sawUnlinked = true;
      }, 1);
      const start = performance.now();
      let promoted: RedisProcess;
      try {
        promoted = await cluster.killMaster(shard.master);
      } finally {
        clearInterval(watch);
      }
      const failedOver = performance.now() - start;
      const relinked = await waitLinked(a, 30_000);
      console.log(
        `master killed: replica promoted after ${failedOver.toFixed(0)} ms, cache linked ${relinked.toFixed(0)} ms after that; link seen down meanwhile: ${sawUnlinked}, keys still cached: ${keys.filter((k) => a.peekKey(k.idBytes) !== undefined).length} of ${keys.length}`,
      );
      const held = await heldBy(promoted, prefix, keys);
      expect(held.map((k) => k.id).sort()).toEqual(before.map((k) => k.id).sort());
      for (const key of held) await eventually(() => fill(a, key));
      await deletedEverywhere(a, b, held);

      // The killed node comes back as a replica: the cache links again and keeps following deletes.
      await cluster.restart(shard.master);
      await waitLinked(a, 30_000);
      const rest = keys.filter((k) => !held.includes(k));
      for (const key of rest) await eventually(() => fill(a, key));
      await deletedEverywhere(a, b, rest);
    }, 90_000);

    it('a master killed before it replicated a new key: the promoted replica lacks it, and the cache must not keep serving it', async () => {
      const prefix = uniquePrefix();
      const [a, b] = [manager(prefix), manager(prefix, undefined)];
      await waitLinked(a);
      const shard = (await cluster.shards()).find((s) => s.replicas.length > 0)!;
      const [master, replica] = [shard.master, shard.replicas[0]];
      const toMaster = new Redis(master.port, '127.0.0.1');
      const toReplica = new Redis(replica.port, '127.0.0.1');
      for (const c of [toMaster, toReplica]) c.on('error', () => undefined);
      await toReplica.readonly();
      // A key in the master's slots (EXISTS answers there instead of MOVED).
      let key = randomKey();
      while ((await toMaster.exists(prefix + hex(key.idBytes)).catch(() => -1)) !== 0) key = randomKey();
      // The replica stopped (SIGSTOP) and its link closed by the master: the next write reaches
      // only the master's backlog. The master dies before the replica is back (SIGCONT), so the
      // replica, promoted, never has the key. The stop lasts well under cluster-node-timeout.
      process.kill(replica.pid, 'SIGSTOP');
      let promoted: RedisProcess;
      try {
        await toMaster.call('CLIENT', 'KILL', 'TYPE', 'replica');
        await b.setKey(key);
        await fill(a, key);
        promoted = await cluster.killMaster(master, async () => {
          process.kill(replica.pid, 'SIGCONT');
        });
      } finally {
        process.kill(replica.pid, 'SIGCONT');
        toMaster.disconnect();
      }
      expect(promoted.port).toBe(replica.port);
      expect(await toReplica.exists(prefix + hex(key.idBytes)), 'the promoted replica lacks the key').toBe(0);
      toReplica.disconnect();
      // Redis's truth now: the key is gone (the write died with its master).
      expect(await eventually(() => b.hasKey(key))).toBe(false);
      await rejection(
        eventually(() => b.delKey(key.id)),
        AuthKeyDoesNotExist,
      );
      await waitLinked(a, 30_000);
      expect(a.peekKey(key.idBytes), 'peekKey serves a key Redis no longer has').toBeUndefined();
      await rejection(
        eventually(() => a.getKey(key.id)),
        AuthKeyDoesNotExist,
      );
      // Bring the node back (as a replica) for whatever runs next.
      await cluster.restart(master);
    }, 90_000);
  });
});
