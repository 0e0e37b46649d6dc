import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { AuthKey, AuthKeyManager, MessageRejected, aes256IgeDecrypt, aes256IgeEncrypt } from '../src/index.ts';
import { MESSAGE_REJECTED } from '../src/core/errors.ts';
import { encryptMessageWithPadding } from '../src/core/message.ts';
import { setSha256Route } from '../src/core/sha256.ts';
import { engine } from '../src/core/engine.ts';
import { fromHex, hex, seededBytes } from './helpers.ts';

// An independent IGE for the oracle: GramJS's plain-JavaScript one (the vectors' library).
const { IGE } = createRequire(import.meta.url)('telegram/crypto/IGE') as {
  IGE: new (key: Buffer, iv: Buffer) => { encryptIge(d: Buffer): Buffer; decryptIge(d: Buffer): Buffer };
};

interface Vector {
  name: string;
  sender: 'client' | 'server';
  data: string;
  padding: string;
  msgKey: string;
  aesKey: string;
  aesIv: string;
  packet: string;
}
const file = JSON.parse(readFileSync(new URL('./vectors/mtproto2.json', import.meta.url), 'utf8')) as { authKey: string; authKeyId: string; vectors: Vector[] };
const key = new AuthKey(fromHex(file.authKey));
const other = new AuthKey(seededBytes(256, 0x0e4e));
const keyBytes = Buffer.from(file.authKey, 'hex');

const nodeSha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const xOf = (sender: 'client' | 'server') => (sender === 'client' ? 0 : 8);

/** AES key and IV by the spec's formulas, on node:crypto's SHA-256. */
function oracleKeyIv(msgKey: Uint8Array, sender: 'client' | 'server'): { key: Buffer; iv: Buffer } {
  const x = xOf(sender);
  const a = nodeSha256(msgKey, keyBytes.subarray(x, x + 36));
  const b = nodeSha256(keyBytes.subarray(40 + x, 76 + x), msgKey);
  return {
    key: Buffer.concat([a.subarray(0, 8), b.subarray(8, 24), a.subarray(24, 32)]),
    iv: Buffer.concat([b.subarray(0, 8), a.subarray(8, 24), b.subarray(24, 32)]),
  };
}

/**
 * A packet of `plain` (plaintext with padding, any content) with a correct msg_key, made by the
 * spec's formulas on node:crypto's SHA-256 and our IGE: packets whose only fault is inside.
 */
function forge(plain: Uint8Array, sender: 'client' | 'server', k: AuthKey = key): Uint8Array {
  const bytes = Buffer.from(k.bytes);
  const x = xOf(sender);
  const msgKey = nodeSha256(bytes.subarray(88 + x, 120 + x), plain).subarray(8, 24);
  const a = nodeSha256(msgKey, bytes.subarray(x, x + 36));
  const b = nodeSha256(bytes.subarray(40 + x, 76 + x), msgKey);
  const aesKey = Buffer.concat([a.subarray(0, 8), b.subarray(8, 24), a.subarray(24, 32)]);
  const aesIv = Buffer.concat([b.subarray(0, 8), a.subarray(8, 24), b.subarray(24, 32)]);
  return Buffer.concat([k.idBytes, msgKey, aes256IgeEncrypt(plain, aesKey, aesIv)]);
}

/** A plaintext of `total` bytes (with padding) whose message_data_length field says `dataLen`. */
function plaintext(total: number, dataLen: number, seed = 1): Uint8Array {
  const p = seededBytes(total, seed);
  new DataView(p.buffer).setUint32(28, dataLen >>> 0, true);
  return p;
}

/** `data` of `n` bytes (n ≥ 32, a multiple of 4) with a correct message_data_length. */
function message(n: number, seed = n): Uint8Array {
  return plaintext(n, n - 32, seed);
}

/** The error `f` throws (or undefined). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Expects `f` to throw MessageRejected with the one message. */
function expectRejected(f: () => unknown, what: string): void {
  const e = thrown(f);
  expect(e, what).toBeInstanceOf(MessageRejected);
  expect((e as Error).message, what).toBe(MESSAGE_REJECTED);
  expect((e as Error).name).toBe('MessageRejected');
}

