/**
 * Auth keys in a Redis Cluster, with at-rest encryption. Needs a Redis 7 cluster:
 *   REDIS_CLUSTER_NODES=127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 npx tsx examples/redis-cluster.ts
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import { AuthKey } from 'mtproto-authkey';
import { RedisAuthKeyManager } from 'mtproto-authkey/redis';

const nodes = (process.env.REDIS_CLUSTER_NODES ?? '127.0.0.1:7000').split(',').map((address) => {
  const [host, port] = address.trim().split(':');
  return { host, port: Number(port) };
});

// The application owns the cluster client (and may share it); the manager never closes it.
// Auto-pipelining writes the calls made in one event-loop turn together, per node: several times
// the throughput with many calls in flight (https://github.com/redis/ioredis#autopipelining).
const cluster = new Cluster(nodes, { enableAutoPipelining: true });
cluster.on('error', (error) => console.error(`redis cluster: ${error.message}`));

// Secrets by version, 32 bytes each, from your secret store. To rotate, add version 2 and make it
// current; values sealed with version 1 keep opening until they are rewritten.
const secretV1 = randomBytes(32);
const manager = new RedisAuthKeyManager({
  client: cluster,
  prefix: 'example:authkey:',
  encryption: { secrets: { 1: secretV1 }, current: 1 },
});

try {
  // Keys spread over the cluster's slots: each id is its own Redis key.
  const keys = Array.from({ length: 10 }, () => new AuthKey(randomBytes(256)));
  await Promise.all(keys.map((k) => manager.setKey(k)));
  for (const k of keys) assert.ok((await manager.getKey(k.id)).equals(k));

  // Rotation: a manager with both secrets reads version 1 values and seals new ones with 2.
  const rotated = new RedisAuthKeyManager({
    client: cluster,
    prefix: 'example:authkey:',
    encryption: { secrets: { 1: secretV1, 2: randomBytes(32) }, current: 2 },
  });
  assert.ok((await rotated.getKey(keys[0].idBytes)).equals(keys[0]));

  await Promise.all(keys.map((k) => manager.delKey(k)));
  console.log(`stored, read back and removed ${keys.length} sealed keys on ${nodes.length} seed node(s)`);
} finally {
  await cluster.quit();
}
