/**
 * AES-256-IGE: both WebAssembly cores (bitsliced scalar, vector-permute SIMD) called directly, and
 * the API with each encryption route forced. Expected values come from outside this library:
 * FIPS-197 Appendix C.3, NIST AESAVS (test/vectors/aesavs-256.json), OpenSSL's AES_ige_encrypt
 * (test/vectors/aes-ige.json, made by test/vectors/ige-openssl.c), and IGE built here on
 * node:crypto's aes-256-ecb one block at a time.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { aes256IgeDecrypt, aes256IgeEncrypt, aesEncryptRoute, forceAesEncryptRouteForTest, NODE_ENCRYPT_MIN_BYTES } from '../src/core/aes.ts';
import { engine as apiEngine } from '../src/core/engine.ts';
import type { Engine } from '../src/core/wasm.ts';
import { engines, fromHex, hex, seededBytes } from './helpers.ts';

interface AesavsCase {
  set: string;
  key: string;
  plaintext: string;
  ciphertext: string;
}
interface IgeCase {
  length: number;
  key: string;
  iv: string;
  input?: string;
  encrypted?: string;
  decrypted?: string;
  inputSha256?: string;
  encryptedSha256?: string;
  decryptedSha256?: string;
}
const aesavs = JSON.parse(readFileSync(new URL('./vectors/aesavs-256.json', import.meta.url), 'utf8')) as { cases: AesavsCase[] };
const ige = JSON.parse(readFileSync(new URL('./vectors/aes-ige.json', import.meta.url), 'utf8')) as { cases: IgeCase[] };
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const ZERO_IV = new Uint8Array(32);

/** IGE from node:crypto's AES one block at a time: the second, independent oracle. */
function nodeIge(data: Uint8Array, key: Uint8Array, iv: Uint8Array, decrypt: boolean): Uint8Array {
  const out = new Uint8Array(data.length);
  let y = iv.slice(0, 16); // previous ciphertext block
  let x = iv.slice(16, 32); // previous plaintext block
  const xor = (a: Uint8Array, b: Uint8Array) => a.map((v, i) => v ^ b[i]);
  for (let at = 0; at < data.length; at += 16) {
    const block = data.slice(at, at + 16);
    if (decrypt) {
      const d = createDecipheriv('aes-256-ecb', key, null).setAutoPadding(false).update(xor(block, x));
      x = xor(new Uint8Array(d), y);
      y = block;
      out.set(x, at);
    } else {
      const e = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false).update(xor(block, y));
      y = xor(new Uint8Array(e), x);
      x = block;
      out.set(y, at);
    }
  }
  return out;
}

/** The case's key, IV and input: from the JSON, or made as ige-openssl.c made them. */
function igeInputs(c: IgeCase): { key: Uint8Array; iv: Uint8Array; input: Uint8Array } {
  const key = seededBytes(32, 1000 + c.length);
  const iv = seededBytes(32, 2000 + c.length);
  const input = seededBytes(c.length, 3000 + c.length);
  // The JSON's own key and IV agree with the generator's: the port of its input rule is right.
  expect(hex(key)).toBe(c.key);
  expect(hex(iv)).toBe(c.iv);
  if (c.input !== undefined) expect(hex(input)).toBe(c.input);
  else expect(sha256(input)).toBe(c.inputSha256);
  return { key, iv, input };
}

function expectIgeCase(
  c: IgeCase,
  encrypt: (d: Uint8Array, k: Uint8Array, v: Uint8Array) => Uint8Array,
  decrypt: (d: Uint8Array, k: Uint8Array, v: Uint8Array) => Uint8Array,
): void {
  const { key, iv, input } = igeInputs(c);
  const enc = encrypt(input, key, iv);
  const dec = decrypt(input, key, iv);
  if (c.encrypted !== undefined) {
    expect(hex(enc), `encrypt ${c.length}`).toBe(c.encrypted);
    expect(hex(dec), `decrypt ${c.length}`).toBe(c.decrypted);
  } else {
    expect(sha256(enc), `encrypt ${c.length}`).toBe(c.encryptedSha256);
    expect(sha256(dec), `decrypt ${c.length}`).toBe(c.decryptedSha256);
  }
  expect(hex(decrypt(enc, key, iv)), `round trip ${c.length}`).toBe(hex(input));
  expect(hex(encrypt(dec, key, iv)), `round trip ${c.length}`).toBe(hex(input));
}

function expectClean(engine: Engine): void {
  const residue = engine.aesResidueForTest();
  expect(residue.length).toBeGreaterThan(65536);
  expect(
    residue.every((b) => b === 0),
    'AES staging areas zeroed',
  ).toBe(true);
}