afterAll(() => {
  setSha256Route('auto');
});

it('the vectors are for this key', () => {
  expect(hex(key.idBytes)).toBe(file.authKeyId);
  expect(file.vectors.filter((v) => v.sender === 'client').length).toBeGreaterThan(3);
  expect(file.vectors.filter((v) => v.sender === 'server').length).toBeGreaterThan(3);
});

describe.each(['wasm', 'node'] as const)('SHA-256 on the %s route', (route) => {
  const use = () => expect(setSha256Route(route)).toBe(true);

  describe.each(file.vectors)('GramJS vector $name', (v) => {
    const packet = fromHex(v.packet);
    const data = fromHex(v.data);
    const padding = fromHex(v.padding);

    it('decrypts to its data, without the padding', () => {
      use();
      const got = key.decryptMessage(packet, v.sender);
      expect(hex(got)).toBe(v.data);
    });

    it('gives its msg_key and AES key and IV', () => {
      use();
      expect(hex(key.messageKey(Buffer.concat([data, padding]), v.sender))).toBe(v.msgKey);
      const { key: aesKey, iv } = key.aesKeyIv(fromHex(v.msgKey), v.sender);
      expect(hex(aesKey)).toBe(v.aesKey);
      expect(hex(iv)).toBe(v.aesIv);
    });

    it('re-encrypts byte for byte with the same padding', () => {
      use();
      const { data: rec, at } = AuthKey.recordOf(key);
      expect(hex(encryptMessageWithPadding(rec, at, data, v.sender, padding))).toBe(v.packet);
    });

    it('is rejected as a message of the other direction', () => {
      use();
      expectRejected(() => key.decryptMessage(packet, v.sender === 'client' ? 'server' : 'client'), 'other direction');
    });
  });

  it.each(['client', 'server'] as const)('round trips every length from 32 to 2048 bytes (%s), checked by an independent decryption', (sender) => {
    use();
    const bad: number[] = [];
    for (let n = 32; n <= 2048; n += 4) {
      const data = message(n);
      const packet = key.encryptMessage(data, sender);
      const p = packet.length - 24 - n;
      // Independent: msg_key and IGE by node:crypto and GramJS, not by the code under test.
      const msgKey = packet.subarray(8, 24);
      const { key: k, iv } = oracleKeyIv(msgKey, sender);
      const plain = new IGE(k, iv).decryptIge(Buffer.from(packet.subarray(24)));
      const x = xOf(sender);
      const ok =
        p >= 12 &&
        p <= 27 &&
        (n + p) % 16 === 0 &&
        hex(packet.subarray(0, 8)) === file.authKeyId &&
        hex(nodeSha256(keyBytes.subarray(88 + x, 120 + x), plain).subarray(8, 24)) === hex(msgKey) &&
        hex(plain.subarray(0, n)) === hex(data) &&
        hex(key.decryptMessage(packet, sender)) === hex(data);
      if (!ok) bad.push(n);
    }
    expect(bad).toEqual([]);
  });
});

describe.each(['wasm', 'node'] as const)('on the %s SHA-256 route, a message call leaves nothing in the core', (route) => {
  // The AES key, IV, round keys and staged plaintext live in the core during a call; every byte of
  // those areas must be zero again afterwards, whether the packet was accepted or rejected.
  const zero = (what: string) =>
    expect(
      engine.aesResidueForTest().every((b) => b === 0),
      what,
    ).toBe(true);
  it.each([64, 1024, 70_000])('%i bytes of data, sent and received, accepted and rejected', (size) => {
    expect(setSha256Route(route)).toBe(true);
    const data = seededBytes(size, size);
    new DataView(data.buffer, data.byteOffset).setUint32(28, size - 32, true);
    const packet = key.encryptMessage(data, 'server');
    zero('after encryptMessage');
    expect(hex(key.decryptMessage(packet, 'server'))).toBe(hex(data));
    zero('after decryptMessage');
    const bad = packet.slice();
    bad[bad.length - 1] ^= 1;
    expectRejected(() => key.decryptMessage(bad, 'server'), 'the last byte flipped');
    zero('after a rejected packet');
    setSha256Route('auto');
  });
});

