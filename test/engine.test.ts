import { describe, expect, it } from 'vitest';
import { engine, simdSupported } from '../src/core/engine.ts';
import { engines, hex, nodeSha1, seededBytes } from './helpers.ts';

describe.each(engines())('%s core: auth keys', (_name, engine) => {
  it('hashes batches of 0..600 keys (any remainder mod 4, across the 256-key call size) like node:crypto', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 7, 8, 63, 255, 256, 257, 259, 511, 512, 513, 600]) {
      const keys = seededBytes(n * 256, n + 1);
      const out = new Uint8Array(n * 20);
      engine.hashKeysInto(keys, 0, n, out, 0);
      for (let k = 0; k < n; k++) {
        expect(hex(out.subarray(20 * k, 20 * k + 20)), `key ${k} of ${n}`).toBe(hex(nodeSha1(keys.subarray(256 * k, 256 * k + 256))));
      }
    }
  });

  it('hashes records (key, then room for its digest) in place for 0..600 records, at an offset', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 40, 255, 256, 257, 259, 512, 513, 600]) {
      const records = seededBytes(n * 276 + 9, 2000 + n);
      const keys = Array.from({ length: n }, (_, k) => records.slice(9 + 276 * k, 9 + 276 * k + 256));
      engine.hashRecords(records, 9, n);
      for (let k = 0; k < n; k++) {
        const rec = records.subarray(9 + 276 * k, 9 + 276 * (k + 1));
        expect(hex(rec.subarray(0, 256)), `key ${k} of ${n} unchanged`).toBe(hex(keys[k]));
        expect(hex(rec.subarray(256)), `digest ${k} of ${n}`).toBe(hex(nodeSha1(keys[k])));
      }
    }
  });

  it('converts bigint to 256 big-endian bytes and back, with the digest', () => {
    for (let i = 0; i < 200; i++) {
      const bytes = seededBytes(256, 77 + i);
      bytes.fill(0, 0, i % 40); // leading zero bytes, 0..39 of them (odd hex lengths too)
      const value = BigInt('0x' + (hex(bytes).replace(/^0+/, '') || '0'));
      const rec = new Uint8Array(276);
      engine.keyFromBigint(value, rec, 0);
      expect(hex(rec.subarray(0, 256))).toBe(hex(bytes));
      expect(hex(rec.subarray(256))).toBe(hex(nodeSha1(bytes)));
      expect(engine.keyToBigint(rec, 0)).toBe(value);
      const plain = new Uint8Array(256);
      engine.bigintToKey(value, plain, 0);
      expect(hex(plain)).toBe(hex(bytes));
    }
  });
});

/**
 * A minimal module that uses a SIMD instruction: `(func (result v128) v128.const i32x4 0 0 0 0)`,
 * encoded by hand (https://webassembly.github.io/spec/core/binary/), so whether this runtime has
 * WebAssembly SIMD is known independently of the cores and of simdSupported().
 */
const SIMD_PROBE = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00, // magic, version 1
  0x01,
  0x05,
  0x01,
  0x60,
  0x00,
  0x01,
  0x7b, // type section: () -> v128
  0x03,
  0x02,
  0x01,
  0x00, // function section: one function of type 0
  0x0a,
  0x16,
  0x01,
  0x14,
  0x00,
  0xfd,
  0x0c,
  ...new Array(16).fill(0),
  0x0b, // code: v128.const 0, end
]);

describe('core selection', () => {
  it('the API uses the SIMD core where the runtime validates a SIMD instruction, else the scalar one', () => {
    const hasSimd = WebAssembly.validate(SIMD_PROBE);
    // The same module with an i32 in place of the v128 validates everywhere: the probe is well-formed.
    const control = new Uint8Array([
      0x00,
      0x61,
      0x73,
      0x6d,
      0x01,
      0x00,
      0x00,
      0x00,
      0x01,
      0x05,
      0x01,
      0x60,
      0x00,
      0x01,
      0x7f, // () -> i32
      0x03,
      0x02,
      0x01,
      0x00,
      0x0a,
      0x06,
      0x01,
      0x04,
      0x00,
      0x41,
      0x00,
      0x0b, // i32.const 0, end
    ]);
    expect(WebAssembly.validate(control)).toBe(true);
    expect(engine.simd).toBe(hasSimd);
    expect(simdSupported()).toBe(hasSimd);
    expect(engines().map(([name]) => name)).toEqual(hasSimd ? ['scalar', 'simd'] : ['scalar']);
  });
});
