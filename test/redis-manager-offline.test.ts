/**
 * What the Redis manager does without a server: option checks, argument checks, deadlines, a client
 * that reconnects, close(). The client is a duck-typed fake and time is vitest's fake clock (timers,
 * Date and performance.now), so the deadlines are checked to the millisecond and no test waits for
 * real time: a busy machine cannot change an outcome.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuthKeyStoreUnavailable, RedisAuthKeyManager, type RedisAuthKeyManagerOptions } from '../src/redis.ts';
import { hex, randomKey, rejection } from './helpers.ts';

const secret = () => new Uint8Array(randomBytes(32));

/** What `promise` has settled with so far: 'pending' until then (it never rejects, so nothing goes unhandled). */
function outcome(promise: Promise<unknown>): { readonly now: unknown } {
  const seen = { now: 'pending' as unknown };
  promise.then(
    (value) => (seen.now = { value }),
    (error: unknown) => (seen.now = error),
  );
  return seen;
}

/**
 * A duck-typed client that records commands and answers with `reply` (never, if it returns a
 * promise that never settles): for what must happen without a server.
 */
function fakeClient(reply: (command: string, args: unknown[]) => Promise<unknown>) {
  const calls: string[] = [];
  const method =
    (command: string) =>
    (...args: unknown[]) => {
      calls.push(command);
      return reply(command, args);
    };
  // The client methods the manager uses, under the Redis command each sends.
  const client = { getBuffer: method('GET'), setBuffer: method('SET'), exists: method('EXISTS'), del: method('DEL') };
  return { client: client as unknown as Redis, calls };
}