describe.each(engines())('%s core: AES-256-IGE', (_name, engine) => {
  const enc = (d: Uint8Array, k: Uint8Array, v: Uint8Array) => engine.aes256Ige(d, k, v, false);
  const dec = (d: Uint8Array, k: Uint8Array, v: Uint8Array) => engine.aes256Ige(d, k, v, true);

  it('FIPS-197 Appendix C.3 (AES-256): one block, both directions (IGE with a zero IV is one block of AES)', () => {
    const key = fromHex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
    const pt = fromHex('00112233445566778899aabbccddeeff');
    expect(hex(enc(pt, key, ZERO_IV))).toBe('8ea2b7ca516745bfeafc49904b496089');
    expect(hex(dec(fromHex('8ea2b7ca516745bfeafc49904b496089'), key, ZERO_IV))).toBe(hex(pt));
    expectClean(engine);
  });

  it(`NIST AESAVS AES-256 known answers (${aesavs.cases.length}: GFSbox, KeySbox, VarTxt, VarKey), both directions`, () => {
    const sets = new Set<string>();
    for (const c of aesavs.cases) {
      const key = fromHex(c.key);
      expect(hex(enc(fromHex(c.plaintext), key, ZERO_IV)), `${c.set} ${c.key} ${c.plaintext}`).toBe(c.ciphertext);
      expect(hex(dec(fromHex(c.ciphertext), key, ZERO_IV)), `${c.set} ${c.key} ${c.ciphertext}`).toBe(c.plaintext);
      sets.add(c.set);
    }
    expect([...sets].sort()).toEqual(['GFSbox256', 'KeySbox256', 'VarKey256', 'VarTxt256']);
    expectClean(engine);
  });

  it.each(ige.cases.map((c) => [c.length, c] as const))('OpenSSL AES_ige_encrypt vectors, %i bytes, both directions', (_n, c) => {
    expectIgeCase(c, enc, dec);
    expectClean(engine);
  });

  it('matches IGE built on node:crypto aes-256-ecb for random keys, IVs and lengths, at odd offsets', () => {
    for (let i = 0; i < 60; i++) {
      const n = 16 * ((i * 37) % 70);
      const key = new Uint8Array(randomBytes(32));
      const iv = new Uint8Array(randomBytes(32));
      const backing = new Uint8Array(randomBytes(n + 3));
      const data = backing.subarray(3, 3 + n); // byteOffset 3: the engine copies by its own views
      const before = hex(backing);
      const c = enc(data, key, iv);
      expect(hex(c), `encrypt ${n}`).toBe(hex(nodeIge(data, key, iv, false)));
      expect(hex(dec(c, key, iv)), `decrypt ${n}`).toBe(hex(data));
      expect(hex(dec(data, key, iv)), `decrypt random ${n}`).toBe(hex(nodeIge(data, key, iv, true)));
      expect(hex(backing), 'input unchanged').toBe(before);
    }
    expectClean(engine);
  });

  it('wipes every staged byte, key, IV and round key after each call, also after a refused one', () => {
    const key = seededBytes(32, 5);
    const iv = seededBytes(32, 6);
    for (const n of [16, 4096, 65536, 65552, 200_000]) {
      const data = seededBytes(n, n);
      enc(data, key, iv);
      expectClean(engine);
      dec(data, key, iv);
      expectClean(engine);
    }
    expect(() => engine.aes256Ige(new Uint8Array(17), key, iv, false)).toThrow(RangeError);
    expect(() => engine.aes256Ige(new Uint8Array(16), key.subarray(1), iv, true)).toThrow(RangeError);
    expect(() => engine.aes256Ige(new Uint8Array(16), key, iv.subarray(1), true)).toThrow(RangeError);
    expect(() => engine.aes256Ige([1, 2] as never, key, iv, true)).toThrow(TypeError);
    expectClean(engine);
  });

  it('takes the empty message: an empty result', () => {
    expect(enc(new Uint8Array(0), seededBytes(32, 1), seededBytes(32, 2)).length).toBe(0);
    expect(dec(new Uint8Array(0), seededBytes(32, 1), seededBytes(32, 2)).length).toBe(0);
    expectClean(engine);
  });
});

const hasNodeRoute = (() => {
  try {
    forceAesEncryptRouteForTest('node');
    return true;
  } catch {
    return false;
  } finally {
    forceAesEncryptRouteForTest(null);
  }
})();

