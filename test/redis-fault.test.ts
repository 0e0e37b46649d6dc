/**
 * Fault tests against a redis-server this file starts (AOF on, fsync always): Redis is killed in
 * the middle of a run, every method fails with AuthKeyStoreUnavailable (none hangs; times logged), Redis is
 * started again on the same port and dir, the same manager works again, and nothing that was
 * acknowledged before the kill is lost.
 */
import { rm } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthKey } from '../src/index.ts';
import { AuthKeyStoreUnavailable, RedisAuthKeyManager } from '../src/redis.ts';
import { randomKey } from './helpers.ts';
import { eventually, redisServerAvailable, waitFor } from './redis-helpers.ts';
import { type RedisProcess, startRedisServer } from '../support/redis-server.ts';

const TIMEOUT_MS = 1000;
/**
 * The upper bound on each rejection here only catches a hang: a busy machine runs timers late, so
 * a bound near TIMEOUT_MS would be a verdict on the machine. That a call gives up at its deadline
 * is tested on fake timers (the deadline tests); here the times are logged.
 */
const HANG_MS = 15_000;
const PERSISTENT = ['--appendonly', 'yes', '--appendfsync', 'always'];

/** Resolves with the time `promise` took to reject, asserting that it rejects with AuthKeyStoreUnavailable. */
async function unavailableWithin(promise: Promise<unknown>, start: number): Promise<number> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected AuthKeyStoreUnavailable').toBeInstanceOf(AuthKeyStoreUnavailable);
  expect((error as Error).name).toBe('AuthKeyStoreUnavailable');
  return performance.now() - start;
}

describe.skipIf(!redisServerAvailable)('RedisAuthKeyManager when Redis goes down and comes back', () => {
  let server: RedisProcess | undefined;
  let ownClient: Redis | undefined;
  afterEach(async () => {
    ownClient?.disconnect();
    await server?.stop();
    if (server) await rm(server.dir, { recursive: true, force: true });
    server = undefined;
    ownClient = undefined;
  });

  const paths: Array<[string, (url: string) => RedisAuthKeyManager]> = [
    ['a connection the manager owns ({ url })', (url) => new RedisAuthKeyManager({ url, timeoutMs: TIMEOUT_MS })],
    [
      'a caller-owned client with ioredis defaults (offline queue, 20 retries)',
      (url) => {
        ownClient = new Redis(url);
        ownClient.on('error', () => undefined);
        return new RedisAuthKeyManager({ client: ownClient, timeoutMs: TIMEOUT_MS });
      },
    ],
    [
      'a caller-owned client with the recommended settings (auto-pipelining, no offline queue)',
      (url) => {
        ownClient = new Redis(url, { enableAutoPipelining: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
        ownClient.on('error', () => undefined);
        return new RedisAuthKeyManager({ client: ownClient, timeoutMs: TIMEOUT_MS });
      },
    ],
  ];

  it.each(paths)('%s', { timeout: 90_000 }, async (_label, open) => {
    server = await startRedisServer({ args: PERSISTENT });
    const { port, dir } = server;
    const manager = open(server.url);

    const acknowledged: AuthKey[] = [];
    for (let i = 0; i < 20; i++) {
      const key = randomKey();
      await manager.setKey(key);
      acknowledged.push(key);
    }
    const expiring = randomKey();
    await manager.setKey(expiring, { expiresAt: Date.now() + 3_600_000 });
    acknowledged.push(expiring);

    // Writers keep going while Redis is killed under them: each write either is acknowledged
    // (and must survive) or fails with AuthKeyStoreUnavailable; none hangs, none fails otherwise.
    let stop = false;
    const writers = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const key = randomKey();
        try {
          await manager.setKey(key);
          acknowledged.push(key);
        } catch (error) {
          expect(error).toBeInstanceOf(AuthKeyStoreUnavailable);
          return;
        }
      }
    });
    // Killed once writes are flowing (some acknowledged), whatever the machine's speed.
    await waitFor(() => acknowledged.length >= 21 + 8, 'the writers to have some writes acknowledged', { everyMs: 5 });
    await server.kill();
    stop = true;
    await Promise.all(writers);

    // Regression: the delKey below once sat in ioredis's offline queue after it timed out and ran
    // when Redis came back, deleting an acknowledged key. A method refused while Redis is known to
    // be down must not happen later.
    const start = performance.now();
    const key = randomKey();
    const elapsed = await Promise.all([
      unavailableWithin(manager.setKey(key), start),
      unavailableWithin(manager.hasKey(acknowledged[0]), start),
      unavailableWithin(manager.getKey(acknowledged[0].id), start),
      unavailableWithin(manager.delKey(acknowledged[1].idBytes), start),
    ]);
    for (const ms of elapsed) expect(ms).toBeLessThan(HANG_MS);
    // Still down a moment later: still the named error, still bounded (no stuck state).
    const again = performance.now();
    const later = await unavailableWithin(manager.getKey(acknowledged[2].id), again);
    expect(later).toBeLessThan(HANG_MS);
    console.log(`Redis down: rejected after ${elapsed.map((ms) => ms.toFixed(0)).join(', ')} ms, then ${later.toFixed(0)} ms (timeoutMs ${TIMEOUT_MS})`);

    server = await startRedisServer({ port, dir, args: PERSISTENT });
    // The same manager, no restart: it works again once its client has reconnected.
    await eventually(() => manager.hasKey(acknowledged[0]), 15_000, 100);
    expect(acknowledged.length).toBeGreaterThan(21);
    for (const k of acknowledged) expect((await manager.getKey(k.idBytes)).equals(k), `${k} survived`).toBe(true);
    const after = randomKey();
    await manager.setKey(after);
    expect((await manager.getKey(after.id)).equals(after)).toBe(true);
    await manager.delKey(after);
    await manager.close();
  });
});
