import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';
import { describeManagerConformance } from './conformance.ts';
import { openStore, redisUrl } from './redis-helpers.ts';

// verifiesIds: getKey hashes the stored bytes again, so a stored forged collision reads as corrupted.
const capabilities = { expiry: true, verifiesIds: true };

describe.skipIf(!redisUrl)('Redis standalone', () => {
  describeManagerConformance('RedisAuthKeyManager (standalone)', () => openStore('standalone'), capabilities);

  // Sealed values: same semantics, and the setKey comparison has to open the stored value first.
  const encryption = { secrets: { 1: randomBytes(32), 2: randomBytes(32) }, current: 2 };
  describeManagerConformance('RedisAuthKeyManager (standalone, AES-256-GCM at rest)', () => openStore('standalone', { encryption }), capabilities);

  // Auto-pipelined caller clients (the recommended setting): calls made in one event-loop turn
  // share a write. ioredis's callBuffer loses the command name there
  // (https://github.com/redis/ioredis/issues/1923); the manager must not depend on it.
  describeManagerConformance(
    'RedisAuthKeyManager (standalone, auto-pipelined client)',
    () => openStore('standalone', {}, 3, { enableAutoPipelining: true }),
    capabilities,
  );

  // The near cache: every manager caches (a second manager's write must reach the others' caches
  // before their next read); the store opens once every cache is linked.
  describeManagerConformance(
    'RedisAuthKeyManager (standalone, near cache)',
    () => openStore('standalone', { cache: { maxKeys: 10_000 } }, 3, { enableAutoPipelining: true }),
    capabilities,
  );
  describeManagerConformance(
    'RedisAuthKeyManager (standalone, near cache of 4 keys, AES-256-GCM at rest)',
    () => openStore('standalone', { encryption, cache: { maxKeys: 4, negativeTtlMs: 60_000 } }),
    capabilities,
  );
});
