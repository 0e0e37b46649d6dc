import { describe, expect, it } from 'vitest';
import { engines, hex, nodeSha1, seededBytes } from './helpers.ts';

describe.each(engines())('%s core: auth keys', (_name, engine) => {
  it('hashes batches of 0..600 keys (any remainder mod 4, across the 256-key call size) like node:crypto', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 7, 8, 63, 255, 256, 257, 259, 511, 512, 513, 600]) {
      const keys = seededBytes(n * 256, n + 1);
      const out = new Uint8Array(n * 20);
      engine.hashKeysInto(keys, 0, n, out, 0, 20);
      for (let k = 0; k < n; k++) {
        expect(hex(out.subarray(20 * k, 20 * k + 20)), `key ${k} of ${n}`).toBe(hex(nodeSha1(keys.subarray(256 * k, 256 * k + 256))));
      }
    }
  });

  it('hashes random batches of every size 1..40 with a strided output', () => {
    for (let n = 1; n <= 40; n++) {
      const keys = seededBytes(n * 256 + 9, 1000 + n);
      const out = new Uint8Array(n * 32);
      engine.hashKeysInto(keys, 9, n, out, 4, 32);
      for (let k = 0; k < n; k++) {
        const key = keys.subarray(9 + 256 * k, 9 + 256 * (k + 1));
        expect(hex(out.subarray(4 + 32 * k, 4 + 32 * k + 20)), `key ${k} of ${n}`).toBe(hex(nodeSha1(key)));
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
    }
  });
});
