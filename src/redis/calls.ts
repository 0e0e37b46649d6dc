/**
 * The calls of `RedisAuthKeyManager`: one small object per call (what it asks of Redis, the
 * caller's promise, whether it is settled, as the deadline queue of deadlines.ts sees it), how each
 * is sent to Redis, and the errors a call settles with.
 * @internal
 */
import type { Cluster, Redis } from 'ioredis';
import type { AuthKey } from '../core/auth-key.js';
import { AuthKeyCorrupted, AuthKeyStoreUnavailable } from '../core/errors.js';
import { type IdHalves, idBigint } from '../core/ids.js';
import type { Expiring } from './deadlines.js';
import type { Flight } from './near-cache.js';

// What a call asks of Redis. One small number each rather than a closure per call.
export const GET = 0;
export const SET = 1;
export const EXISTS = 2;
export const DEL = 3;
export const QUIT = 4;
/** getKey with the near cache: GET, then (only for a value found) EXPIRY. */
export const READ = 5;
/** The second step of a READ that found a value: PEXPIRETIME, the expiry the cached copy keeps. */
export const EXPIRY = 6;
export type Op = typeof GET | typeof SET | typeof EXISTS | typeof DEL | typeof QUIT | typeof READ | typeof EXPIRY;
/** The method each op answers for, for errors. */
export const METHODS = ['getKey', 'setKey', 'hasKey', 'delKey', 'close', 'getKey', 'getKey'] as const;

export const noop = (): void => undefined;

/**
 * The settle functions of the promise being made, handed over by one shared executor (no
 * closure made per call): `new Promise(capture)`, then read `captured` at once.
 */
export const captured = { resolve: noop as (value: never) => void, reject: noop as (reason: unknown) => void };
export function capture(resolve: (value: never) => void, reject: (reason: unknown) => void): void {
  captured.resolve = resolve;
  captured.reject = reject;
}

/** What `setKey` sends and compares. */
export interface SetArguments {
  /** The key being stored. */
  readonly key: AuthKey;
  /** The value sent: a view of the key's record, or the sealed value. */
  readonly stored: Buffer;
  /** The expiry in whole epoch milliseconds, 0 for none. */
  readonly expiresAt: number;
}

/**
 * One call of a manager method: the command it sends, the caller's promise, its deadline. It is
 * settled exactly once: by Redis's answer, by a failure, or by the deadline.
 */
export class Call implements Expiring {
  settled = false;
  resolve: (value: never) => void = noop;
  reject: (reason: unknown) => void = noop;

  constructor(
    /** READ moves on to EXPIRY once its value is found. */
    public op: Op,
    // The id's halves as parsed (referenced, not copied: halves above 2**30 are boxed numbers).
    readonly id: IdHalves,
    /** The Redis key. */
    readonly name: string,
    /** setKey's arguments. */
    readonly set: SetArguments | undefined,
    /** The near cache's read this call makes (READ, EXPIRY). */
    readonly flight?: Flight,
  ) {}
}

/**
 * Hands the command of `call` to `client`; its reply. Throws what the client throws
 * synchronously.
 */
export function dispatch(client: Redis | Cluster, call: Call): Promise<unknown> {
  // The named Buffer methods, not callBuffer: they work with enableAutoPipelining too
  // (callBuffer loses the command name there, https://github.com/redis/ioredis/issues/1923).
  switch (call.op) {
    case GET:
    case READ:
      return client.getBuffer(call.name);
    case EXPIRY:
      return client.pexpiretime(call.name);
    case SET: {
      const { stored, expiresAt } = call.set!;
      return expiresAt === 0 ? client.setBuffer(call.name, stored, 'NX', 'GET') : client.setBuffer(call.name, stored, 'PXAT', expiresAt, 'NX', 'GET');
    }
    case EXISTS:
      return client.exists(call.name);
    case DEL:
      return client.del(call.name);
    default:
      return client.quit();
  }
}

/** Settles `call` with `error`, dropping its hold on the caller's promise. */
export function fail(call: Call, error: unknown): void {
  const { reject } = call;
  call.settled = true;
  call.resolve = noop;
  call.reject = noop;
  reject(error);
}

/** The id `call` is about, as a bigint (for errors). */
export function idOfCall(call: Call): bigint {
  return idBigint(call.id.hi, call.id.lo);
}

/** AuthKeyCorrupted for the value stored under the id of `call`. */
export function corrupted(call: Call, problem: string): AuthKeyCorrupted {
  return new AuthKeyCorrupted(idOfCall(call), problem);
}

export function closedError(op: Op): AuthKeyStoreUnavailable {
  return new AuthKeyStoreUnavailable(`${METHODS[op]}: the manager was closed`);
}
