// Hostile input through every entry point: Proxies that answer differently on each read, arrays
// that lie about their length, subclasses that override the methods a careless copy would call,
// detached and out-of-bounds buffers, bigints far out of range, option getters that change. Each
// must get our error (class and "expected …, got …" message) or the right answer from the real
// bytes, and must leave nothing behind: after each, fresh keys still match node:crypto and the
// Python hashlib vectors.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuthKey, AuthKeyManager, Sha1, sha1, sha1AuthKeys } from '../src/index.ts';
import { Engine, type Stream } from '../src/core/wasm.ts';
import vectors from './vectors/auth-keys.json' with { type: 'json' };
import { engines, fromHex, hex, nodeSha1, seededBytes } from './helpers.ts';

const VECTORS = Object.values(vectors.keys);
const HUGE = 2n ** 4000n - 1n;
const NEGATIVE = -(2n ** 100n);

/** A Uint8Array on a detached buffer (its buffer transferred away). */
function detached(n = 256): Uint8Array {
  const view = new Uint8Array(n);
  structuredClone(view.buffer, { transfer: [view.buffer] });
  return view;
}

/** A length-tracking view of a resizable buffer shrunk below its start: out of bounds. */
function outOfBounds(): Uint8Array {
  // Resizable buffers (ES2024) are in Node 20's V8, not in this project's ES2022 type library.
  const Resizable = ArrayBuffer as unknown as new (n: number, options: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
  const buffer = new Resizable(512, { maxByteLength: 1024 });
  const view = new Uint8Array(buffer, 300);
  buffer.resize(100);
  return view;
}

/** `bytes` with an own `length` property that says `claimed`. */
function lyingOwnLength(bytes: Uint8Array, claimed: number): Uint8Array {
  Object.defineProperty(bytes, 'length', { value: claimed });
  return bytes;
}

/** A subclass whose `length` getter says 256 and whose copying methods must never be called. */
class Liar extends Uint8Array {
  override get length(): number {
    return 256;
  }
}

const CALLED: string[] = [];

/** A subclass whose every copying method, and its species constructor, records that it ran and lies. */
class Overrider extends Uint8Array {
  static get [Symbol.species](): Uint8ArrayConstructor {
    CALLED.push('species');
    return Uint8Array;
  }
  override subarray(): Uint8Array<ArrayBuffer> {
    CALLED.push('subarray');
    return new Uint8Array(7);
  }
  override set(): void {
    CALLED.push('set');
  }
  override slice(): Uint8Array<ArrayBuffer> {
    CALLED.push('slice');
    return new Uint8Array(7);
  }
}

function overrider(bytes: Uint8Array): Overrider {
  const o = new Overrider(bytes.length);
  Uint8Array.prototype.set.call(o, bytes);
  return o;
}

/** A Proxy of a genuine Uint8Array: `instanceof` says yes, its reads may say anything. */
const proxyOf = (bytes: Uint8Array): Uint8Array => new Proxy(bytes, {});

/** Expects `fn` to throw `type` with a message matching `message`; returns the error. */
function thrown<T extends Error>(fn: () => unknown, type: new (...args: never[]) => T, message: RegExp): T {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, `expected ${type.name}`).toBeInstanceOf(type);
  expect((error as Error).constructor).toBe(type);
  expect((error as Error).message).toMatch(message);
  return error as T;
}

/** Fresh keys from bigints and from bytes still match the Python vectors and node:crypto. */
function expectApiClean(): void {
  for (const v of VECTORS) {
    for (const key of [new AuthKey(BigInt(v.value)), new AuthKey(fromHex(v.bytes)), ...AuthKey.many([BigInt(v.value), fromHex(v.bytes)])]) {
      expect(hex(key.bytes)).toBe(v.bytes);
      expect(hex(key.hashBytes)).toBe(v.hash);
      expect(key.id).toBe(BigInt('0x' + v.id));
      expect(key.auxHash).toBe(BigInt('0x' + v.auxHash));
      expect(key.value).toBe(BigInt(v.value));
    }
  }
  const bytes = seededBytes(256, 0x5afe);
  expect(hex(new AuthKey(bytes).hashBytes)).toBe(hex(nodeSha1(bytes)));
  expect(hex(sha1(bytes.subarray(0, 100)))).toBe(hex(nodeSha1(bytes.subarray(0, 100))));
  expect(hex(new Sha1().update(bytes).update(bytes).digest())).toBe(createHash('sha1').update(bytes).update(bytes).digest('hex'));
}

