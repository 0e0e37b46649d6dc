import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AuthKey } from '../src/index.ts';
import vectors from './vectors/auth-keys.json' with { type: 'json' };
import { fromHex, hex, nodeSha1, seededBytes } from './helpers.ts';

// Expected values come from test/vectors/make-vectors.py (Python's hashlib).
const cases = Object.entries(vectors.keys);
const newNonce = fromHex(vectors.newNonce);

describe('AuthKey vectors (computed with Python hashlib)', () => {
  it.each(cases)('%s: from bytes, bigint and hex alike', (_name, v) => {
    for (const key of [new AuthKey(fromHex(v.bytes)), new AuthKey(BigInt(v.value)), AuthKey.fromHex(v.value), AuthKey.fromHex(v.bytes)]) {
      expect(key.value).toBe(BigInt(v.value));
      expect(hex(key.bytes)).toBe(v.bytes);
      expect(key.hash).toBe(BigInt('0x' + v.hash));
      expect(key.id).toBe(BigInt('0x' + v.id));
      expect(key.auxHash).toBe(BigInt('0x' + v.auxHash));
      expect(hex(key.hashBytes)).toBe(v.hash);
      expect(hex(key.idBytes)).toBe(v.id);
      expect(hex(key.auxHashBytes)).toBe(v.auxHash);
    }
  });

  it.each(cases)('%s: calcNewNonceHash for n = 1, 2, 3', (_name, v) => {
    const key = new AuthKey(fromHex(v.bytes));
    for (const n of [1, 2, 3] as const) {
      expect(hex(key.calcNewNonceHash(newNonce, n))).toBe(v.newNonceHash[n]);
    }
  });

  it('id is digest bytes 12..19 and auxHash digest bytes 0..7, read big-endian (core.telegram.org/mtproto/auth_key)', () => {
    for (const [, v] of cases) {
      const key = new AuthKey(BigInt(v.value));
      const digest = nodeSha1(fromHex(v.bytes));
      expect(key.id).toBe(digest.readBigUInt64BE(12));
      expect(key.auxHash).toBe(digest.readBigUInt64BE(0));
      expect(key.id).toBe(BigInt('0x' + v.hash.slice(24)));
      expect(key.auxHash).toBe(BigInt('0x' + v.hash.slice(0, 16)));
    }
  });

  it('the vector file holds the cases these tests loop over (an empty file would pass them vacuously)', () => {
    expect(cases.map(([name]) => name).sort()).toEqual(['full', 'leadingZeros', 'small']);
    expect(newNonce).toHaveLength(32);
  });
});

