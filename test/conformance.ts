/**
 * The conformance suite every auth key manager passes: memory, Redis standalone, Redis Cluster,
 * and any later backend. Each backend calls `describeManagerConformance` from one small file.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthKey, AuthKeyCollision, AuthKeyCorrupted, AuthKeyDoesNotExist, type AuthKeyManagerProtocol } from '../src/index.ts';
import { forgeCollision, randomKey, rejection, seededBytes } from './helpers.ts';

/** One fresh, empty store and the managers connected to it. */
export interface ConformanceStore {
  /**
   * Managers sharing the store. The first serves most tests; the others act as other gateway
   * nodes in the concurrency tests (for an in-process store, the same manager may repeat).
   */
  managers: AuthKeyManagerProtocol[];
  /** Ends whatever `open` started; the store may be left as is. */
  close(): Promise<void>;
  /**
   * The managers' clock, where the test can move it (an injected `now`): the expiry tests then
   * check the edge to the millisecond and never sleep. Without it they run on the real clock.
   */
  clock?: { now(): number; advance(ms: number): Promise<void> };
}

/** What a backend supports beyond the protocol. */
export interface Capabilities {
  /** `setKey(key, { expiresAt })`. */
  expiry: boolean;
  /**
   * `getKey` hashes the stored bytes again and rejects with AuthKeyCorrupted when they do not give
   * the id asked for (as the Redis manager does). The forged collisions of these tests are such
   * keys, so for these managers a forged key that was stored reads back as corrupted, and
   * setKey of another key under its id rejects with AuthKeyCorrupted rather than AuthKeyCollision.
   */
  verifiesIds?: boolean;
}

/**
 * Lifetime of keys the expiry tests assert are still there: an hour, so no slow or busy machine
 * (Redis Cluster under load, a paused CI runner) reaches expiresAt before the assertions run.
 */
const ALIVE_MS = 3_600_000;
/** Lifetime of keys the expiry tests wait out. Set only after every assertion about live keys. */
const SHORT_MS = 200;
/** How long to wait for a short-lived key to be gone: far above SHORT_MS, so a busy machine only makes the wait longer, never the test fail. */
const EXPIRY_BOUND_MS = 20_000;

/**
 * Polls `hasKey` of every key until none is found, instead of sleeping a fixed margin past
 * expiresAt: how long that takes depends on the machine and, for Redis, on its expiry cycle.
 * Throws, naming the keys still found, once EXPIRY_BOUND_MS is over.
 */
