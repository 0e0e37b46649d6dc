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
  describeManagerConformance('RedisAuthKeyManager (standalone, auto-pipelined client)', () => openStore('standalone', {}, 3, { enableAutoPipelining: true }), capabilities);
});
