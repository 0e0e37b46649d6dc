import { describe, expect, it } from 'vitest';
import { Sha1, sha1, sha1AuthKeys } from '../src/index.ts';
import { engines, hex, nodeSha1, seededBytes } from './helpers.ts';

const text = (s: string) => new TextEncoder().encode(s);

// RFC 3174 §7.3 test vectors (TEST1..TEST4) and FIPS 180-4 examples.
const VECTORS: Array<[string, Uint8Array, string]> = [
  ['empty', new Uint8Array(0), 'da39a3ee5e6b4b0d3255bfef95601890afd80709'],
  ['abc', text('abc'), 'a9993e364706816aba3e25717850c26c9cd0d89d'],
  ['448-bit', text('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'), '84983e441c3bd26ebaae4aa1f95129e5e54670f1'],
  ['million a', new Uint8Array(1_000_000).fill(0x61), '34aa973cd4c4daa4f61eeb2bdbad27316534016f'],
  ['0123456701234567 × 80', text('01234567'.repeat(80)), 'dea356a2cddd90c7a7ecedc5ebb563934f460452'],
];

describe('sha1 (one-shot)', () => {
  it.each(VECTORS)('RFC 3174 / FIPS vector: %s', (_name, input, expected) => {
    expect(hex(sha1(input))).toBe(expected);
  });

  it('returns a fresh 20-byte array each call', () => {
    const a = sha1(text('abc'));
    const b = sha1(text('abc'));
    expect(a).toHaveLength(20);
    expect(a).not.toBe(b);
    a.fill(0);
    expect(hex(sha1(text('abc')))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
  });

  it('accepts a Buffer and a subarray view with an offset', () => {
    const big = seededBytes(300, 7);
    const view = big.subarray(13, 213);
    expect(hex(sha1(view))).toBe(hex(nodeSha1(view)));
    expect(hex(sha1(Buffer.from(view)))).toBe(hex(nodeSha1(view)));
  });

  it('rejects what is not a Uint8Array with a TypeError naming what arrived', () => {
    for (const bad of [null, undefined, 'abc', 42, [1, 2], new ArrayBuffer(4), new Uint16Array(2), {}]) {
      expect(() => sha1(bad as never)).toThrow(TypeError);
    }
    expect(() => sha1('abc' as never)).toThrow(/expected Uint8Array, got string/);
  });
});

describe.each(engines())('%s core', (_name, engine) => {
  const digest = (data: Uint8Array) => engine.sha1(data);

  it('matches node:crypto for every length 0..4096', () => {
    const data = seededBytes(4096, 0x5eed);
    const bad: number[] = [];
    for (let n = 0; n <= 4096; n++) {
      const m = data.subarray(0, n);
      if (hex(digest(m)) !== hex(nodeSha1(m))) bad.push(n);
    }
    expect(bad).toEqual([]);
  });

  it('matches node:crypto across the input buffer size (64 KiB) and beyond', () => {
    for (const n of [65535, 65536, 65537, 3 * 65536 + 17]) {
      const m = seededBytes(n, n);
      expect(hex(digest(m))).toBe(hex(nodeSha1(m)));
    }
  });

  it.each([55, 56, 63, 64, 65, 119, 120, 127, 128, 129])('boundary length %i', (n) => {
    const m = seededBytes(n, 99);
    expect(hex(digest(m))).toBe(hex(nodeSha1(m)));
  });

  it('streams: every split point of a 300-byte message into two updates, with another stream in between', () => {
    const m = seededBytes(300, 3);
    const expected = hex(nodeSha1(m));
    const expectedOther = hex(nodeSha1(m.subarray(0, 100)));
    for (let cut = 0; cut <= m.length; cut++) {
      // Two streams alternate, so each update moves the other's state out of the core and back.
      const a = { saved: null };
      const b = { saved: null };
      engine.streamInit(a);
      engine.streamInit(b);
      engine.streamUpdate(a, m.subarray(0, cut));
      engine.streamUpdate(b, m.subarray(0, 50));
      engine.streamUpdate(a, m.subarray(cut));
      engine.streamUpdate(b, m.subarray(50, 100));
      expect(hex(engine.streamFinal(a)), `split at ${cut}`).toBe(expected);
      expect(hex(engine.streamFinal(b))).toBe(expectedOther);
    }
  });
});

describe('Sha1 (streaming)', () => {
  it('matches node:crypto for every split point, and three-way splits around block edges', () => {
    const m = seededBytes(200, 11);
    const expected = hex(nodeSha1(m));
    for (let cut = 0; cut <= m.length; cut++) {
      expect(hex(new Sha1().update(m.subarray(0, cut)).update(m.subarray(cut)).digest()), `split at ${cut}`).toBe(expected);
    }
    for (const a of [0, 1, 55, 56, 63, 64, 65]) {
      for (const b of [a, a + 1, a + 63, a + 64, a + 65, 200]) {
        if (b > 200) continue;
        const got = new Sha1().update(m.subarray(0, a)).update(m.subarray(a, b)).update(m.subarray(b)).digest();
        expect(hex(got), `splits ${a}/${b}`).toBe(expected);
      }
    }
  });

  it('handles chunks of varying size over a large message', () => {
    const m = seededBytes(200_003, 5);
    const h = new Sha1();
    for (let at = 0, step = 1; at < m.length; at += step, step = (step * 7 + 3) % 70_001) {
      h.update(m.subarray(at, Math.min(at + step, m.length)));
    }
    expect(hex(h.digest())).toBe(hex(nodeSha1(m)));
  });

  it('keeps interleaved instances independent', () => {
    const a = new Sha1().update(text('ab'));
    const b = new Sha1().update(text('01234567'.repeat(40)));
    a.update(text('c'));
    b.update(text('01234567'.repeat(40)));
    expect(hex(a.digest())).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(hex(b.digest())).toBe('dea356a2cddd90c7a7ecedc5ebb563934f460452');
  });

  it('a one-shot sha1 or a batch between two updates does not disturb an open stream', () => {
    // Regression guard: a stream's state stays in the core between its calls.
    const h = new Sha1().update(text('ab'));
    expect(hex(sha1(text('abc')))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    sha1(seededBytes(70_000, 1));
    sha1AuthKeys(seededBytes(256 * 5, 2));
    const other = new Sha1().update(text('zz'));
    h.update(text('c'));
    other.digest();
    expect(hex(h.digest())).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
  });

  it('update is chainable and the million-a vector streams', () => {
    const h = new Sha1();
    const chunk = new Uint8Array(1000).fill(0x61);
    for (let i = 0; i < 1000; i++) expect(h.update(chunk)).toBe(h);
    expect(hex(h.digest())).toBe('34aa973cd4c4daa4f61eeb2bdbad27316534016f');
  });

  it('refuses update and digest after digest', () => {
    const h = new Sha1().update(text('abc'));
    h.digest();
    expect(() => h.update(text('x'))).toThrow(/already taken/);
    expect(() => h.digest()).toThrow(/already taken/);
  });

  it('rejects a wrong type and is unchanged after it', () => {
    const h = new Sha1().update(text('ab'));
    expect(() => h.update('c' as never)).toThrow(TypeError);
    expect(() => h.update(new Uint32Array(1) as never)).toThrow(TypeError);
    expect(hex(h.update(text('c')).digest())).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
  });
});

describe('sha1AuthKeys', () => {
  it('hashes n keys back to back into n digests, like node:crypto, for n not a multiple of 4', () => {
    for (const n of [0, 1, 2, 3, 5, 6, 7, 255, 256, 257, 1001]) {
      const keys = seededBytes(256 * n, 500 + n);
      const digests = sha1AuthKeys(keys);
      expect(digests).toHaveLength(20 * n);
      for (let i = 0; i < n; i++) {
        expect(hex(digests.subarray(20 * i, 20 * i + 20)), `key ${i} of ${n}`).toBe(hex(nodeSha1(keys.subarray(256 * i, 256 * i + 256))));
      }
    }
  });

  it('rejects a length that is not a multiple of 256 (RangeError) and a non-Uint8Array (TypeError)', () => {
    expect(() => sha1AuthKeys(new Uint8Array(255))).toThrow(/multiple of 256 bytes.*got 255/);
    expect(() => sha1AuthKeys(new Uint8Array(257))).toThrow(RangeError);
    expect(() => sha1AuthKeys([1, 2] as never)).toThrow(TypeError);
  });
});