describe('encryptMessage', () => {
  it('pads with fresh random bytes each time', () => {
    const data = message(64);
    const a = key.encryptMessage(data, 'client');
    const b = key.encryptMessage(data, 'client');
    expect(hex(a)).not.toBe(hex(b));
    expect(hex(key.decryptMessage(a, 'client'))).toBe(hex(data));
    expect(hex(key.decryptMessage(b, 'client'))).toBe(hex(data));
  });

  it('options.padding is the least padding, rounded up to a multiple of 16 in total', () => {
    for (const n of [32, 36, 40, 44, 100, 1000]) {
      for (const least of [12, 13, 16, 27, 28, 100, 500, 1000, 1009]) {
        const data = message(n);
        let p = least;
        while ((n + p) % 16 !== 0) p++;
        const packet = key.encryptMessage(data, 'server', { padding: least });
        expect(packet.length - 24 - n, `${n} bytes, least ${least}`).toBe(p);
        expect(hex(key.decryptMessage(packet, 'server'))).toBe(hex(data));
      }
    }
    // 1024 bytes of padding exactly, then one word more than fits.
    expect(key.encryptMessage(message(32), 'client', { padding: 1024 }).length).toBe(24 + 32 + 1024);
    expect(() => key.encryptMessage(message(36), 'client', { padding: 1024 })).toThrow(RangeError);
    expect(() => key.encryptMessage(message(36), 'client', { padding: 1024 })).toThrow(/at most 1024 bytes of padding/);
  });

  it('refuses bad options with TypeError / RangeError', () => {
    const data = message(40);
    expect(() => key.encryptMessage(data, 'client', null as never)).toThrow(TypeError);
    expect(() => key.encryptMessage(data, 'client', 5 as never)).toThrow(TypeError);
    expect(() => key.encryptMessage(data, 'client', { padding: '16' as never })).toThrow(TypeError);
    for (const padding of [11, 1025, 12.5, Number.NaN, Infinity, -16]) {
      expect(() => key.encryptMessage(data, 'client', { padding }), String(padding)).toThrow(RangeError);
    }
    expect(key.encryptMessage(message(36), 'client', {}).length).toBe(24 + 48);
  });

  it('refuses data that is not a framed message, and bad arguments', () => {
    for (const bad of [null, undefined, 'abc', [1, 2, 3], new Uint16Array(16), new ArrayBuffer(32), new Proxy(message(32), {})]) {
      expect(() => key.encryptMessage(bad as never, 'client')).toThrow(TypeError);
    }
    expect(() => key.encryptMessage(new Uint8Array(0), 'client')).toThrow(RangeError);
    expect(() => key.encryptMessage(new Uint8Array(28), 'client')).toThrow(RangeError);
    expect(() => key.encryptMessage(plaintext(34, 2), 'client')).toThrow(RangeError); // not a multiple of 4
    expect(() => key.encryptMessage(plaintext(40, 4), 'client')).toThrow(/message_data_length/);
    expect(() => key.encryptMessage(plaintext(40, 12), 'client')).toThrow(RangeError);
    expect(() => key.encryptMessage(message(40), 'Client' as never)).toThrow(RangeError);
    expect(() => key.encryptMessage(message(40), 'Client' as never)).toThrow(/expected 'client' or 'server', got "Client"/);
    expect(() => key.encryptMessage(message(40), 0 as never)).toThrow(TypeError);
    expect(() => key.encryptMessage(message(40), undefined as never)).toThrow(TypeError);
  });

  it("does not change the caller's data", () => {
    const data = message(100);
    const copy = data.slice();
    key.encryptMessage(data, 'client');
    expect(hex(data)).toBe(hex(copy));
  });
});

