import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256 } from '../src/index.ts';
import { setSha256Route, sha256Pair } from '../src/core/sha256.ts';
import { engines, hex, seededBytes } from './helpers.ts';

const text = (s: string) => new TextEncoder().encode(s);
const nodeSha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

// FIPS 180-4 examples (NIST CSRC "Cryptographic Standards and Guidelines: Examples with
// Intermediate Values", SHA256.pdf and SHA2_Additional.pdf): "abc", the 448-bit and 896-bit
// messages, and one million 'a'.
const VECTORS: Array<[string, Uint8Array, string]> = [
  ['empty', new Uint8Array(0), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ['abc', text('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ['448-bit', text('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
  [
    '896-bit',
    text('abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu'),
    'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
  ],
  ['million a', new Uint8Array(1_000_000).fill(0x61), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0'],
];

const routes = ['wasm', 'node'] as const;

afterAll(() => {
  setSha256Route('auto');
});

describe.each(routes)('sha256 on the %s route', (route) => {
  it('the route is available here', () => {
    expect(setSha256Route(route)).toBe(true);
  });

  it.each(VECTORS)('FIPS 180-4 example: %s', (_name, input, expected) => {
    setSha256Route(route);
    expect(hex(sha256(input))).toBe(expected);
  });

  it('matches node:crypto for every length 0..4096', () => {
    setSha256Route(route);
    const data = seededBytes(4096, 0x256);
    const bad: number[] = [];
    for (let n = 0; n <= 4096; n++) {
      const m = data.subarray(0, n);
      if (hex(sha256(m)) !== nodeSha256(m)) bad.push(n);
    }
    expect(bad).toEqual([]);
  });

  it('the two-part hash equals SHA-256 of the concatenation, for parts around block edges and INPUT', () => {
    setSha256Route(route);
    const a = seededBytes(200, 1);
    const b = seededBytes(70_000, 2);
    const out = new Uint8Array(40);
    for (const [aAt, aLen, bAt, bLen] of [
      [0, 0, 0, 0],
      [3, 32, 0, 0],
      [0, 36, 5, 16],
      [88, 32, 0, 55],
      [8, 32, 1, 56],
      [0, 64, 0, 64],
      [0, 32, 0, 1024],
      [17, 100, 3, 65_536 - 100],
      [0, 32, 0, 65_536],
      [0, 200, 1, 69_999],
    ]) {
      sha256Pair(a, aAt, aLen, b, bAt, bLen, out, 5);
      const whole = Buffer.concat([a.subarray(aAt, aAt + aLen), b.subarray(bAt, bAt + bLen)]);
      expect(hex(out.subarray(5, 37)), `${aLen} + ${bLen}`).toBe(nodeSha256(whole));
    }
  });

  it('returns a fresh 32-byte plain Uint8Array, and hashes a subarray view and a Buffer', () => {
    setSha256Route(route);
    const big = seededBytes(500, 9);
    const view = big.subarray(13, 413);
    const d = sha256(view);
    expect(d).toHaveLength(32);
    expect(hex(d)).toBe(nodeSha256(view));
    expect(hex(sha256(Buffer.from(view)))).toBe(nodeSha256(view));
    expect(sha256(view)).not.toBe(d);
  });
});

describe('sha256 arguments', () => {
  it('rejects what is not a Uint8Array with a TypeError naming what arrived', () => {
    for (const bad of [null, undefined, 'abc', 42, [1, 2], new ArrayBuffer(4), new Uint16Array(2), {}, new Proxy(new Uint8Array(4), {})]) {
      expect(() => sha256(bad as never)).toThrow(TypeError);
    }
    expect(() => sha256('abc' as never)).toThrow(/sha256 data: expected Uint8Array, got string/);
  });
});

describe.each(engines())('%s core: SHA-256', (_name, engine) => {
  it('matches node:crypto for every length 0..4096', () => {
    const data = seededBytes(4096, 0x5eed);
    const bad: number[] = [];
    for (let n = 0; n <= 4096; n++) {
      const m = data.subarray(0, n);
      if (hex(engine.sha256(m)) !== nodeSha256(m)) bad.push(n);
    }
    expect(bad).toEqual([]);
  });

  it.each(VECTORS)('FIPS 180-4 example: %s', (_name, input, expected) => {
    expect(hex(engine.sha256(input))).toBe(expected);
  });

  it('matches node:crypto across the input buffer size (64 KiB) and beyond, also in two parts', () => {
    const out = new Uint8Array(32);
    for (const n of [65_535, 65_536, 65_537, 3 * 65_536 + 17]) {
      const m = seededBytes(n, n);
      expect(hex(engine.sha256(m))).toBe(nodeSha256(m));
      engine.sha256Pair(m, 0, 40, m, 40, n - 40, out, 0);
      expect(hex(out)).toBe(nodeSha256(m));
    }
  });

  it('sha256KeyIv gives MTProto 2.0 aes_key ‖ aes_iv, by the spec on node:crypto, for x = 0 and 8', () => {
    const page = seededBytes(3 * 276, 21);
    const mk = seededBytes(40, 22);
    const out = new Uint8Array(80);
    for (const x of [0, 8]) {
      const at = 276;
      const k = page.subarray(at, at + 256);
      const m = mk.subarray(7, 23);
      const a = createHash('sha256')
        .update(m)
        .update(k.subarray(x, x + 36))
        .digest();
      const b = createHash('sha256')
        .update(k.subarray(40 + x, 76 + x))
        .update(m)
        .digest();
      const want = Buffer.concat([a.subarray(0, 8), b.subarray(8, 24), a.subarray(24, 32), b.subarray(0, 8), a.subarray(8, 24), b.subarray(24, 32)]);
      engine.sha256KeyIv(page, at, x, mk, 7, out, 9);
      expect(hex(out.subarray(9, 73)), `x = ${x}`).toBe(want.toString('hex'));
    }
  });

  it('sha256KeyIv refuses ranges outside their arrays and an x other than 0 or 8', () => {
    const key = new Uint8Array(256);
    const mk = new Uint8Array(16);
    const out = new Uint8Array(64);
    expect(() => engine.sha256KeyIv(key, 0, 4, mk, 0, out, 0)).toThrow(RangeError);
    expect(() => engine.sha256KeyIv(key, 1, 0, mk, 0, out, 0)).toThrow(RangeError);
    expect(() => engine.sha256KeyIv(key, 0, 0, mk, 1, out, 0)).toThrow(RangeError);
    expect(() => engine.sha256KeyIv(key, 0, 0, mk, 0, out, 1)).toThrow(RangeError);
    expect(() => engine.sha256KeyIv(key, 0, 0, 'x' as never, 0, out, 0)).toThrow(TypeError);
  });

  it('a two-part range outside its array is refused before anything is hashed', () => {
    const a = new Uint8Array(32);
    const out = new Uint8Array(32);
    expect(() => engine.sha256Pair(a, 1, 32, a, 0, 0, out, 0)).toThrow(RangeError);
    expect(() => engine.sha256Pair(a, 0, 32, a, 0, 33, out, 0)).toThrow(RangeError);
    expect(() => engine.sha256Pair(a, 0, 32, a, 0, 0, out, 1)).toThrow(RangeError);
    expect(() => engine.sha256Pair(a, -1, 1, a, 0, 0, out, 0)).toThrow(RangeError);
    expect(() => engine.sha256Pair(a, 0.5, 1, a, 0, 0, out, 0)).toThrow(RangeError);
  });

  it('a SHA-1 stream open in the core is not disturbed by SHA-256 calls', () => {
    const m = seededBytes(300, 3);
    const s = { saved: null };
    engine.streamInit(s);
    engine.streamUpdate(s, m.subarray(0, 150));
    engine.sha256(seededBytes(100_000, 4));
    engine.streamUpdate(s, m.subarray(150));
    expect(hex(engine.streamFinal(s))).toBe(createHash('sha1').update(m).digest('hex'));
  });
});
