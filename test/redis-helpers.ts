/** Connections and stores for the Redis suites; the servers come from test/setup/redis.ts. */
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { inject } from 'vitest';
import { RedisAuthKeyManager, type RedisAuthKeyManagerCommonOptions } from '../src/redis.ts';
import type { ConformanceStore } from './conformance.ts';

export type Topology = 'standalone' | 'cluster';

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
      // One DEL per name: in a cluster, names of one node still live in different slots.
      for (const name of names) await server.del(name);
    } while (cursor !== '0');
  }
}

/**
 * A conformance store: `count` managers on separate connections (made with `clientOptions`)
 * sharing a fresh prefix; `close` removes the keys and quits the connections.
 */
export async function openStore(
  topology: Topology,
  options: RedisAuthKeyManagerCommonOptions = {},
  count = 3,
  clientOptions: { enableAutoPipelining?: boolean } = {},
): Promise<ConformanceStore> {
  const prefix = uniquePrefix();
  const clients = Array.from({ length: count }, () => connect(topology, clientOptions));
  return {
    managers: clients.map((client) => new RedisAuthKeyManager({ ...options, client, prefix })),
    close: async () => {
      await dropPrefix(clients[0], prefix);
      await Promise.all(clients.map((c) => c.quit()));
    },
  };
}