describe('aes256IgeEncrypt / aes256IgeDecrypt', () => {
  afterEach(() => forceAesEncryptRouteForTest(null));

  it('node:crypto is found in Node (process.getBuiltinModule), so both routes are tested here', () => {
    expect(hasNodeRoute).toBe(true);
  });

  it.each(['wasm', 'node'] as const)('encryption route %s: OpenSSL IGE vectors, and random data against per-block node:crypto', (route) => {
    forceAesEncryptRouteForTest(route);
    expect(aesEncryptRoute(16)).toBe(route);
    expect(aesEncryptRoute(1 << 20)).toBe(route);
    for (const c of ige.cases) expectIgeCase(c, aes256IgeEncrypt, aes256IgeDecrypt);
    for (let i = 0; i < 40; i++) {
      const n = 16 * ((i * 53) % 90);
      const key = randomBytes(32); // Buffers are Uint8Arrays
      const iv = randomBytes(32);
      const backing = randomBytes(n + 5);
      const data = backing.subarray(5, 5 + n);
      const before = hex(backing);
      const keyBefore = hex(key);
      const ivBefore = hex(iv);
      expect(hex(aes256IgeEncrypt(data, key, iv)), `encrypt ${n}`).toBe(hex(nodeIge(data, key, iv, false)));
      expect(hex(aes256IgeDecrypt(data, key, iv)), `decrypt ${n}`).toBe(hex(nodeIge(data, key, iv, true)));
      expect([hex(backing), hex(key), hex(iv)]).toEqual([before, keyBefore, ivBefore]);
    }
    expectClean(apiEngine);
  });

  it('the automatic encryption route: node:crypto from NODE_ENCRYPT_MIN_BYTES on (every length without SIMD), else wasm', () => {
    if (apiEngine.simd) {
      expect(aesEncryptRoute(NODE_ENCRYPT_MIN_BYTES - 16)).toBe('wasm');
      expect(aesEncryptRoute(NODE_ENCRYPT_MIN_BYTES)).toBe('node');
    } else {
      expect(aesEncryptRoute(16)).toBe('node');
    }
  });

  it('returns new arrays and takes the empty message', () => {
    const key = seededBytes(32, 1);
    const iv = seededBytes(32, 2);
    for (const route of ['wasm', 'node'] as const) {
      forceAesEncryptRouteForTest(route);
      const data = seededBytes(64, 3);
      const out = aes256IgeEncrypt(data, key, iv);
      expect(out).not.toBe(data);
      expect(out.buffer).not.toBe(data.buffer);
      expect(aes256IgeEncrypt(new Uint8Array(0), key, iv)).toEqual(new Uint8Array(0));
      expect(aes256IgeDecrypt(new Uint8Array(0), key, iv)).toEqual(new Uint8Array(0));
    }
  });

  it('refuses wrong types (TypeError) and lengths (RangeError), changing nothing and leaving nothing staged', () => {
    const key = seededBytes(32, 1);
    const iv = seededBytes(32, 2);
    const data = seededBytes(48, 3);
    const snapshot = () => [hex(key), hex(iv), hex(data)];
    const before = snapshot();
    const proxy = new Proxy(seededBytes(32, 1), {});
    const detached = new Uint8Array(32);
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    for (const f of [aes256IgeEncrypt, aes256IgeDecrypt]) {
      for (const route of ['wasm', 'node'] as const) {
        forceAesEncryptRouteForTest(route);
        for (const bad of [undefined, null, 'x', [1, 2, 3], new Uint16Array(16), new DataView(new ArrayBuffer(16)), new ArrayBuffer(16), proxy, detached]) {
          expect(() => f(bad as never, key, iv)).toThrow(TypeError);
          expect(() => f(data, bad as never, iv)).toThrow(TypeError);
          expect(() => f(data, key, bad as never)).toThrow(TypeError);
          // A wrong type is reported before another argument's wrong length.
          expect(() => f(new Uint8Array(15), key, bad as never)).toThrow(TypeError);
        }
        expect(() => f(data, key, iv)).not.toThrow();
        expect(() => f(data, seededBytes(31, 1), iv)).toThrow(new RangeError('AES-256 key: expected 32 bytes, got 31'));
        expect(() => f(data, seededBytes(33, 1), iv)).toThrow(new RangeError('AES-256 key: expected 32 bytes, got 33'));
        expect(() => f(data, seededBytes(16, 1), iv)).toThrow(RangeError);
        expect(() => f(data, key, seededBytes(16, 1))).toThrow(new RangeError('AES-IGE iv: expected 32 bytes, got 16'));
        expect(() => f(data, key, seededBytes(64, 1))).toThrow(RangeError);
        for (const n of [1, 15, 17, 31, 1025]) {
          expect(() => f(new Uint8Array(n), key, iv)).toThrow(new RangeError(`AES-IGE data: expected a multiple of 16 bytes, got ${n}`));
        }
        expect(snapshot()).toEqual(before);
        expectClean(apiEngine);
      }
    }
  });

  it('errors never carry key, IV or data bytes', () => {
    const key = new Uint8Array(31).fill(0xab);
    try {
      aes256IgeEncrypt(new Uint8Array(16), key, new Uint8Array(32));
      expect.unreachable();
    } catch (e) {
      expect(String(e)).not.toMatch(/ab/);
    }
  });
});
