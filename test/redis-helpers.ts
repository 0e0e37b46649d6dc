/** Connections and stores for the Redis suites; the servers come from test/setup/redis.ts. */
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { inject } from 'vitest';
import { AuthKeyStoreUnavailable, RedisAuthKeyManager, type RedisAuthKeyManagerCommonOptions, type RedisAuthKeyManagerOptions } from '../src/redis.ts';
import type { ConformanceStore } from './conformance.ts';

export type Topology = 'standalone' | 'cluster';

// undefined, not '', when the global setup did not run: under vitest.unit.config.ts (npm run
// test:unit). A file that needs Redis then fails here instead of skipping its tests as passed.
if (inject('redisServerAvailable') === undefined) {
  throw new Error(
    'this test file needs Redis (test/redis-helpers.ts, test/setup/redis.ts): run it with npm test, and list it in vitest.unit.config.ts exclude',
  );
}

export const redisUrl = inject('redisUrl');
export const clusterNodes = inject('redisClusterNodes');
export const redisServerAvailable = inject('redisServerAvailable');

/** A new connection of its own (tests never share one between "gateway nodes"). */
export function connect(topology: Topology, options: { enableAutoPipelining?: boolean } = {}): Redis | Cluster {
  const client =
    topology === 'standalone'
      ? new Redis(redisUrl, options)
      : new Cluster(
          clusterNodes.split(',').map((address) => {
            const [host, port] = address.trim().split(':');
            return { host, port: Number(port) };
          }),
          options,
        );
  // Failures reach the tests as rejected commands; ioredis would log each reconnect otherwise.
  client.on('error', () => undefined);
  return client;
}

/** A prefix no other test uses, so tests never see each other's keys. */
export function uniquePrefix(): string {
  return `authkey-test:${randomUUID()}:`;
}

/** Deletes every key under `prefix` (on every master of a cluster), for servers that outlive the run. */
export async function dropPrefix(client: Redis | Cluster, prefix: string): Promise<void> {
  const servers = client instanceof Cluster ? client.nodes('master') : [client];
  for (const server of servers) {
    let cursor = '0';
    do {
      const [next, names] = await server.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      // One DEL per name (in a cluster, names of one node still live in different slots), all of a
      // page sent together: one round trip each, awaited in turn, took over the hook's 10 s for the
      // tens of thousands of keys a suite leaves on a busy machine.
      await Promise.all(names.map((name) => server.del(name)));
    } while (cursor !== '0');
  }
}

/** The near cache's options (RedisAuthKeyManager's `cache`). */
export interface CacheOptions {
  maxKeys: number;
  negativeTtlMs?: number;
  negativeMaxKeys?: number;
  serveStaleMs?: number;
}

/** Manager options for a store: the common ones, and the near cache. */
export type StoreOptions = RedisAuthKeyManagerCommonOptions & { cache?: CacheOptions };

/**
 * A conformance store: `count` managers on separate connections (made with `clientOptions`)
 * sharing a fresh prefix; with `cache`, it resolves once every manager's cache is linked.
 * `close` closes the managers (a cached one owns its tracking connections), removes the keys and
 * quits the connections.
 */
export async function openStore(
  topology: Topology,
  options: StoreOptions = {},
  count = 3,
  clientOptions: { enableAutoPipelining?: boolean } = {},
): Promise<ConformanceStore> {
  const prefix = uniquePrefix();
  const clients = Array.from({ length: count }, () => connect(topology, clientOptions));
  const managers = clients.map((client) => new RedisAuthKeyManager({ ...options, client, prefix } as RedisAuthKeyManagerOptions));
  const close = async () => {
    await Promise.all(managers.map((m) => m.close()));
    await dropPrefix(clients[0], prefix);
    await Promise.all(clients.map((c) => c.quit()));
  };
  if (options.cache !== undefined) {
    try {
      await Promise.all(managers.map((m) => waitLinked(m)));
    } catch (error) {
      await close();
      throw error;
    }
  }
  return { managers, close };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `condition` every `everyMs` until it returns true; throws after `timeoutMs` with
 * `describe()` (what was seen last) in the message. The default 10 s bounds a hang, not a
 * latency: a busy machine may take long for what is usually milliseconds (report such times).
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  options: { timeoutMs?: number; everyMs?: number; describe?: () => string } = {},
): Promise<number> {
  const { timeoutMs = 10_000, everyMs = 2 } = options;
  const start = performance.now();
  for (;;) {
    if (await condition()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${options.describe ? `; last seen: ${options.describe()}` : ''}`);
    }
    await sleep(everyMs);
  }
}

/**
 * Runs `op` until it resolves, retrying every `everyMs` while it rejects with
 * AuthKeyStoreUnavailable (Redis down, or a Cluster rerouting); any other error, or one after
 * `timeoutMs`, is thrown.
 */
export async function eventually<T>(op: () => Promise<T>, timeoutMs: number, everyMs: number): Promise<T> {
  const start = Date.now();
  for (;;) {
    try {
      return await op();
    } catch (error) {
      if (!(error instanceof AuthKeyStoreUnavailable) || Date.now() - start > timeoutMs) throw error;
      await sleep(everyMs);
    }
  }
}

/** What waitLinked needs of a manager (any object with the cache's stats). */
interface HasCacheStats {
  cacheStats(): { linked: boolean };
}

/** Waits until `manager.cacheStats().linked` is true (tracking armed on every node); returns the ms it took. */
export function waitLinked(manager: HasCacheStats, timeoutMs = 10_000): Promise<number> {
  return waitFor(() => manager.cacheStats().linked, 'cacheStats().linked === true (tracking armed on every node)', {
    timeoutMs,
    describe: () => JSON.stringify(manager.cacheStats()),
  });
}

/**
 * Calls per command that the server(s) ran so far, from `INFO commandstats` (`cmdstat_get:calls=5,…`
 * gives `{ get: 5 }`); for a Cluster, summed over the masters the client knows. Counts are
 * server-wide: use a server no other test file talks to when a delta must be exact.
 */
export async function commandCalls(client: Redis | Cluster): Promise<Record<string, number>> {
  const servers = client instanceof Cluster ? client.nodes('master') : [client];
  const total: Record<string, number> = {};
  for (const server of servers) {
    const text = await server.info('commandstats');
    for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) total[match[1]] = (total[match[1]] ?? 0) + Number(match[2]);
  }
  return total;
}

/** `after - before` for `command` (lowercase, as commandstats names it). */
export function callsOf(command: string, before: Record<string, number>, after: Record<string, number>): number {
  return (after[command] ?? 0) - (before[command] ?? 0);
}