/** The same check on one engine: its bigint route, its record route and its digests. */
function expectEngineClean(engine: Engine): void {
  for (const v of VECTORS) {
    const record = new Uint8Array(276);
    engine.keyFromBigint(BigInt(v.value), record, 0);
    expect(hex(record.subarray(0, 256))).toBe(v.bytes);
    expect(hex(record.subarray(256))).toBe(v.hash);
    const fromBytes = new Uint8Array(276);
    engine.keyRecord(fromHex(v.bytes), fromBytes, 0);
    expect(hex(fromBytes)).toBe(v.bytes + v.hash);
    expect(engine.keyToBigint(fromBytes, 0)).toBe(BigInt(v.value));
    expect(hex(engine.sha1(fromHex(v.bytes)))).toBe(v.hash);
  }
  const m = seededBytes(1000, 3);
  expect(hex(engine.sha1(m))).toBe(hex(nodeSha1(m)));
}

describe('hostile input through the API', () => {
  describe('AuthKey.many reads the caller’s array once', () => {
    const first = BigInt(vectors.keys.full.value);

    it('a Proxy element that turns huge or negative on its second read: the first read is the one used, once', () => {
      for (const later of [HUGE, NEGATIVE, 0n, new Uint8Array(100_000), 'x']) {
        const reads = new Map<PropertyKey, number>();
        const values = new Proxy([first, fromHex(vectors.keys.small.bytes)], {
          get(target, p, receiver) {
            reads.set(p, (reads.get(p) ?? 0) + 1);
            if (p === '0' && reads.get(p)! > 1) return later;
            return Reflect.get(target, p, receiver);
          },
        });
        const keys = AuthKey.many(values as unknown as bigint[]);
        expect(keys).toHaveLength(2);
        expect(hex(keys[0].bytes)).toBe(vectors.keys.full.bytes);
        expect(hex(keys[0].hashBytes)).toBe(vectors.keys.full.hash);
        expect(hex(keys[1].hashBytes)).toBe(vectors.keys.small.hash);
        expect([reads.get('length'), reads.get('0'), reads.get('1')]).toEqual([1, 1, 1]);
        expectApiClean();
      }
    });

    it('a Proxy element that is bad on its first read is refused with its index, whatever it says next', () => {
      const cases: Array<[unknown, new (...args: never[]) => Error, RegExp]> = [
        [HUGE, RangeError, /^AuthKey\.many element 1: auth key: expected a bigint in \[1, 2\*\*2048\), got a value of 4000 bits$/],
        [NEGATIVE, RangeError, /^AuthKey\.many element 1: auth key: expected a bigint in \[1, 2\*\*2048\), got a negative value$/],
        [new Uint8Array(100_000), RangeError, /^AuthKey\.many element 1: auth key: expected 256 bytes, got 100000$/],
        [
          proxyOf(new Uint8Array(256)),
          TypeError,
          /^AuthKey\.many element 1: auth key: expected a bigint or a Uint8Array of 256 bytes, got a Proxy or other object posing as a Uint8Array$/,
        ],
        [detached(), TypeError, /^AuthKey\.many element 1: .*got a Uint8Array on a detached or out-of-bounds buffer$/],
      ];
      for (const [bad, type, message] of cases) {
        let reads = 0;
        const values = new Proxy([first, first], {
          get(target, p, receiver) {
            if (p === '1') return reads++ === 0 ? bad : first;
            return Reflect.get(target, p, receiver);
          },
        });
        thrown(() => AuthKey.many(values as unknown as bigint[]), type, message);
        expect(reads).toBe(1);
        expectApiClean();
      }
    });

    it('a Proxy whose length changes or is not a count', () => {
      let lengthReads = 0;
      const growing = new Proxy([1n, 2n], {
        get(target, p, receiver) {
          if (p === 'length') return ++lengthReads === 1 ? 2 : 100_000;
          return Reflect.get(target, p, receiver);
        },
      });
      expect(AuthKey.many(growing as unknown as bigint[])).toHaveLength(2);
      expect(lengthReads).toBe(1);
      for (const length of [-1, 1.5, Number.NaN, '2', 2n ** 64n]) {
        const odd = new Proxy([1n, 2n], { get: (t, p, r) => (p === 'length' ? length : Reflect.get(t, p, r)) });
        thrown(() => AuthKey.many(odd as unknown as bigint[]), TypeError, /^AuthKey\.many: expected an array of keys, got an array whose length reads as /);
      }
      expectApiClean();
    });

    it('an index getter on a real array runs once', () => {
      let reads = 0;
      const values: bigint[] = [1n, 2n];
      Object.defineProperty(values, 1, { get: () => (reads++ === 0 ? 2n : HUGE) });
      const keys = AuthKey.many(values);
      expect(reads).toBe(1);
      expect(keys[1].value).toBe(2n);
      expect(hex(keys[1].hashBytes)).toBe(hex(nodeSha1(fromHex('00'.repeat(255) + '02'))));
      expectApiClean();
    });

    it('a zero key among good ones throws with its index and returns nothing', () => {
      const good = fromHex(vectors.keys.full.bytes);
      const values = Array.from({ length: 600 }, () => good);
      values[300] = new Uint8Array(256);
      thrown(() => AuthKey.many(values), RangeError, /^AuthKey\.many element 300: auth key: expected a value in \[1, 2\*\*2048\), got 0 \(256 zero bytes\)$/);
      // A bad element in a later chunk, after earlier chunks were hashed: still its index, nothing returned.
      const later: unknown[] = Array.from({ length: 600 }, () => good);
      later[520] = HUGE;
      later[580] = 'x';
      thrown(
        () => AuthKey.many(later as bigint[]),
        RangeError,
        /^AuthKey\.many element 520: auth key: expected a bigint in \[1, 2\*\*2048\), got a value of 4000 bits$/,
      );
      expectApiClean();
    });
  });

  describe('byte arrays are judged by their real length, never by what they say', () => {
    const big = seededBytes(100_000, 77);

    it('sha1 and Sha1.update hash the real bytes of an array whose length lies (own property and subclass getter)', () => {
      for (const make of [(b: Uint8Array) => lyingOwnLength(b.slice(), 256), (b: Uint8Array) => new Liar(b)]) {
        for (const size of [100, 256, 1000, 100_000]) {
          const input = make(big.subarray(0, size));
          expect(hex(sha1(input)), `size ${size}`).toBe(hex(nodeSha1(big.subarray(0, size))));
          expect(hex(new Sha1().update(input).update(input).digest())).toBe(
            createHash('sha1').update(big.subarray(0, size)).update(big.subarray(0, size)).digest('hex'),
          );
        }
        expectApiClean();
      }
    });

    it('new AuthKey, AuthKey.many and sha1AuthKeys refuse a 100,000-byte array that claims 256 bytes', () => {
      for (const input of [lyingOwnLength(big.slice(), 256), new Liar(big)]) {
        thrown(() => new AuthKey(input), RangeError, /^auth key: expected 256 bytes, got 100000$/);
        thrown(() => AuthKey.many([1n, input]), RangeError, /^AuthKey\.many element 1: auth key: expected 256 bytes, got 100000$/);
        thrown(() => sha1AuthKeys(input), RangeError, /^sha1AuthKeys keys: expected a multiple of 256 bytes .*got 100000$/);
        expectApiClean();
      }
    });

    it('an array of 256 real bytes that claims another length is taken as the 256 bytes it holds', () => {
      const bytes = fromHex(vectors.keys.leadingZeros.bytes);
      for (const input of [lyingOwnLength(bytes.slice(), 100_000), lyingOwnLength(bytes.slice(), 5)]) {
        expect(hex(new AuthKey(input).hashBytes)).toBe(vectors.keys.leadingZeros.hash);
        expect(hex(AuthKey.many([input])[0].hashBytes)).toBe(vectors.keys.leadingZeros.hash);
        expect(hex(sha1AuthKeys(input))).toBe(vectors.keys.leadingZeros.hash);
      }
      expectApiClean();
    });

    it('calcNewNonceHash and the managers judge nonces, packets and id bytes by their real length', async () => {
      const key = new AuthKey(fromHex(vectors.keys.full.bytes));
      const nonce = fromHex(vectors.newNonce);
      thrown(
        () => key.calcNewNonceHash(lyingOwnLength(new Uint8Array(100_000), 32), 1),
        RangeError,
        /^calcNewNonceHash newNonce: expected 32 bytes, got 100000$/,
      );
      expect(hex(key.calcNewNonceHash(lyingOwnLength(nonce.slice(), 1000), 2))).toBe(vectors.keys.full.newNonceHash['2']);
      const manager = new AuthKeyManager();
      await manager.setKey(key);
      thrown(() => manager.peekKey(lyingOwnLength(new Uint8Array(4), 1000)), RangeError, /^peekKey: expected 8 id bytes at offset 0, got a packet of 4 bytes$/);
      const packet = new Liar(16);
      Uint8Array.prototype.set.call(packet, key.idBytes, 8);
      expect(manager.peekKey(packet, 8)?.equals(key)).toBe(true);
      await expect(manager.hasKey(lyingOwnLength(new Uint8Array(100), 8))).rejects.toThrow(/^hasKey: expected 8 auth key id bytes, got 100$/);
      expect(await manager.hasKey(lyingOwnLength(key.idBytes, 100))).toBe(true);
      expectApiClean();
    });
  });

  describe('subclasses that override subarray, set, slice and their species are never called', () => {
    it('sha1, Sha1.update (one chunk and many), sha1AuthKeys (one call and many), new AuthKey, AuthKey.many, calcNewNonceHash, peekKey', async () => {
      CALLED.length = 0;
      for (const size of [0, 20, 256, 65_536, 200_003]) {
        const m = seededBytes(size, size);
        expect(hex(sha1(overrider(m))), `size ${size}`).toBe(hex(nodeSha1(m)));
        expect(hex(new Sha1().update(overrider(m)).update(overrider(m)).digest())).toBe(createHash('sha1').update(m).update(m).digest('hex'));
      }
      for (const n of [1, 5, 300]) {
        const keys = seededBytes(256 * n, n);
        const digests = sha1AuthKeys(overrider(keys));
        for (let i = 0; i < n; i++) expect(hex(digests.subarray(20 * i, 20 * i + 20))).toBe(hex(nodeSha1(keys.subarray(256 * i, 256 * i + 256))));
      }
      const bytes = fromHex(vectors.keys.full.bytes);
      expect(hex(new AuthKey(overrider(bytes)).hashBytes)).toBe(vectors.keys.full.hash);
      expect(hex(AuthKey.many([overrider(bytes), 1n])[0].hashBytes)).toBe(vectors.keys.full.hash);
      const key = new AuthKey(bytes);
      expect(hex(key.calcNewNonceHash(overrider(fromHex(vectors.newNonce)), 3))).toBe(vectors.keys.full.newNonceHash['3']);
      const manager = new AuthKeyManager();
      await manager.setKey(key);
      expect(manager.peekKey(overrider(key.idBytes))?.equals(key)).toBe(true);
      expect(await manager.hasKey(overrider(key.idBytes))).toBe(true);
      expect(CALLED).toEqual([]);
      expectApiClean();
    });
  });

  describe('Proxies of Uint8Array, detached and out-of-bounds buffers get our TypeError', () => {
    const bads: Array<[string, () => Uint8Array, RegExp]> = [
      ['a Proxy of a Uint8Array', () => proxyOf(new Uint8Array(256)), /got a Proxy or other object posing as a Uint8Array$/],
      ['a detached buffer', () => detached(), /got a Uint8Array on a detached or out-of-bounds buffer$/],
      ['a detached empty buffer', () => detached(0), /got a Uint8Array on a detached or out-of-bounds buffer$/],
      ['an out-of-bounds view of a shrunk resizable buffer', outOfBounds, /got a Uint8Array on a detached or out-of-bounds buffer$/],
    ];

    it.each(bads)('%s, through every entry point', async (_name, make, got) => {
      const expected = (prefix: string) => new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: expected .*, ${got.source}`);
      thrown(() => sha1(make()), TypeError, expected('sha1 data'));
      const stream = new Sha1().update(new TextEncoder().encode('ab'));
      thrown(() => stream.update(make()), TypeError, expected('Sha1.update data'));
      expect(hex(stream.update(new TextEncoder().encode('c')).digest())).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
      thrown(() => sha1AuthKeys(make()), TypeError, expected('sha1AuthKeys keys'));
      thrown(() => new AuthKey(make()), TypeError, expected('auth key'));
      thrown(() => AuthKey.many([1n, make()]), TypeError, expected('AuthKey.many element 1: auth key'));
      const key = new AuthKey(fromHex(vectors.keys.small.bytes));
      thrown(() => key.calcNewNonceHash(make(), 1), TypeError, expected('calcNewNonceHash newNonce'));
      const manager = new AuthKeyManager();
      await manager.setKey(key);
      thrown(() => manager.peekKey(make()), TypeError, expected('peekKey'));
      for (const method of ['hasKey', 'getKey', 'delKey'] as const) {
        await expect(manager[method](make() as never)).rejects.toThrow(expected(method));
        await expect(manager[method](make() as never)).rejects.toBeInstanceOf(TypeError);
      }
      expect(await manager.hasKey(key)).toBe(true);
      expectApiClean();
    });
  });

  describe('huge and negative bigints', () => {
    it('new AuthKey, AuthKey.many, the managers and fromHex refuse them with RangeError', async () => {
      for (const [value, shape] of [
        [HUGE, /got a value of 4000 bits$/],
        [2n ** 2048n, /got a value of 2049 bits$/],
        [NEGATIVE, /got a negative value$/],
        [-1n, /got a negative value$/],
      ] as const) {
        thrown(() => new AuthKey(value), RangeError, new RegExp(`^auth key: expected a bigint in \\[1, 2\\*\\*2048\\), ${shape.source}`));
        thrown(
          () => AuthKey.many([1n, 2n, value]),
          RangeError,
          new RegExp(`^AuthKey\\.many element 2: auth key: expected a bigint in \\[1, 2\\*\\*2048\\), ${shape.source}`),
        );
        const manager = new AuthKeyManager();
        await expect(manager.setKey(value)).rejects.toThrow(RangeError);
        expect(manager.size).toBe(0);
        expectApiClean();
      }
      const manager = new AuthKeyManager();
      for (const id of [HUGE, 2n ** 64n, -1n, NEGATIVE]) {
        await expect(manager.hasKey(id)).rejects.toThrow(/^hasKey: expected an auth key id in \[0, 2\*\*64\), got a (negative value|value of \d+ bits)$/);
        await expect(manager.getKey(id)).rejects.toBeInstanceOf(RangeError);
      }
      thrown(
        () => AuthKey.fromHex('-' + 'f'.repeat(10)),
        RangeError,
        /^AuthKey\.fromHex: expected 1 to 512 hexadecimal digits, got 11 characters with non-hex characters$/,
      );
      thrown(() => AuthKey.fromHex('f'.repeat(1000)), RangeError, /^AuthKey\.fromHex: expected 1 to 512 hexadecimal digits, got 1000 characters$/);
      expectApiClean();
    });
  });

  describe('AuthKey look-alikes', () => {
    it('a Proxy of an AuthKey is refused by equals and the managers with our TypeError', async () => {
      const key = new AuthKey(fromHex(vectors.keys.full.bytes));
      const fake = new Proxy(key, {});
      expect(fake instanceof AuthKey).toBe(true); // what a careless check would accept
      thrown(() => key.equals(fake), TypeError, /^AuthKey\.equals: expected an AuthKey, got AuthKey$/);
      thrown(() => key.equals(Object.create(AuthKey.prototype)), TypeError, /^AuthKey\.equals: expected an AuthKey, got AuthKey$/);
      const manager = new AuthKeyManager();
      await expect(manager.setKey(fake)).rejects.toThrow(/^setKey: expected an AuthKey or a 2048-bit bigint, got AuthKey$/);
      await expect(manager.hasKey(fake)).rejects.toThrow(/^hasKey: expected an AuthKey, a bigint id or 8 id bytes, got AuthKey$/);
      await expect(manager.hasKey(fake)).rejects.toBeInstanceOf(TypeError);
      expect(manager.size).toBe(0);
      expectApiClean();
    });
  });

  describe('option objects', () => {
    it('an expiresAt getter that changes between reads is read once', async () => {
      const key = new AuthKey(fromHex(vectors.keys.full.bytes));
      const later = Date.now() + 3_600_000;
      let reads = 0;
      const manager = new AuthKeyManager();
      await manager.setKey(key, {
        get expiresAt() {
          return reads++ === 0 ? later : -1;
        },
      });
      expect(reads).toBe(1);
      expect(await manager.hasKey(key)).toBe(true);

      let badReads = 0;
      const other = new AuthKeyManager();
      await expect(
        other.setKey(key, {
          get expiresAt() {
            return badReads++ === 0 ? -1 : later;
          },
        }),
      ).rejects.toThrow(/^setKey: expected expiresAt as a valid time after 1970, got -1$/);
      expect(badReads).toBe(1);
      expect(other.size).toBe(0);
      expectApiClean();
    });

    it('a Date is read by its time, not by an overridden getTime; a Proxy of a Date is refused with our TypeError', async () => {
      const key = new AuthKey(fromHex(vectors.keys.small.bytes));
      class Shifty extends Date {
        override getTime(): number {
          return -5;
        }
      }
      const manager = new AuthKeyManager();
      await manager.setKey(key, { expiresAt: new Shifty(Date.now() + 3_600_000) });
      expect(await manager.hasKey(key)).toBe(true);
      const other = new AuthKeyManager();
      await expect(other.setKey(key, { expiresAt: new Proxy(new Date(), {}) })).rejects.toThrow(
        /^setKey: expected expiresAt as a Date or epoch milliseconds, got Date$/,
      );
      await expect(other.setKey(key, { expiresAt: new Proxy(new Date(), {}) })).rejects.toBeInstanceOf(TypeError);
      expect(other.size).toBe(0);
      expectApiClean();
    });
  });
});

describe.each(engines())('%s core: hostile input reaching the engine directly', (_name, engine) => {
  it('bigints outside [0, 2**2048) are refused before any digit is staged', () => {
    const record = new Uint8Array(276);
    for (const value of [HUGE, 2n ** 2048n, NEGATIVE, -1n]) {
      thrown(() => engine.keyFromBigint(value, record, 0), RangeError, /^key value: expected a bigint in \[0, 2\*\*2048\), got a (negative value|larger one)$/);
      thrown(() => engine.bigintToKey(value, record, 0), RangeError, /^key value: expected a bigint in \[0, 2\*\*2048\)/);
      thrown(() => engine.recordsInto([1n, value, 2n], 0, 3, new Uint8Array(3 * 276), 0), RangeError, /^key value: expected a bigint in \[0, 2\*\*2048\)/);
      expect(record.every((b) => b === 0)).toBe(true);
      expectEngineClean(engine);
    }
    thrown(() => engine.keyFromBigint(5 as never, record, 0), TypeError, /^key value: expected a bigint, got number$/);
    expectEngineClean(engine);
  });

  it('every copy is bounded by the real arrays: short outputs, bad offsets and counts are RangeErrors', () => {
    const key = fromHex(vectors.keys.full.bytes);
    const bad: Array<() => unknown> = [
      () => engine.keyRecord(key, new Uint8Array(275), 0),
      () => engine.keyRecord(key, new Uint8Array(300), 25),
      () => engine.keyRecord(key, new Uint8Array(300), -1),
      () => engine.keyRecord(key, new Uint8Array(300), 0.5),
      () => engine.keyRecord(new Liar(100_000), new Uint8Array(300), 0),
      () => engine.keyFromBigint(5n, new Uint8Array(276), 1),
      () => engine.bigintToKey(5n, new Uint8Array(255), 0),
      () => engine.keyToBigint(new Uint8Array(300), 45),
      () => engine.hashRecords(new Uint8Array(276 * 3), 1, 3),
      () => engine.hashRecords(new Uint8Array(276 * 3), 0, -1),
      () => engine.hashKeysInto(new Uint8Array(512), 0, 3, new Uint8Array(60), 0),
      () => engine.hashKeysInto(new Uint8Array(768), 0, 3, new Uint8Array(59), 0),
      () => engine.recordsInto([key], 0, 1, new Uint8Array(275), 0),
      () => engine.recordsInto([key], 0, 2, new Uint8Array(552), 0),
      () =>
        engine.recordsInto(
          Array.from({ length: 300 }, () => key),
          0,
          300,
          new Uint8Array(300 * 276),
          0,
        ),
      () => engine.recordsInto([key, new Liar(100_000)], 0, 2, new Uint8Array(552), 0),
      () => engine.sha1AuthKeys(new Liar(1000)),
    ];
    for (const call of bad) {
      thrown(call, RangeError, /expected/);
      expectEngineClean(engine);
    }
  });

  it('what is not a genuine attached Uint8Array is a TypeError at the engine too', () => {
    for (const make of [() => proxyOf(new Uint8Array(256)), () => detached(), outOfBounds, () => [1, 2, 3] as unknown as Uint8Array]) {
      thrown(() => engine.sha1(make()), TypeError, /^bytes: expected Uint8Array, got /);
      thrown(() => engine.keyRecord(make(), new Uint8Array(276), 0), TypeError, /^bytes: expected Uint8Array, got /);
      thrown(() => engine.sha1AuthKeys(make()), TypeError, /^bytes: expected Uint8Array, got /);
      thrown(() => engine.recordsInto([1n, make()], 0, 2, new Uint8Array(552), 0), TypeError, /^bytes: expected Uint8Array, got /);
      const stream: Stream = { saved: null };
      engine.streamInit(stream);
      engine.streamUpdate(stream, new TextEncoder().encode('ab'));
      thrown(() => engine.streamUpdate(stream, make()), TypeError, /^bytes: expected Uint8Array, got /);
      engine.streamUpdate(stream, new TextEncoder().encode('c'));
      expect(hex(engine.streamFinal(stream))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
      expectEngineClean(engine);
    }
  });

  it('a refused chunk of records leaves the output unchanged and the core clean', () => {
    const key = fromHex(vectors.keys.full.bytes);
    const out = new Uint8Array(3 * 276).fill(0xee);
    thrown(() => engine.recordsInto([key, 5n, HUGE], 0, 3, out, 0), RangeError, /^key value: /);
    thrown(() => engine.recordsInto([key, 5n, new Uint8Array(255)], 0, 3, out, 0), RangeError, /^key records: expected 256 key bytes, got 255$/);
    expect(out.every((b) => b === 0xee)).toBe(true);
    engine.recordsInto([5n, key, 7n], 0, 3, out, 0);
    const five = fromHex('00'.repeat(255) + '05');
    const seven = fromHex('00'.repeat(255) + '07');
    expect(hex(out)).toBe(hex(five) + hex(nodeSha1(five)) + vectors.keys.full.bytes + vectors.keys.full.hash + hex(seven) + hex(nodeSha1(seven)));
    expectEngineClean(engine);
  });
});

/** A minimal WebAssembly module exporting the given i32 globals (and nothing else). */
function moduleWithGlobals(globals: Record<string, number>): Uint8Array<ArrayBuffer> {
  const leb = (n: number): number[] => {
    const out: number[] = [];
    for (;;) {
      const byte = n & 0x7f;
      n >>= 7;
      if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
      out.push(byte | 0x80);
    }
  };
  const uleb = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...uleb(n >>> 7)]);
  const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
  const names = Object.keys(globals);
  // https://webassembly.github.io/spec/core/binary/modules.html: global section (6), export section (7).
  const globalSection = section(6, [...uleb(names.length), ...names.flatMap((n) => [0x7f, 0x00, 0x41, ...leb(globals[n]), 0x0b])]);
  const exportSection = section(7, [...uleb(names.length), ...names.flatMap((n, i) => [...uleb(n.length), ...new TextEncoder().encode(n), 0x03, ...uleb(i)])]);
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...globalSection, ...exportSection]);
}

describe('the core’s sizes are checked when it is instantiated', () => {
  it('a core whose KEY_BYTES, DIGEST_BYTES or RECORD_BYTES differ is refused with a clear message', () => {
    const sizes = { KEY_BYTES: 256, DIGEST_BYTES: 20, RECORD_BYTES: 276 };
    for (const [name, wrong] of [
      ['KEY_BYTES', 255],
      ['DIGEST_BYTES', 32],
      ['RECORD_BYTES', 288],
    ] as const) {
      const core = moduleWithGlobals({ ...sizes, [name]: wrong });
      expect(WebAssembly.validate(core)).toBe(true);
      thrown(
        () => new Engine(core),
        Error,
        new RegExp(
          `^mtproto-authkey: the WebAssembly core has ${name} = ${wrong}, but this build of mtproto-authkey expects ${(sizes as Record<string, number>)[name]}; `,
        ),
      );
    }
    const { RECORD_BYTES: _omitted, ...partial } = sizes;
    thrown(() => new Engine(moduleWithGlobals(partial)), Error, /^mtproto-authkey: the WebAssembly core does not export RECORD_BYTES; /);
  });
});
