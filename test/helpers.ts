import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { ADOPT, AuthKey } from '../src/core/auth-key.ts';
import { RECORD_BYTES } from '../src/core/records.ts';
import { scalarWasm, simdSupported, simdWasm } from '../src/core/engine.ts';
import { Engine } from '../src/core/wasm.ts';

/** SHA-1 by node:crypto: the oracle. */
export function nodeSha1(data: Uint8Array): Buffer {
  return createHash('sha1').update(data).digest();
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

/** Deterministic pseudo-random bytes (xorshift32), so a failure can be replayed. */
export function seededBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  // A bijective mix of the seed, so distinct seeds give distinct streams.
  let x = Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) | 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export { randomBytes };

/** Both cores, each tested on its own; the SIMD one only where the runtime has SIMD. */
export function engines(): Array<[string, Engine]> {
  const list: Array<[string, Engine]> = [['scalar', new Engine(scalarWasm())]];
  if (simdSupported()) list.push(['simd', new Engine(simdWasm())]);
  return list;
}

/**
 * A key with `original`'s id but other bytes: a collision, which no one can find by search, made
 * here by adopting a record whose digest is copied from `original` (the test's injected id).
 */
export function forgeCollision(original: AuthKey, seed = 1): AuthKey {
  const record = new Uint8Array(RECORD_BYTES);
  record.set(seededBytes(256, 0xc0111de + seed), 0);
  record.set(original.hashBytes, 256);
  return new AuthKey(ADOPT, record, 0);
}

/** A fresh random key (random bytes from node:crypto). */
export function randomKey(): AuthKey {
  return new AuthKey(randomBytes(256));
}

/** Asserts that `promise` rejects with an instance of `type` and returns the error. */
export async function rejection<T extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => T): Promise<T> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected a rejection with ${type.name}`).toBeInstanceOf(type);
  return error as T;
}