describe('messageKey and aesKeyIv', () => {
  it('match the spec computed with node:crypto for many lengths and both senders', () => {
    for (const sender of ['client', 'server'] as const) {
      const x = xOf(sender);
      for (const n of [0, 1, 15, 16, 55, 56, 64, 87, 88, 119, 120, 1000, 70_000]) {
        const m = seededBytes(n, n + x);
        expect(hex(key.messageKey(m, sender))).toBe(hex(nodeSha256(keyBytes.subarray(88 + x, 120 + x), m).subarray(8, 24)));
      }
      const msgKey = seededBytes(16, 3 + x);
      const got = key.aesKeyIv(msgKey, sender);
      const want = oracleKeyIv(msgKey, sender);
      expect(hex(got.key)).toBe(hex(want.key));
      expect(hex(got.iv)).toBe(hex(want.iv));
      expect(got.key.buffer).not.toBe(got.iv.buffer);
    }
  });

  it('refuse bad arguments', () => {
    expect(() => key.messageKey('abc' as never, 'client')).toThrow(TypeError);
    expect(() => key.messageKey(new Uint8Array(16), 'both' as never)).toThrow(RangeError);
    expect(() => key.aesKeyIv(new Uint8Array(15), 'client')).toThrow(RangeError);
    expect(() => key.aesKeyIv(new Uint8Array(17), 'client')).toThrow(RangeError);
    expect(() => key.aesKeyIv([1] as never, 'client')).toThrow(TypeError);
    expect(() => key.aesKeyIv(new Uint8Array(16), null as never)).toThrow(TypeError);
  });
});

describe('decryptMessage rejects every bad packet with the one error', () => {
  const short = fromHex(file.vectors.find((v) => v.sender === 'client' && v.packet.length === 2 * 72)!.packet);
  const long = fromHex(file.vectors.find((v) => v.sender === 'server' && v.packet.length > 2 * 1000)!.packet);

  it('the short and long packets are valid as they are', () => {
    expect(() => key.decryptMessage(short, 'client')).not.toThrow();
    expect(() => key.decryptMessage(long, 'server')).not.toThrow();
  });

  it.each([
    ['a 72-byte client packet', 'client', () => short],
    ['a 1144-byte server packet', 'server', () => long],
  ] as const)('each byte of %s flipped, at every position', (_name, sender, get) => {
    const packet = get();
    for (let i = 0; i < packet.length; i++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const t = packet.slice();
        t[i] ^= flip;
        expectRejected(() => key.decryptMessage(t, sender), `byte ${i} ^ ${flip}`);
      }
    }
  });

  it('truncated, extended, and too short', () => {
    for (const cut of [1, 4, 15, 16, 32, 48]) expectRejected(() => key.decryptMessage(long.subarray(0, long.length - cut), 'server'), `cut ${cut}`);
    for (const len of [0, 1, 8, 24, 55, 56, 71]) expectRejected(() => key.decryptMessage(short.subarray(0, len), 'client'), `length ${len}`);
    for (const extra of [1, 4, 16, 32]) {
      expectRejected(() => key.decryptMessage(Buffer.concat([short, seededBytes(extra, extra)]), 'client'), `extended by ${extra}`);
      expectRejected(() => key.decryptMessage(Buffer.concat([short, new Uint8Array(extra)]), 'client'), `extended by ${extra} zeros`);
    }
  });

  it("another key's packet, and this packet under another key", () => {
    const data = message(64);
    expectRejected(() => key.decryptMessage(other.encryptMessage(data, 'client'), 'client'), 'other key');
    expectRejected(() => other.decryptMessage(short, 'client'), 'under another key');
    // Another key's valid packet with this key's id written over its own.
    const relabeled = other.encryptMessage(data, 'client');
    relabeled.set(key.idBytes, 0);
    expectRejected(() => key.decryptMessage(relabeled, 'client'), 'relabeled');
  });

  it('padding below 12 or above 1024 bytes, with a correct msg_key', () => {
    for (const sender of ['client', 'server'] as const) {
      // Controls: the forged packets are accepted where the padding is in range, so a
      // rejection below is the padding's doing.
      expect(hex(key.decryptMessage(forge(plaintext(48, 4), sender), sender))).toBe(hex(plaintext(48, 4).subarray(0, 36)));
      expect(key.decryptMessage(forge(plaintext(1072, 16), sender), sender)).toHaveLength(48);
      for (const [total, dataLen] of [
        [48, 8],
        [48, 12],
        [48, 16],
        [64, 32],
        [64, 24],
        [1072, 12],
        [1072, 8],
        [1072, 0],
        [2048, 4],
      ]) {
        const padding = total - 32 - dataLen;
        expect(padding < 12 || padding > 1024).toBe(true);
        expectRejected(() => key.decryptMessage(forge(plaintext(total, dataLen), sender), sender), `${sender} padding ${padding}`);
      }
    }
  });

  it('message_data_length too big or not a multiple of 4, with a correct msg_key', () => {
    for (const sender of ['client', 'server'] as const) {
      expect(() => key.decryptMessage(forge(plaintext(64, 16), sender), sender)).not.toThrow(); // control
      for (const dataLen of [17, 18, 19, 13, 33, 64, 65, 0x7ffffffc, 0xfffffffc, 0xffffffff, 0x80000000]) {
        expectRejected(() => key.decryptMessage(forge(plaintext(64, dataLen), sender), sender), `${sender} length ${dataLen}`);
      }
    }
  });

  it('bad arguments are TypeError / RangeError, not MessageRejected', () => {
    expect(() => key.decryptMessage('x' as never, 'client')).toThrow(TypeError);
    expect(() => key.decryptMessage(new Proxy(short, {}), 'client')).toThrow(TypeError);
    expect(() => key.decryptMessage(short, 'srv' as never)).toThrow(RangeError);
    expect(() => key.decryptMessage(short, 1 as never)).toThrow(TypeError);
  });

  it("does not change the caller's packet, accepts a Buffer and a view at an offset", () => {
    const copy = long.slice();
    const data = key.decryptMessage(long, 'server');
    expect(hex(long)).toBe(hex(copy));
    const wide = new Uint8Array(long.length + 10);
    wide.set(long, 5);
    expect(hex(key.decryptMessage(wide.subarray(5, 5 + long.length), 'server'))).toBe(hex(data));
    expect(hex(key.decryptMessage(Buffer.from(long), 'server'))).toBe(hex(data));
  });
});