describe('AuthKey', () => {
  it('round-trips bigint ↔ bytes for random keys, including leading zero bytes', () => {
    for (let i = 0; i < 300; i++) {
      const bytes = seededBytes(256, 31 + i);
      bytes.fill(0, 0, i % 50);
      if (bytes.every((b) => b === 0)) continue;
      const fromBytes = new AuthKey(bytes);
      const fromValue = new AuthKey(fromBytes.value);
      expect(hex(fromValue.bytes)).toBe(hex(bytes));
      expect(fromValue.value).toBe(BigInt('0x' + hex(bytes)));
      expect(hex(fromValue.hashBytes)).toBe(hex(nodeSha1(bytes)));
      expect(fromValue.equals(fromBytes)).toBe(true);
    }
  });

  it('accepts the extremes 1 and 2**2048 - 1', () => {
    const one = new AuthKey(1n);
    expect(hex(one.bytes)).toBe('00'.repeat(255) + '01');
    expect(hex(one.hashBytes)).toBe(hex(nodeSha1(one.bytes)));
    const max = new AuthKey((1n << 2048n) - 1n);
    expect(hex(max.bytes)).toBe('ff'.repeat(256));
    expect(hex(max.hashBytes)).toBe(hex(nodeSha1(new Uint8Array(256).fill(0xff))));
  });

  it('copies its input: changing the caller’s array later does not change the key', () => {
    const bytes = seededBytes(256, 5);
    const key = new AuthKey(bytes);
    const id = key.id;
    bytes.fill(0);
    expect(hex(key.bytes)).toBe(hex(seededBytes(256, 5)));
    expect(key.id).toBe(id);
  });

  it('returns fresh copies: mutating them does not change the key', () => {
    const key = new AuthKey(seededBytes(256, 6));
    const before = [hex(key.bytes), hex(key.hashBytes), hex(key.idBytes), hex(key.auxHashBytes)];
    for (const arr of [key.bytes, key.hashBytes, key.idBytes, key.auxHashBytes]) arr.fill(0xee);
    expect([hex(key.bytes), hex(key.hashBytes), hex(key.idBytes), hex(key.auxHashBytes)]).toEqual(before);
    expect(key.bytes).not.toBe(key.bytes);
    expect(() => {
      (key as unknown as { value: bigint }).value = 5n;
    }).toThrow(TypeError);
  });

  it('equals compares key bytes', () => {
    const a = seededBytes(256, 8);
    const b = a.slice();
    b[255] ^= 1;
    const c = a.slice();
    c[0] ^= 0x80;
    expect(new AuthKey(a).equals(new AuthKey(a.slice()))).toBe(true);
    expect(new AuthKey(a).equals(new AuthKey(b))).toBe(false);
    expect(new AuthKey(a).equals(new AuthKey(c))).toBe(false);
    expect(() => new AuthKey(a).equals(a as never)).toThrow(TypeError);
  });

  it('never shows key material in toString, toJSON, inspect or template strings', () => {
    const bytes = seededBytes(256, 9);
    const key = new AuthKey(bytes);
    const idHex = hex(key.idBytes);
    const shown = [String(key), `${key}`, JSON.stringify(key), inspect(key), inspect({ nested: [key] }, { depth: 5 })];
    const secrets = [hex(bytes), key.value.toString(16), key.value.toString(), hex(bytes).slice(0, 16)];
    for (const s of shown) {
      expect(s).toContain(idHex);
      for (const secret of secrets) expect(s).not.toContain(secret);
    }
    expect(String(key)).toBe(`AuthKey(id=0x${idHex})`);
    expect(JSON.parse(JSON.stringify(key))).toEqual({ id: `0x${idHex}` });
  });

  describe('bad input', () => {
    const typeErrors: Array<[string, unknown]> = [
      ['null', null],
      ['undefined', undefined],
      ['number', 12345],
      ['string', 'abc'],
      ['Array', new Array(256).fill(1)],
      ['ArrayBuffer', new ArrayBuffer(256)],
      ['Uint16Array', new Uint16Array(128)],
      ['object', {}],
    ];
    it.each(typeErrors)('TypeError for %s', (_name, value) => {
      expect(() => new AuthKey(value as never)).toThrow(TypeError);
      expect(() => new AuthKey(value as never)).toThrow(/expected a bigint or a Uint8Array of 256 bytes/);
    });

    const rangeErrors: Array<[string, unknown, RegExp]> = [
      ['0n', 0n, /got 0/],
      ['-1n', -1n, /negative/],
      ['2**2048', 1n << 2048n, /2049 bits/],
      ['255 bytes', new Uint8Array(255), /expected 256 bytes, got 255/],
      ['257 bytes', new Uint8Array(257), /expected 256 bytes, got 257/],
      ['0 bytes', new Uint8Array(0), /expected 256 bytes, got 0/],
      ['256 zero bytes', new Uint8Array(256), /got 0/],
    ];
    it.each(rangeErrors)('RangeError for %s', (_name, value, message) => {
      expect(() => new AuthKey(value as never)).toThrow(RangeError);
      expect(() => new AuthKey(value as never)).toThrow(message);
    });

    it('fromHex: TypeError for a non-string, RangeError for empty, non-hex or too long', () => {
      expect(() => AuthKey.fromHex(5 as never)).toThrow(TypeError);
      expect(() => AuthKey.fromHex('')).toThrow(RangeError);
      expect(() => AuthKey.fromHex('0x')).toThrow(RangeError);
      expect(() => AuthKey.fromHex('12g4')).toThrow(/non-hex/);
      expect(() => AuthKey.fromHex('1'.repeat(513))).toThrow(/got 513 characters/);
      expect(() => AuthKey.fromHex('0'.repeat(512))).toThrow(RangeError);
      expect(AuthKey.fromHex('0X' + 'AB'.repeat(256)).bytes).toEqual(new Uint8Array(256).fill(0xab));
    });

    it('calcNewNonceHash: RangeError for a nonce that is not 32 bytes or n not 1..3, TypeError for wrong types', () => {
      const key = new AuthKey(seededBytes(256, 12));
      expect(() => key.calcNewNonceHash(new Uint8Array(31), 1)).toThrow(/expected 32 bytes, got 31/);
      expect(() => key.calcNewNonceHash(new Uint8Array(33), 1)).toThrow(RangeError);
      expect(() => key.calcNewNonceHash('x'.repeat(32) as never, 1)).toThrow(TypeError);
      for (const n of [0, 4, 1.5, -1, Number.NaN]) {
        expect(() => key.calcNewNonceHash(new Uint8Array(32), n as never)).toThrow(RangeError);
      }
      expect(() => key.calcNewNonceHash(new Uint8Array(32), '1' as never)).toThrow(TypeError);
      expect(() => key.calcNewNonceHash(new Uint8Array(32), 1n as never)).toThrow(TypeError);
    });

    it('messages never include the rejected value itself', () => {
      const big = (1n << 2048n) + 123456789n;
      const errors = [
        (() => {
          try {
            new AuthKey(big);
          } catch (e) {
            return e;
          }
        })(),
        (() => {
          try {
            AuthKey.many([1n, -big]);
          } catch (e) {
            return e;
          }
        })(),
      ];
      for (const e of errors) {
        expect(e).toBeInstanceOf(RangeError);
        expect(String(e)).not.toContain('123456789');
        expect(String(e)).not.toContain(big.toString(16).slice(-8));
      }
    });
  });
});

