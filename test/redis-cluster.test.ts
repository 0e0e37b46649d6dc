import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';
import { describeManagerConformance } from './conformance.ts';
import { clusterNodes, openStore } from './redis-helpers.ts';

// verifiesIds: getKey hashes the stored bytes again, so a stored forged collision reads as corrupted.
const capabilities = { expiry: true, verifiesIds: true };
const encryption = { secrets: { 1: randomBytes(32) }, current: 1 };

describe.skipIf(!clusterNodes)('Redis Cluster', () => {
  describeManagerConformance('RedisAuthKeyManager (Redis Cluster, 3 masters)', () => openStore('cluster'), capabilities);
  describeManagerConformance(
    'RedisAuthKeyManager (Redis Cluster, 3 masters, auto-pipelined client, AES-256-GCM at rest)',
    () => openStore('cluster', { encryption }, 3, { enableAutoPipelining: true }),
    capabilities,
  );
  // The near cache, tracking every node; the store opens once every cache is linked.
  describeManagerConformance(
    'RedisAuthKeyManager (Redis Cluster, 3 masters, near cache)',
    () => openStore('cluster', { cache: { maxKeys: 10_000 } }, 3, { enableAutoPipelining: true }),
    capabilities,
  );
});
