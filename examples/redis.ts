/**
 * Auth keys in Redis, shared by every gateway node. Needs a Redis 7 server:
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/redis.ts
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AuthKey, AuthKeyDoesNotExist } from 'mtproto-authkey';
import { AuthKeyStoreUnavailable, RedisAuthKeyManager } from 'mtproto-authkey/redis';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

// The manager opens its own connection from the URL and ends it in close(). Any method that cannot
// reach Redis within timeoutMs rejects with AuthKeyStoreUnavailable instead of hanging.
const manager = new RedisAuthKeyManager({ url, prefix: 'example:authkey:', timeoutMs: 2000 });

/** The key for an incoming packet: undefined for an unknown id (the client must redo the handshake). */
async function keyForPacket(packet: Uint8Array): Promise<AuthKey | undefined> {
  try {
    return await manager.getKey(packet.subarray(0, 8));
  } catch (error) {
    if (error instanceof AuthKeyDoesNotExist) return undefined;
    // AuthKeyStoreUnavailable (Redis down or slow) and AuthKeyCorrupted (a damaged value) are
    // not the client's fault: drop the packet and let the client retry.
    if (error instanceof AuthKeyStoreUnavailable) console.error(error.message);
    throw error;
  }
}

try {
  // A key as the Diffie-Hellman handshake produces it (random bytes here).
  const authKey = new AuthKey(randomBytes(256));
  await manager.setKey(authKey);
  await manager.setKey(authKey); // storing it again is a no-op; a different key under its id is an AuthKeyCollision

  // Any node finds it by the 8 id bytes at the start of an encrypted packet.
  const packet = new Uint8Array(72);
  packet.set(authKey.idBytes, 0);
  const found = await keyForPacket(packet);
  assert.ok(found?.equals(authKey));
  assert.equal(await manager.hasKey(authKey.id), true);

  // A temporary key (perfect forward secrecy) expires in Redis by itself.
  const tempKey = new AuthKey(randomBytes(256));
  await manager.setKey(tempKey, { expiresAt: Date.now() + 24 * 3600 * 1000 });

  await manager.delKey(authKey);
  await manager.delKey(tempKey.id);
  assert.equal(await keyForPacket(packet), undefined);
  console.log(`stored, found and removed ${found} in Redis at ${new URL(url).host}`);
} finally {
  await manager.close();
}