describe('AuthKeyManager#decryptPacket', () => {
  const manager = new AuthKeyManager();
  manager.setKeySync(key);
  const data = message(200);

  it('finds the key by the packet id and decrypts (client by default)', () => {
    const got = manager.decryptPacket(key.encryptMessage(data, 'client'));
    expect(got?.key.equals(key)).toBe(true);
    expect(hex(got!.data)).toBe(hex(data));
    expect(hex(manager.decryptPacket(key.encryptMessage(data, 'server'), 'server')!.data)).toBe(hex(data));
    for (const v of file.vectors) expect(hex(manager.decryptPacket(fromHex(v.packet), v.sender)!.data)).toBe(v.data);
  });

  it('undefined for an unknown id; MessageRejected for a known id with a bad packet', () => {
    expect(manager.decryptPacket(other.encryptMessage(data, 'client'))).toBeUndefined();
    const bad = key.encryptMessage(data, 'client');
    bad[40] ^= 1;
    expectRejected(() => manager.decryptPacket(bad), 'tampered');
    expectRejected(() => manager.decryptPacket(key.encryptMessage(data, 'server')), 'wrong direction');
    expectRejected(() => manager.decryptPacket(key.idBytes), 'id only');
    expectRejected(() => manager.decryptPacket(new Uint8Array(7)), 'shorter than an id');
  });

  it('bad arguments throw before any lookup', () => {
    expect(() => manager.decryptPacket('x' as never)).toThrow(TypeError);
    expect(() => manager.decryptPacket(other.encryptMessage(data, 'client'), 'nobody' as never)).toThrow(RangeError);
    expect(() => manager.decryptPacket(other.encryptMessage(data, 'client'), null as never)).toThrow(TypeError);
  });
});

it('IGE round trip of the stub or real AES is consistent with GramJS (sanity of the oracle)', () => {
  const k = seededBytes(32, 1);
  const iv = seededBytes(32, 2);
  const d = seededBytes(160, 3);
  const ours = aes256IgeEncrypt(d, k, iv);
  expect(hex(ours)).toBe(hex(new IGE(Buffer.from(k), Buffer.from(iv)).encryptIge(Buffer.from(d))));
  expect(hex(aes256IgeDecrypt(ours, k, iv))).toBe(hex(d));
});