describe('RedisAuthKeyManager without a server', () => {
  // Only the clock is fake: process.nextTick and microtasks run as usual (vitest fakes neither).
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each<[string, unknown, typeof TypeError | typeof RangeError]>([
    ['no options', undefined, TypeError],
    ['null', null, TypeError],
    ['neither client nor url', {}, TypeError],
    ['both client and url', { client: fakeClient(async () => null).client, url: 'redis://127.0.0.1:1' }, TypeError],
    ['a client that is not ioredis', { client: {} }, TypeError],
    ['a client null', { client: null }, TypeError],
    ['url a number', { url: 6379 }, TypeError],
    ['url not a URL', { url: 'localhost:6379' }, RangeError],
    ['url http://', { url: 'http://127.0.0.1:6379' }, RangeError],
    ['prefix a number', { url: 'redis://127.0.0.1:1', prefix: 5 }, TypeError],
    ['timeoutMs a string', { url: 'redis://127.0.0.1:1', timeoutMs: '100' }, TypeError],
    ['timeoutMs 0', { url: 'redis://127.0.0.1:1', timeoutMs: 0 }, RangeError],
    ['timeoutMs negative', { url: 'redis://127.0.0.1:1', timeoutMs: -5 }, RangeError],
    ['timeoutMs NaN', { url: 'redis://127.0.0.1:1', timeoutMs: Number.NaN }, RangeError],
    ['timeoutMs 2**31', { url: 'redis://127.0.0.1:1', timeoutMs: 2 ** 31 }, RangeError],
    ['encryption null', { url: 'redis://127.0.0.1:1', encryption: null }, TypeError],
    ['encryption.secrets missing', { url: 'redis://127.0.0.1:1', encryption: { current: 1 } }, TypeError],
    ['encryption.secrets an Array', { url: 'redis://127.0.0.1:1', encryption: { secrets: [secret()], current: 0 } }, TypeError],
    ['encryption.secrets empty', { url: 'redis://127.0.0.1:1', encryption: { secrets: {}, current: 1 } }, RangeError],
    ['a secret of 31 bytes', { url: 'redis://127.0.0.1:1', encryption: { secrets: { 1: new Uint8Array(31) }, current: 1 } }, RangeError],
    ['a secret as a string', { url: 'redis://127.0.0.1:1', encryption: { secrets: { 1: 'x'.repeat(32) }, current: 1 } }, TypeError],
    ['version 256', { url: 'redis://127.0.0.1:1', encryption: { secrets: { 256: secret() }, current: 256 } }, RangeError],
    ['version -1', { url: 'redis://127.0.0.1:1', encryption: { secrets: { '-1': secret() }, current: -1 } }, RangeError],
    ['version a name', { url: 'redis://127.0.0.1:1', encryption: { secrets: { v1: secret() }, current: 1 } }, RangeError],
    ['current missing', { url: 'redis://127.0.0.1:1', encryption: { secrets: { 1: secret() } } }, TypeError],
    ['current not among the secrets', { url: 'redis://127.0.0.1:1', encryption: { secrets: { 1: secret() }, current: 2 } }, RangeError],
  ])('the constructor refuses %s', (_label, options, type) => {
    expect(() => new RedisAuthKeyManager(options as RedisAuthKeyManagerOptions)).toThrow(type);
  });

  it('a refused URL is not repeated in the message (it may carry a password)', () => {
    expect(() => new RedisAuthKeyManager({ url: 'http://user:hunter2@127.0.0.1:6379' })).toThrow(/^(?!.*hunter2).*redis:\/\//);
  });

  it('bad arguments reject before any command is sent', async () => {
    const { client, calls } = fakeClient(async () => null);
    const manager = new RedisAuthKeyManager({ client });
    await rejection(manager.setKey(5n as never, { expiresAt: 0 }), RangeError);
    await rejection(manager.setKey(randomKey(), { expiresAt: Number.NaN }), RangeError);
    await rejection(manager.setKey('key' as never), TypeError);
    await rejection(manager.getKey(1 as never), TypeError);
    await rejection(manager.hasKey(new Uint8Array(7)), RangeError);
    await rejection(manager.delKey(-1n), RangeError);
    expect(calls).toEqual([]);
  });

  it('a server that never answers: every method rejects with AuthKeyStoreUnavailable at the default 2000 ms, not before', async () => {
    const { client } = fakeClient(() => new Promise(() => {}));
    const manager = new RedisAuthKeyManager({ client });
    const key = randomKey();
    const calls = [manager.setKey(key), manager.hasKey(key), manager.getKey(key), manager.delKey(key)];
    const seen = calls.map(outcome);
    await vi.advanceTimersByTimeAsync(1999);
    expect(seen.map((s) => s.now)).toEqual(['pending', 'pending', 'pending', 'pending']);
    await vi.advanceTimersByTimeAsync(1);
    const errors = await Promise.all(calls.map((p) => rejection(p, AuthKeyStoreUnavailable)));
    for (const e of errors) {
      expect(e.name).toBe('AuthKeyStoreUnavailable');
      expect(e.message).toMatch(/(setKey|hasKey|getKey|delKey): Redis did not answer within 2000 ms/);
    }
  });

  it('a client failure becomes AuthKeyStoreUnavailable with the cause, stripped of the command arguments (key bytes)', async () => {
    const key = randomKey();
    const { client } = fakeClient(async (command, args) => {
      // What ioredis does with a reply error: the command and its arguments ride along.
      throw Object.assign(new Error('OOM command not allowed when used memory > maxmemory'), { command: { name: command.toLowerCase(), args } });
    });
    const manager = new RedisAuthKeyManager({ client });
    const error = await rejection(manager.setKey(key), AuthKeyStoreUnavailable);
    expect(error.message).toBe('auth key store unavailable: setKey: OOM command not allowed when used memory > maxmemory');
    expect(error.cause).toBeInstanceOf(Error);
    expect((error.cause as { command: unknown }).command).toEqual({ name: 'set' });
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain(hex(key.bytes).slice(0, 32));
  });

  it('one timer bounds every call in flight, not one timer per call', async () => {
    const { client } = fakeClient(() => new Promise(() => {}));
    const manager = new RedisAuthKeyManager({ client, timeoutMs: 50 });
    const before = vi.getTimerCount();
    const pending = Array.from({ length: 500 }, (_, i) => rejection(manager.hasKey(BigInt(i)), AuthKeyStoreUnavailable));
    expect(vi.getTimerCount() - before).toBeLessThanOrEqual(1);
    await vi.advanceTimersByTimeAsync(50);
    for (const e of await Promise.all(pending)) expect(e.message).toMatch(/hasKey: Redis did not answer within 50 ms/);
  });

  /** A client that is reconnecting until `ready()` is called, as ioredis reports it (status, then the event). */
  function reconnectingClient() {
    const fake = fakeClient(async (command) => (command === 'EXISTS' ? 1 : null));
    const emitter = new EventEmitter();
    const client = Object.assign(emitter, fake.client, { status: 'reconnecting' });
    const ready = () => {
      client.status = 'ready';
      process.nextTick(() => emitter.emit('ready'));
    };
    return { client: client as unknown as Redis, calls: fake.calls, ready, emitter };
  }

  it('while the client reconnects, calls wait in the manager and are sent once it is ready', async () => {
    const { client, calls, ready } = reconnectingClient();
    const manager = new RedisAuthKeyManager({ client, timeoutMs: 1000 });
    const answer = manager.hasKey(1n);
    const seen = outcome(answer);
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toEqual([]);
    expect(seen.now).toBe('pending');
    ready();
    expect(await answer).toBe(true);
    expect(calls).toEqual(['EXISTS']);
  });

  it('a call that timed out while the client reconnected is never sent later', async () => {
    const { client, calls, ready, emitter } = reconnectingClient();
    const manager = new RedisAuthKeyManager({ client, timeoutMs: 40 });
    const key = randomKey();
    const timedOut = [manager.delKey(key), manager.setKey(key), manager.getKey(key)].map((p) => rejection(p, AuthKeyStoreUnavailable));
    await vi.advanceTimersByTimeAsync(40);
    await Promise.all(timedOut);
    ready();
    // The 'ready' event comes on the next tick; a turn of the event loop later, nothing was sent.
    await new Promise((r) => process.nextTick(r));
    await vi.advanceTimersByTimeAsync(20);
    expect(calls).toEqual([]);
    // The manager stopped listening once the client was ready.
    expect(emitter.listenerCount('ready')).toBe(0);
    expect(await manager.hasKey(key)).toBe(true);
    expect(calls).toEqual(['EXISTS']);
  });

  it('close() rejects the calls waiting for the client at once, and they are never sent', async () => {
    const { client, calls, ready } = reconnectingClient();
    const manager = new RedisAuthKeyManager({ client, timeoutMs: 5000 });
    const waiting = manager.getKey(1n);
    const seen = outcome(waiting);
    const start = performance.now();
    await manager.close();
    // No time passes on the fake clock: a rejection now was not the 5000 ms deadline.
    await vi.advanceTimersByTimeAsync(0);
    expect(performance.now()).toBe(start);
    expect(seen.now).toBeInstanceOf(AuthKeyStoreUnavailable);
    expect((await rejection(waiting, AuthKeyStoreUnavailable)).message).toMatch(/getKey: the manager was closed/);
    ready();
    await new Promise((r) => process.nextTick(r));
    await vi.advanceTimersByTimeAsync(20);
    expect(calls).toEqual([]);
  });

  it('after close(), methods reject with AuthKeyStoreUnavailable and the caller’s client is not touched', async () => {
    const { client, calls } = fakeClient(async () => 1);
    const manager = new RedisAuthKeyManager({ client });
    expect(await manager.hasKey(1n)).toBe(true);
    await manager.close();
    await manager.close();
    const error = await rejection(manager.hasKey(1n), AuthKeyStoreUnavailable);
    expect(error.message).toMatch(/closed/);
    expect(calls).toEqual(['EXISTS']);
  });
});