describe('AuthKey.many', () => {
  it('gives each element’s bytes and node:crypto digest, for byte, bigint and mixed arrays of many sizes', () => {
    for (const n of [0, 1, 3, 4, 5, 63, 64, 65, 255, 256, 257, 300, 513, 1000]) {
      const bytes = Array.from({ length: n }, (_, i) => seededBytes(256, 40_000 + n * 7 + i));
      const values = bytes.map((b) => BigInt('0x' + hex(b)));
      const mixed = bytes.map((b, i) => (i % 3 === 0 ? values[i] : b));
      for (const input of [bytes, values, mixed]) {
        const keys = AuthKey.many(input);
        expect(keys).toHaveLength(n);
        keys.forEach((k, i) => {
          expect(hex(k.bytes)).toBe(hex(bytes[i]));
          expect(hex(k.hashBytes), `key ${i} of ${n}`).toBe(hex(nodeSha1(bytes[i])));
        });
      }
    }
  });

  it('copies its inputs', () => {
    const b = seededBytes(256, 77);
    const [k] = AuthKey.many([b]);
    b.fill(1);
    expect(hex(k.bytes)).toBe(hex(seededBytes(256, 77)));
  });

  it('names the index of a bad element, with the class new AuthKey would throw', () => {
    const good = seededBytes(256, 1);
    expect(() => AuthKey.many([good, good, new Uint8Array(255)])).toThrow(/element 2: auth key: expected 256 bytes, got 255/);
    expect(() => AuthKey.many([good, 'x' as never])).toThrow(TypeError);
    expect(() => AuthKey.many([good, 'x' as never])).toThrow(/element 1/);
    expect(() => AuthKey.many([0n])).toThrow(RangeError);
    expect(() => AuthKey.many([good, new Uint8Array(256)])).toThrow(/element 1: .*got 0/);
    expect(() => AuthKey.many(good as never)).toThrow(/expected an array of keys, got 256 bytes/);
  });
});
