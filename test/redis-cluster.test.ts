import { describe } from 'vitest';
import { describeManagerConformance } from './conformance.ts';
import { clusterNodes, openStore } from './redis-helpers.ts';

// verifiesIds: getKey hashes the stored bytes again, so a stored forged collision reads as corrupted.
const capabilities = { expiry: true, verifiesIds: true };

describe.skipIf(!clusterNodes)('Redis Cluster', () => {
  describeManagerConformance('RedisAuthKeyManager (Redis Cluster, 3 masters)', () => openStore('cluster'), capabilities);
});