async function untilExpired(m: AuthKeyManagerProtocol, keys: AuthKey[]): Promise<void> {
  const start = performance.now();
  for (;;) {
    const found = [];
    for (const key of keys) if (await m.hasKey(key.id)) found.push(key);
    if (found.length === 0) return;
    if (performance.now() - start > EXPIRY_BOUND_MS) {
      throw new Error(`${found.length} of ${keys.length} keys still found ${EXPIRY_BOUND_MS} ms after being set to expire in ${SHORT_MS} ms`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Asserts that every key of `stored` is there, unchanged, and every id of `absent` is not. */
async function expectStore(m: AuthKeyManagerProtocol, stored: AuthKey[], absent: AuthKey[] = []): Promise<void> {
  for (const key of stored) {
    expect(await m.hasKey(key.id)).toBe(true);
    expect((await m.getKey(key.idBytes)).equals(key)).toBe(true);
  }
  for (const key of absent) expect(await m.hasKey(key.id)).toBe(false);
}

/**
 * Asserts that `holder` is the key stored under the id it shares with `rivals`: setKey of it is a
 * no-op and of every rival a collision; getKey gives it back, unless it is a forged collision
 * (bytes that hash to another id) and the manager verifies ids, which must then refuse it.
 */
async function expectHolder(m: AuthKeyManagerProtocol, holder: AuthKey, rivals: AuthKey[], caps: Capabilities): Promise<void> {
  await m.setKey(holder);
  for (const rival of rivals) if (rival !== holder) await rejection(m.setKey(rival), rivalError(holder, caps));
  if (storedAsCorrupted(holder, caps)) await rejection(m.getKey(holder.id), AuthKeyCorrupted);
  else expect((await m.getKey(holder.id)).equals(holder)).toBe(true);
}

/** Whether `holder`, once stored, is a corrupted value to this manager: a forged key whose bytes hash to another id, and a manager that verifies ids. */
function storedAsCorrupted(holder: AuthKey, caps: Capabilities): boolean {
  return caps.verifiesIds === true && new AuthKey(holder.bytes).id !== holder.id;
}

/** What setKey of a rival rejects with while `holder` is stored: AuthKeyCollision, or AuthKeyCorrupted if the stored value is not a valid key for its id. */
function rivalError(holder: AuthKey, caps: Capabilities): new (...args: never[]) => AuthKeyCollision | AuthKeyCorrupted {
  return storedAsCorrupted(holder, caps) ? AuthKeyCorrupted : AuthKeyCollision;
}

export function describeManagerConformance(name: string, open: () => Promise<ConformanceStore>, caps: Capabilities): void {
  describe(`${name}: AuthKeyManagerProtocol conformance`, () => {
    let store: ConformanceStore;
    let m: AuthKeyManagerProtocol;

    beforeEach(async () => {
      store = await open();
      m = store.managers[0];
    });
    afterEach(async () => {
      await store.close();
    });

    describe("mtpylon's AuthKeyManager semantics (mtpylon.readthedocs.io)", () => {
      it('setKey with an AuthKey, then getKey by id gives the same key, value, hash, id and auxHash', async () => {
        const key = randomKey();
        await m.setKey(key);
        const got = await m.getKey(key.id);
        expect(got).toBeInstanceOf(AuthKey);
        expect(got.id).toBe(key.id);
        expect(got.value).toBe(key.value);
        expect(got.hash).toBe(key.hash);
        expect(got.auxHash).toBe(key.auxHash);
        expect(got.equals(key)).toBe(true);
      });

      it('setKey accepts the key as a 2048-bit integer', async () => {
        const key = randomKey();
        await m.setKey(key.value);
        const got = await m.getKey(key.id);
        expect(got.value).toBe(key.value);
        expect(got.id).toBe(key.id);
      });

      it('hasKey by AuthKey or by id: true for a stored key, false for an unknown one', async () => {
        const key = randomKey();
        const other = randomKey();
        await m.setKey(key);
        for (const form of [key, key.id, key.idBytes]) expect(await m.hasKey(form)).toBe(true);
        for (const form of [other, other.id, other.idBytes]) expect(await m.hasKey(form)).toBe(false);
      });

      it('getKey of an unknown id rejects with AuthKeyDoesNotExist naming the id', async () => {
        const key = randomKey();
        const error = await rejection(m.getKey(key.id), AuthKeyDoesNotExist);
        expect(error.name).toBe('AuthKeyDoesNotExist');
        expect(error.authKeyId).toBe(key.id);
        await rejection(m.getKey(key.idBytes), AuthKeyDoesNotExist);
      });

      it('delKey by AuthKey, by bigint id and by id bytes removes the key', async () => {
        for (const form of [(k: AuthKey) => k, (k: AuthKey) => k.id, (k: AuthKey) => k.idBytes]) {
          const key = randomKey();
          const keep = randomKey();
          await m.setKey(key);
          await m.setKey(keep);
          await m.delKey(form(key));
          expect(await m.hasKey(key)).toBe(false);
          await rejection(m.getKey(key.id), AuthKeyDoesNotExist);
          await expectStore(m, [keep]);
        }
      });

      it('delKey of an unknown id rejects with AuthKeyDoesNotExist, also after a delete', async () => {
        const key = randomKey();
        await rejection(m.delKey(key), AuthKeyDoesNotExist);
        await rejection(m.delKey(key.id), AuthKeyDoesNotExist);
        await rejection(m.delKey(key.idBytes), AuthKeyDoesNotExist);
        await m.setKey(key);
        await m.delKey(key.id);
        await rejection(m.delKey(key.id), AuthKeyDoesNotExist);
      });

      it('all methods return promises', async () => {
        const key = randomKey();
        const calls = [m.setKey(key), m.hasKey(key), m.getKey(key.id), m.delKey(key)];
        for (const c of calls) expect(c).toBeInstanceOf(Promise);
        await Promise.allSettled(calls);
      });
    });

    describe('ids in every form give the same result', () => {
      it('AuthKey, bigint id and id bytes agree for hasKey and getKey', async () => {
        const keys = Array.from({ length: 5 }, randomKey);
        for (const k of keys.slice(0, 3)) await m.setKey(k);
        for (const [i, k] of keys.entries()) {
          const has = await Promise.all([m.hasKey(k), m.hasKey(k.id), m.hasKey(k.idBytes), m.hasKey(Buffer.from(k.idBytes))]);
          expect(has).toEqual([i < 3, i < 3, i < 3, i < 3]);
          if (i < 3) {
            for (const form of [k.id, k.idBytes, k]) expect((await m.getKey(form)).equals(k)).toBe(true);
          }
        }
      });

      it('a key whose id has leading zero bytes and one that is small round-trip', async () => {
        const small = new AuthKey(0x32234234n);
        const leading = new AuthKey(new Uint8Array(256).fill(0, 0, 10).fill(7, 10));
        for (const k of [small, leading]) {
          await m.setKey(k);
          const got = await m.getKey(k.idBytes);
          expect(got.value).toBe(k.value);
          expect(got.bytes).toEqual(k.bytes);
        }
      });
    });

    describe('setKey of a stored key and collisions', () => {
      it('setKey of a key already stored is a no-op (as AuthKey or as bigint)', async () => {
        const key = randomKey();
        await m.setKey(key);
        await m.setKey(key);
        await m.setKey(new AuthKey(key.bytes));
        await m.setKey(key.value);
        await expectStore(m, [key]);
        await m.delKey(key);
        expect(await m.hasKey(key)).toBe(false);
      });

      it('setKey of a different key under a taken id rejects with AuthKeyCollision and keeps the stored key', async () => {
        const key = randomKey();
        const forged = forgeCollision(key);
        expect(forged.id).toBe(key.id);
        expect(forged.equals(key)).toBe(false);
        await m.setKey(key);
        const error = await rejection(m.setKey(forged), AuthKeyCollision);
        expect(error.name).toBe('AuthKeyCollision');
        expect(error.authKeyId).toBe(key.id);
        await expectStore(m, [key]);
        // Nor the other way round.
        await m.delKey(key);
        await m.setKey(forged);
        await rejection(m.setKey(key), rivalError(forged, caps));
        await expectHolder(m, forged, [key], caps);
      });
    });

    describe('bad input changes nothing', () => {
      const keep = randomKey();
      const absent = randomKey();
      const badIds: Array<[string, unknown, typeof TypeError | typeof RangeError]> = [
        ['null', null, TypeError],
        ['undefined', undefined, TypeError],
        ['a number', 12345, TypeError],
        ['a string', '0x1234', TypeError],
        ['an object', {}, TypeError],
        ['an Array', [1, 2, 3, 4, 5, 6, 7, 8], TypeError],
        ['an ArrayBuffer', new ArrayBuffer(8), TypeError],
        ['a Uint16Array', new Uint16Array(4), TypeError],
        ['a negative bigint', -1n, RangeError],
        ['2**64', 1n << 64n, RangeError],
        ['7 id bytes', new Uint8Array(7), RangeError],
        ['9 id bytes', new Uint8Array(9), RangeError],
      ];
      const badKeys: Array<[string, unknown, typeof TypeError | typeof RangeError]> = [
        ['null', null, TypeError],
        ['a number', 5, TypeError],
        ['a string', 'key', TypeError],
        ['256 bytes (pass an AuthKey)', seededBytes(256, 1), TypeError],
        ['0n', 0n, RangeError],
        ['-1n', -1n, RangeError],
        ['2**2048', 1n << 2048n, RangeError],
      ];

      for (const method of ['hasKey', 'getKey', 'delKey'] as const) {
        it.each(badIds)(`${method}(%s) rejects and changes nothing`, async (_label, value, type) => {
          await m.setKey(keep);
          await rejection((m[method] as (v: unknown) => Promise<unknown>)(value), type);
          await expectStore(m, [keep], [absent]);
        });
      }

      it('a number id is refused with a message about precision', async () => {
        const error = await rejection(m.getKey(123 as never), TypeError);
        expect(error.message).toMatch(/number.*loses precision.*123n/);
      });

      it.each(badKeys)('setKey(%s) rejects and changes nothing', async (_label, value, type) => {
        await m.setKey(keep);
        await rejection(m.setKey(value as never), type);
        await expectStore(m, [keep], [absent]);
      });

      if (caps.expiry) {
        const badOptions: Array<[string, unknown, typeof TypeError | typeof RangeError]> = [
          ['options null', null, TypeError],
          ['options a number', 5, TypeError],
          ['expiresAt a string', { expiresAt: '2030-01-01' }, TypeError],
          ['expiresAt a bigint', { expiresAt: 10n }, TypeError],
          ['expiresAt NaN', { expiresAt: Number.NaN }, RangeError],
          ['expiresAt Infinity', { expiresAt: Number.POSITIVE_INFINITY }, RangeError],
          ['expiresAt an invalid Date', { expiresAt: new Date('nope') }, RangeError],
          ['expiresAt 0', { expiresAt: 0 }, RangeError],
        ];
        it.each(badOptions)('setKey(key, %s) rejects and stores nothing', async (_label, options, type) => {
          await m.setKey(keep);
          await rejection(m.setKey(absent, options as never), type);
          await expectStore(m, [keep], [absent]);
        });
      }
    });

    if (caps.expiry) {
      describe('expiring keys', () => {
        it('a key is found until expiresAt and not after; keys without expiresAt stay', async () => {
          const clock = store.clock;
          const temp = randomKey();
          const tempDate = randomKey();
          const perm = randomKey();
          if (clock) {
            // A clock the test moves: the edge itself, found 1 ms before expiresAt and gone at it.
            const now = clock.now();
            const later = randomKey();
            await m.setKey(temp, { expiresAt: now + 400 });
            await m.setKey(tempDate, { expiresAt: new Date(now + 400) });
            await m.setKey(later, { expiresAt: now + ALIVE_MS });
            await m.setKey(perm);
            await clock.advance(399);
            await expectStore(m, [temp, tempDate, later, perm]);
            await clock.advance(1);
            for (const k of [temp, tempDate]) {
              expect(await m.hasKey(k)).toBe(false);
              await rejection(m.getKey(k.id), AuthKeyDoesNotExist);
              await rejection(m.delKey(k.id), AuthKeyDoesNotExist);
            }
            await expectStore(m, [later, perm]);
            return;
          }
          // The real clock: the keys asserted to be there live for an hour, and the keys waited out
          // get their short lifetime only after those assertions, so no step depends on how fast
          // the machine is.
          await m.setKey(temp, { expiresAt: Date.now() + ALIVE_MS });
          await m.setKey(tempDate, { expiresAt: new Date(Date.now() + ALIVE_MS) });
          await m.setKey(perm);
          await expectStore(m, [temp, tempDate, perm]);
          // The same two forms of expiresAt, now short: these keys go, the others stay.
          const short = randomKey();
          const shortDate = randomKey();
          await m.setKey(short, { expiresAt: Date.now() + SHORT_MS });
          await m.setKey(shortDate, { expiresAt: new Date(Date.now() + SHORT_MS) });
          await untilExpired(m, [short, shortDate]);
          for (const k of [short, shortDate]) {
            expect(await m.hasKey(k)).toBe(false);
            await rejection(m.getKey(k.id), AuthKeyDoesNotExist);
            await rejection(m.delKey(k.id), AuthKeyDoesNotExist);
          }
          await expectStore(m, [temp, tempDate, perm]);
        });

        it('a key set with an expiresAt already past is not found', async () => {
          const key = randomKey();
          await m.setKey(key, { expiresAt: Date.now() - 1000 });
          expect(await m.hasKey(key)).toBe(false);
          await rejection(m.getKey(key.id), AuthKeyDoesNotExist);
        });

        it('an expiring key holds its id while alive; once it expired, its id is free for another key', async () => {
          const clock = store.clock;
          const key = randomKey();
          const forged = forgeCollision(key, 2);
          if (clock) {
            // A clock the test moves: the id is held 1 ms before expiresAt and free at it.
            await m.setKey(key, { expiresAt: clock.now() + 300 });
            await clock.advance(299);
            await rejection(m.setKey(forged), AuthKeyCollision);
            await clock.advance(1);
          } else {
            // While alive: a rival under the id of an expiring key collides (an hour left, so the
            // key is certainly alive at the check).
            const alive = randomKey();
            await m.setKey(alive, { expiresAt: Date.now() + ALIVE_MS });
            await rejection(m.setKey(forgeCollision(alive, 2)), AuthKeyCollision);
            await expectStore(m, [alive]);
            // Once expired: a rival under its id is stored and is then the holder.
            await m.setKey(key, { expiresAt: Date.now() + SHORT_MS });
            await untilExpired(m, [key]);
          }
          await m.setKey(forged);
          await expectHolder(m, forged, [key], caps);
        });
      });
    }

    describe('concurrency across clients', () => {
      it('hundreds of interleaved setKey/delKey/getKey on overlapping ids end in the expected state', async () => {
        const clients = store.managers;
        const pool = Array.from({ length: 24 }, randomKey);
        // Each key gets its own chain of operations, run in order; chains of different keys run at
        // once, spread over the clients, so operations on overlapping ids interleave in the store.
        const expected = new Map<AuthKey, boolean>();
        const chains = pool.map(async (key, i) => {
          let present = false;
          for (let step = 0; step < 14; step++) {
            const client = clients[(i + step) % clients.length];
            const op = (i * 7 + step * 3) % 5;
            if (op === 0 || op === 3) {
              await client.setKey(key);
              present = true;
            } else if (op === 1) {
              if (present) await client.delKey(key.idBytes);
              else await rejection(client.delKey(key.idBytes), AuthKeyDoesNotExist);
              present = false;
            } else if (op === 2) {
              if (present) expect((await client.getKey(key.id)).equals(key)).toBe(true);
              else await rejection(client.getKey(key.id), AuthKeyDoesNotExist);
            } else {
              expect(await client.hasKey(key)).toBe(present);
            }
          }
          expected.set(key, present);
        });
        await Promise.all(chains);
        for (const [key, present] of expected) {
          for (const client of clients) expect(await client.hasKey(key.id), `${key} on every client`).toBe(present);
        }
      });

      it('racing setKey of one key from every client: all succeed, one key stored', async () => {
        const key = randomKey();
        const results = await Promise.allSettled(store.managers.flatMap((c) => [c.setKey(key), c.setKey(key.value)]));
        expect(results.map((r) => r.status)).toEqual(results.map(() => 'fulfilled'));
        await expectStore(m, [key]);
      });

      it('racing setKey of colliding keys: exactly one wins, the others get AuthKeyCollision', async () => {
        const key = randomKey();
        const rivals = [key, ...Array.from({ length: 5 }, (_, i) => forgeCollision(key, 10 + i))];
        const results = await Promise.allSettled(rivals.map((k, i) => store.managers[i % store.managers.length].setKey(k)));
        const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [rivals[i]] : []));
        expect(won).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(rivalError(won[0], caps));
        for (const c of store.managers) await expectHolder(c, won[0], rivals, caps);
      });

      it('racing delKey of one key: exactly one succeeds, the others get AuthKeyDoesNotExist', async () => {
        const key = randomKey();
        await m.setKey(key);
        const results = await Promise.allSettled(store.managers.flatMap((c) => [c.delKey(key), c.delKey(key.id)]));
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(AuthKeyDoesNotExist);
        expect(await m.hasKey(key)).toBe(false);
      });
    });
  });
}
