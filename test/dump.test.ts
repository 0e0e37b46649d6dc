import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { PassThrough, Readable, Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuthKey, AuthKeyCollision, AuthKeyCorrupted, AuthKeyDoesNotExist, AuthKeyManager } from '../src/index.ts';
import type { AuthKeyManagerProtocol, SetKeyOptions } from '../src/index.ts';
import { tableOf } from '../src/managers/auth-key-manager.ts';
import {
  DEFAULT_SCRYPT,
  DumpDecryptionFailed,
  DumpFormatError,
  type DumpEntry,
  DumpStreamFailed,
  type ImportReport,
  exportKeys,
  importKeys,
} from '../src/dump.ts';
import { FAST, HOUR, PASS, SECRET, dump, emptyReport, entries, keys } from './dump-helpers.ts';

const HEADER = 55;
const FRAME = 289;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The rejection of `promise` (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

// -------------------------------------------------------------------------------------------------
// An independent reader and writer of docs/dump-format.md, written from the document with node:crypto
// primitives only (no code of src/dump*.ts), so that the tests show the document matches the bytes.

interface RefRecord {
  id: Uint8Array;
  key: Uint8Array;
  expiresAt: number;
}

function u64(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

function refKey(header: Uint8Array, secret: { passphrase: string } | { secret: Uint8Array }): Buffer {
  const h = Buffer.from(header);
  const salt = h.subarray(19, 35);
  if (h[9] === 1) {
    const N = 2 ** h[10];
    const r = h.readUInt32BE(11);
    const p = h.readUInt32BE(15);
    return scryptSync(Buffer.from((secret as { passphrase: string }).passphrase.normalize('NFC'), 'utf8'), salt, 32, { N, r, p, maxmem: 2 ** 29 });
  }
  return Buffer.from(hkdfSync('sha256', (secret as { secret: Uint8Array }).secret, salt, Buffer.from('mtproto-authkey dump v1', 'ascii'), 32));
}

const nonce = (header: Uint8Array, i: number | bigint) => Buffer.concat([Buffer.from(header.subarray(35, 39)), u64(i)]);
const CHECK_I = 2n ** 53n - 1n;

function refCheck(header: Uint8Array, key: Buffer): Buffer {
  const c = createCipheriv('aes-256-gcm', key, nonce(header, CHECK_I));
  c.setAAD(header.subarray(0, 39));
  c.final();
  return c.getAuthTag();
}

/** Opens a dump as the document says: records, or throws at the first thing the document forbids. */
function refOpen(bytes: Uint8Array, secret: { passphrase: string } | { secret: Uint8Array }): { records: RefRecord[]; header: Uint8Array } {
  const header = bytes.subarray(0, HEADER);
  expect(Buffer.from(header.subarray(0, 8)).toString('ascii')).toBe('MTPAKDMP');
  expect(header[8]).toBe(1);
  const key = refKey(header, secret);
  expect(timingSafeEqual(refCheck(header, key), header.subarray(39, 55))).toBe(true);
  const records: RefRecord[] = [];
  expect((bytes.length - HEADER) % FRAME).toBe(0);
  const frames = (bytes.length - HEADER) / FRAME;
  for (let i = 0; i < frames; i++) {
    const f = bytes.subarray(HEADER + i * FRAME, HEADER + (i + 1) * FRAME);
    const d = createDecipheriv('aes-256-gcm', key, nonce(header, i));
    d.setAAD(Buffer.concat([header, f.subarray(0, 1), u64(i)]));
    d.setAuthTag(f.subarray(273, 289));
    const content = Buffer.concat([d.update(f.subarray(1, 273)), d.final()]);
    if (f[0] === 0x45) {
      expect(i).toBe(frames - 1);
      expect(content.readBigUInt64BE(0)).toBe(BigInt(i));
      expect(content.subarray(8).every((b) => b === 0)).toBe(true);
    } else {
      expect(f[0]).toBe(0x52);
      records.push({ id: content.subarray(0, 8), key: content.subarray(8, 264), expiresAt: Number(content.readBigUInt64BE(264)) });
    }
  }
  expect(bytes[bytes.length - FRAME]).toBe(0x45);
  return { records, header };
}

/** The header fields before the check tag, for a dump made by the test itself. */
function refHeader(kdf: 1 | 2, scrypt = FAST): Buffer {
  const h = Buffer.alloc(HEADER);
  h.write('MTPAKDMP', 0, 'ascii');
  h[8] = 1;
  h[9] = kdf;
  if (kdf === 1) {
    h[10] = Math.log2(scrypt.N);
    h.writeUInt32BE(scrypt.r, 11);
    h.writeUInt32BE(scrypt.p, 15);
  }
  randomBytes(20).copy(h, 19);
  return h;
}

/** Frame `i` of `type` with `content` (272 bytes), sealed as the document says. */
function refFrame(header: Uint8Array, key: Buffer, type: number, i: number, content: Uint8Array): Buffer {
  const c = createCipheriv('aes-256-gcm', key, nonce(header, i));
  c.setAAD(Buffer.concat([header, Buffer.from([type]), u64(i)]));
  const ct = Buffer.concat([c.update(content), c.final()]);
  return Buffer.concat([Buffer.from([type]), ct, c.getAuthTag()]);
}

/** A dump written by the document: each record's content given raw (so tests can forge what exportKeys never writes). */
function refWrite(contents: Uint8Array[], secret: { secret: Uint8Array }, options: { trailerCount?: number; trailer?: boolean } = {}): Uint8Array {
  const header = refHeader(2);
  const key = refKey(header, secret);
  refCheck(header, key).copy(header, 39);
  const parts: Buffer[] = [header];
  contents.forEach((content, i) => parts.push(refFrame(header, key, 0x52, i, content)));
  if (options.trailer !== false)
    parts.push(refFrame(header, key, 0x45, contents.length, Buffer.concat([u64(options.trailerCount ?? contents.length), Buffer.alloc(264)])));
  return new Uint8Array(Buffer.concat(parts));
}

function recordContent(id: Uint8Array, key: Uint8Array, expiresAt: number | bigint): Buffer {
  return Buffer.concat([Buffer.from(id), Buffer.from(key), u64(expiresAt)]);
}

// -------------------------------------------------------------------------------------------------

describe('dump format: the bytes match docs/dump-format.md', () => {
  it('an independent reader opens a passphrase dump: header fields, check tag, every record, trailer, size', async () => {
    const source = entries(50);
    const bytes = await dump(source, PASS);
    expect(bytes.length).toBe(HEADER + FRAME * 51);
    expect([...bytes.subarray(9, 19)]).toEqual([1, 10, 0, 0, 0, 8, 0, 0, 0, 1]);
    const { records } = refOpen(bytes, PASS);
    expect(records.map((r) => hex(r.id))).toEqual(source.map((e) => hex(e.key.idBytes)));
    expect(records.map((r) => hex(r.key))).toEqual(source.map((e) => hex(e.key.bytes)));
    expect(records.map((r) => r.expiresAt)).toEqual(source.map((e) => e.expiresAt ?? 0));
  });

  it('an independent reader opens a secret dump (HKDF, zero scrypt fields)', async () => {
    const source = entries(5);
    const bytes = await dump(source, SECRET);
    expect([...bytes.subarray(9, 19)]).toEqual([2, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(refOpen(bytes, SECRET).records.map((r) => hex(r.key))).toEqual(source.map((e) => hex(e.key.bytes)));
  });

  it('importKeys reads a dump written by the independent writer', async () => {
    const source = entries(7);
    const bytes = refWrite(
      source.map((e) => recordContent(e.key.idBytes, e.key.bytes, e.expiresAt ?? 0)),
      SECRET,
    );
    const target = new AuthKeyManager();
    expect(await importKeys(target, [bytes], SECRET)).toEqual({ ...emptyReport(), records: 7, imported: 7 });
    for (const e of source) expect((await target.getKey(e.key.id)).equals(e.key)).toBe(true);
  });

  it('a string passphrase is NFC-normalised: the decomposed spelling opens a dump made with the composed one', async () => {
    const bytes = await dump(entries(1), { passphrase: 'caf\u00e9', scrypt: FAST });
    const target = new AuthKeyManager();
    expect((await importKeys(target, [bytes], { passphrase: 'cafe\u0301' })).imported).toBe(1);
    // Bytes are taken as they are: the composed spelling's UTF-8 opens it, the decomposed one's does not.
    expect((await importKeys(new AuthKeyManager(), [bytes], { passphrase: new TextEncoder().encode('caf\u00e9') })).imported).toBe(1);
    expect(await rejection(importKeys(new AuthKeyManager(), [bytes], { passphrase: new TextEncoder().encode('cafe\u0301') }))).toBeInstanceOf(
      DumpDecryptionFailed,
    );
  });

  it('uses N = 2**17, r = 8, p = 1 unless told otherwise', async () => {
    expect(DEFAULT_SCRYPT).toEqual({ N: 2 ** 17, r: 8, p: 1 });
    const source = entries(2);
    const bytes = await dump(source, { passphrase: 'default cost' });
    expect([...bytes.subarray(9, 19)]).toEqual([1, 17, 0, 0, 0, 8, 0, 0, 0, 1]);
    expect(refOpen(bytes, { passphrase: 'default cost' }).records).toHaveLength(2);
  });

  it('gives each dump a fresh salt, nonce prefix and so key, under the same secret', async () => {
    const source = entries(1);
    const a = await dump(source);
    const b = await dump(source);
    expect(hex(a.subarray(19, 39))).not.toBe(hex(b.subarray(19, 39)));
    expect(hex(a.subarray(HEADER))).not.toBe(hex(b.subarray(HEADER)));
  });
});

describe('export → import round trips', () => {
  it('10,000 keys with their expiry from a memory manager into a memory manager', async () => {
    const source = new AuthKeyManager();
    const given = entries(10_000);
    for (const e of given) source.setKeySync(e.key, e.expiresAt === undefined ? undefined : { expiresAt: e.expiresAt });
    let progressed = 0;
    const bytes = await dump(source.entries(), { ...PASS, onProgress: (done) => (progressed = done) });
    expect(progressed).toBe(10_000);
    const target = new AuthKeyManager();
    const report = await importKeys(target, Readable.from([bytes]), PASS);
    expect(report).toEqual({ ...emptyReport(), records: 10_000, imported: 10_000 });
    expect(target.size).toBe(10_000);
    const stored = new Map([...target.entries()].map((e) => [e.key.id, e]));
    for (const e of given) {
      const got = stored.get(e.key.id)!;
      expect(got.key.equals(e.key)).toBe(true);
      expect(got.expiresAt).toBe(e.expiresAt);
    }
    // Again into the same target: every key is already there.
    expect(await importKeys(target, [bytes], PASS)).toEqual({ ...emptyReport(), records: 10_000, unchanged: 10_000 });
  });

  it('reads chunks of any size: the dump split in two at every offset, and byte by byte', async () => {
    const source = entries(3);
    const bytes = await dump(source);
    const expected = { ...emptyReport(), records: 3, imported: 3 };
    for (let at = 0; at <= bytes.length; at++) {
      const target = new AuthKeyManager();
      expect(await importKeys(target, [bytes.slice(0, at), bytes.slice(at)], SECRET)).toEqual(expected);
      expect(target.size).toBe(3);
    }
    const target = new AuthKeyManager();
    expect(await importKeys(target, Readable.from(Array.from(bytes, (b) => Buffer.from([b]))), SECRET)).toEqual(expected);
  });

  it('reads a web ReadableStream and writes a web WritableStream', async () => {
    const source = entries(600);
    const chunks: Uint8Array[] = [];
    const report = await exportKeys(source, new WritableStream<Uint8Array>({ write: (c) => void chunks.push(c) }), SECRET);
    expect(report).toEqual({ exported: 600, skipped: 0, skippedIds: [] });
    const readable = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(c);
        controller.close();
      },
    });
    const target = new AuthKeyManager();
    expect((await importKeys(target, readable, SECRET)).imported).toBe(600);
    // A web stream that is not async iterable (as in some runtimes) is read through its reader.
    const plain = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(c);
        controller.close();
      },
    });
    const readerOnly = { getReader: () => plain.getReader() } as unknown as ReadableStream<Uint8Array>;
    expect((await importKeys(new AuthKeyManager(), readerOnly, SECRET)).imported).toBe(600);
  });

  it('exports from an async source, counting the ids it reports as corrupted', async () => {
    const given = entries(4);
    async function* source() {
      yield given[0];
      yield { corruptedId: 42n };
      yield* given.slice(1);
      yield { corruptedId: 7n };
    }
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    expect(await exportKeys(source(), out, SECRET)).toEqual({ exported: 4, skipped: 2, skippedIds: [42n, 7n] });
    expect(refOpen(Buffer.concat(chunks), SECRET).records).toHaveLength(4);
  });

  it('does not end the caller’s stream, and resolves once the stream took the last chunk', async () => {
    let written = 0;
    const out = new Writable({
      write(chunk: Buffer, _enc, callback) {
        setImmediate(() => {
          written += chunk.length;
          callback();
        });
      },
    });
    await exportKeys(entries(500), out, SECRET);
    expect(written).toBe(HEADER + FRAME * 501);
    expect(out.writableEnded).toBe(false);
    out.end();
  });

  it('respects backpressure: never more than two chunks ahead of a slow Node stream or web stream', async () => {
    let produced = 0;
    let consumed = 0;
    let ahead = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(_chunk, _enc, callback) {
        consumed++;
        setTimeout(callback, 1);
      },
    });
    const onProgress = () => {
      produced++;
      ahead = Math.max(ahead, produced - consumed);
    };
    await exportKeys(entries(3000), slow, { ...SECRET, onProgress });
    expect(produced).toBeGreaterThan(10);
    expect(ahead).toBeLessThanOrEqual(2);

    produced = 0;
    consumed = 0;
    ahead = 0;
    const web = new WritableStream<Uint8Array>(
      {
        write: () => {
          consumed++;
          return new Promise((resolve) => setTimeout(resolve, 1));
        },
      },
      new CountQueuingStrategy({ highWaterMark: 1 }),
    );
    await exportKeys(entries(3000), web, { ...SECRET, onProgress });
    expect(produced).toBeGreaterThan(10);
    expect(ahead).toBeLessThanOrEqual(2);
  });

  it('rejects with the stream’s error when a write fails, and when the stream is destroyed', async () => {
    const failing = new Writable({
      write(_chunk, _enc, callback) {
        callback(new Error('disk full'));
      },
    });
    failing.on('error', () => undefined);
    expect((await rejection(exportKeys(entries(1000), failing, SECRET))).message).toBe('disk full');

    const out = new PassThrough();
    out.resume();
    const closing = exportKeys(entries(3000), out, { ...SECRET, onProgress: () => out.destroy() });
    expect((await rejection(closing)).message).toMatch(/closed before the dump was written/);

    const web = new WritableStream<Uint8Array>({ write: () => Promise.reject(new Error('web sink broke')) });
    expect((await rejection(exportKeys(entries(10), web, SECRET))).message).toBe('web sink broke');
  });
});

describe('importKeys: what it refuses, and what it reports', () => {
  let bytes: Uint8Array;
  let given: DumpEntry[];
  beforeAll(async () => {
    given = entries(20);
    bytes = await dump(given, PASS);
  });

  it('a wrong passphrase is DumpDecryptionFailed, found from the header; nothing is imported', async () => {
    const target = new AuthKeyManager();
    let reads = 0;
    async function* counted() {
      for (let at = 0; at < bytes.length; at += 64) {
        reads++;
        yield bytes.slice(at, at + 64);
      }
    }
    const error = await rejection(importKeys(target, counted(), { passphrase: 'wrong horse' }));
    expect(error).toBeInstanceOf(DumpDecryptionFailed);
    expect(error.name).toBe('DumpDecryptionFailed');
    expect(error.message).toBe('cannot open the dump: wrong passphrase or secret, or the dump was altered');
    expect(error.message).not.toContain('horse');
    expect(target.size).toBe(0);
    // The header is 55 bytes: one 64-byte chunk was enough to refuse.
    expect(reads).toBe(1);
  });

  it('a wrong secret, and a secret for a passphrase dump or the other way round, are DumpDecryptionFailed', async () => {
    const secretDump = await dump(given, SECRET);
    const target = new AuthKeyManager();
    expect(await rejection(importKeys(target, [secretDump], { secret: new Uint8Array(32) }))).toBeInstanceOf(DumpDecryptionFailed);
    const a = await rejection(importKeys(target, [secretDump], PASS));
    expect(a).toBeInstanceOf(DumpDecryptionFailed);
    expect(a.message).toMatch(/sealed under a 32-byte secret, and a passphrase was given/);
    const b = await rejection(importKeys(target, [bytes], SECRET));
    expect(b).toBeInstanceOf(DumpDecryptionFailed);
    expect(b.message).toMatch(/sealed under a passphrase, and a secret was given/);
    expect(target.size).toBe(0);
  });

  it('an altered header is DumpDecryptionFailed (salt, nonce prefix, scrypt cost, check tag) or DumpFormatError (magic, version, kdf, bounds)', async () => {
    const secretDump = await dump(given, SECRET);
    const decryption = [19, 34, 35, 38, 39, 54];
    for (const at of decryption) {
      const altered = secretDump.slice();
      altered[at] ^= 1;
      expect(await rejection(importKeys(new AuthKeyManager(), [altered], SECRET)), `byte ${at}`).toBeInstanceOf(DumpDecryptionFailed);
    }
    const r = bytes.slice();
    r[14] ^= 2; // r = 8 -> 10: still in bounds, so scrypt runs and the check fails
    expect(await rejection(importKeys(new AuthKeyManager(), [r], PASS))).toBeInstanceOf(DumpDecryptionFailed);
    const format: [number, number, RegExp][] = [
      [0, 0x4e, /does not start with "MTPAKDMP"/],
      [8, 2, /unsupported dump format version 2/],
      [9, 3, /unknown key derivation 3/],
      [10, 30, /scrypt parameters out of bounds \(N: expected a power of two from 2\*\*10 to 2\*\*20, got 1073741824\)/],
      [10, 9, /scrypt parameters out of bounds/],
      [14, 0, /r: expected an integer in 1..32, got 0/],
      [18, 17, /p: expected an integer in 1..16, got 17/],
    ];
    for (const [at, value, message] of format) {
      const altered = bytes.slice();
      altered[at] = value;
      const error = await rejection(importKeys(new AuthKeyManager(), [altered], PASS));
      expect(error, `byte ${at}`).toBeInstanceOf(DumpFormatError);
      expect(error.message).toMatch(message);
      expect((error as DumpFormatError).report).toBeUndefined();
    }
    // 2**20 * 8 * 128 bytes is 1 GiB of scrypt memory: refused before any is allocated.
    const big = bytes.slice();
    big[10] = 20;
    expect((await rejection(importKeys(new AuthKeyManager(), [big], PASS))).message).toMatch(/at most 256 MiB, got 1024 MiB/);
    const hkdfWithCost = secretDump.slice();
    hkdfWithCost[10] = 12;
    expect((await rejection(importKeys(new AuthKeyManager(), [hkdfWithCost], SECRET))).message).toMatch(
      /scrypt parameters in a header whose key derivation is not scrypt/,
    );
    expect((await rejection(importKeys(new AuthKeyManager(), [new TextEncoder().encode('{"keys": []}')], PASS))).message).toMatch(/MTPAKDMP/);
  });

  it('a damaged record is counted as corrupted and the import goes on, wherever the damage is in the frame', async () => {
    for (const inFrame of [0, 1, 100, 272, 273, 288]) {
      const damaged = bytes.slice();
      damaged[HEADER + 5 * FRAME + inFrame] ^= 0x80;
      const target = new AuthKeyManager();
      expect(await importKeys(target, [damaged], PASS), `byte ${inFrame} of record 5`).toEqual({ ...emptyReport(), records: 20, imported: 19, corrupted: 1 });
      expect(await target.hasKey(given[5].key)).toBe(false);
      expect(await target.hasKey(given[6].key)).toBe(true);
    }
  });

  it('reordered records are detected: both count as corrupted', async () => {
    const swapped = bytes.slice();
    swapped.set(bytes.subarray(HEADER + 2 * FRAME, HEADER + 3 * FRAME), HEADER + 3 * FRAME);
    swapped.set(bytes.subarray(HEADER + 3 * FRAME, HEADER + 4 * FRAME), HEADER + 2 * FRAME);
    const target = new AuthKeyManager();
    expect(await importKeys(target, [swapped], PASS)).toEqual({ ...emptyReport(), records: 20, imported: 18, corrupted: 2 });
    expect(await target.hasKey(given[2].key)).toBe(false);
    expect(await target.hasKey(given[3].key)).toBe(false);
  });

  it('a dropped or repeated record is never silent: the frames after it fail, and the dump has no valid trailer', async () => {
    const dropped = new Uint8Array([...bytes.subarray(0, HEADER + 4 * FRAME), ...bytes.subarray(HEADER + 5 * FRAME)]);
    const a = await rejection(importKeys(new AuthKeyManager(), [dropped], PASS));
    expect(a).toBeInstanceOf(DumpFormatError);
    // 20 frames: records 0-3, records 5-19 one place early (corrupted), and the trailer, which does not open at position 19.
    expect((a as DumpFormatError).kind).toBe('damaged-trailer');
    expect(a.message).toMatch(/the last frame \(19\) should be the trailer but does not authenticate at that position/);
    expect((a as DumpFormatError).report).toEqual({ ...emptyReport(), records: 19, imported: 4, corrupted: 15 });
    const repeated = new Uint8Array([...bytes.subarray(0, HEADER + 5 * FRAME), ...bytes.subarray(HEADER + 4 * FRAME)]);
    const b = await rejection(importKeys(new AuthKeyManager(), [repeated], PASS));
    expect(b).toBeInstanceOf(DumpFormatError);
    expect((b as DumpFormatError).kind).toBe('damaged-trailer');
    // 22 frames: records 0-4, the copy of 4 at position 5, records 5-19 and the trailer each one place late.
    expect((b as DumpFormatError).report).toEqual({ ...emptyReport(), records: 21, imported: 5, corrupted: 16 });
  });

  it('a frame from another dump (same passphrase) counts as corrupted', async () => {
    const other = await dump(entries(20), PASS);
    const mixed = bytes.slice();
    mixed.set(other.subarray(HEADER + 7 * FRAME, HEADER + 8 * FRAME), HEADER + 7 * FRAME);
    expect(await importKeys(new AuthKeyManager(), [mixed], PASS)).toEqual({ ...emptyReport(), records: 20, imported: 19, corrupted: 1 });
  });

  it('a truncated dump, cut at every offset, rejects with DumpFormatError after importing the whole records before the cut', async () => {
    const small = await dump(given.slice(0, 3), SECRET);
    expect(small.length).toBe(HEADER + 4 * FRAME);
    for (let cut = 0; cut < small.length; cut++) {
      const target = new AuthKeyManager();
      const error = await rejection(importKeys(target, [small.subarray(0, cut)], SECRET));
      expect(error, `cut at ${cut}`).toBeInstanceOf(DumpFormatError);
      const whole = cut < HEADER ? 0 : Math.min(3, Math.floor((cut - HEADER) / FRAME));
      expect(target.size, `cut at ${cut}`).toBe(whole);
      expect((error as DumpFormatError).kind, `cut at ${cut}`).toBe('truncated');
      expect(error.message).toMatch(/^not a complete dump: /);
      if (cut < HEADER) {
        expect(error.message).toMatch(/ended after \d+ bytes, inside the 55-byte header/);
        expect((error as DumpFormatError).report).toBeUndefined();
      } else {
        expect(error.message).toMatch(
          (cut - HEADER) % FRAME === 0 ? /it ends after \d+ records without its trailer/ : /it ends inside frame \d+ \(truncated\)/,
        );
        expect((error as DumpFormatError).report).toMatchObject({ records: whole, imported: whole });
      }
    }
  });

  it('bytes after the trailer, and a trailer whose count is wrong, are DumpFormatError', async () => {
    const extra = new Uint8Array([...bytes, 0]);
    const a = await rejection(importKeys(new AuthKeyManager(), [extra], PASS));
    expect(a).toBeInstanceOf(DumpFormatError);
    expect((a as DumpFormatError).kind).toBe('data-after-trailer');
    expect(a.message).toBe('not a valid dump: data follows its trailer');
    const contents = given.slice(0, 2).map((e) => recordContent(e.key.idBytes, e.key.bytes, 0));
    const b = await rejection(importKeys(new AuthKeyManager(), [refWrite(contents, SECRET, { trailerCount: 5 })], SECRET));
    expect((b as DumpFormatError).kind).toBe('damaged-trailer');
    expect(b.message).toBe('damaged dump trailer: it authenticates, but counts 5 records where the dump holds 2');
    expect((b as DumpFormatError).report).toMatchObject({ imported: 2 });
  });

  it('an export that failed midway leaves a dump that imports its records and then rejects', async () => {
    const controller = new AbortController();
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const error = await rejection(exportKeys(entries(1000), out, { ...SECRET, signal: controller.signal, onProgress: () => controller.abort() }));
    expect(error.name).toBe('AbortError');
    const partial = Buffer.concat(chunks);
    const written = (partial.length - HEADER) / FRAME;
    expect(written).toBe(226);
    const target = new AuthKeyManager();
    const failure = await rejection(importKeys(target, [partial], SECRET));
    expect(failure).toBeInstanceOf(DumpFormatError);
    expect((failure as DumpFormatError).report).toMatchObject({ records: 226, imported: 226 });
    expect(target.size).toBe(226);
  });

  // Regression (issue 18): every format error began "not a complete dump:", a damaged trailer was
  // reported as a truncation, and a failing stream lost the report.
  it('format errors say what is wrong: not a dump, an unsupported version or header, a damaged trailer (which way)', async () => {
    const cases: [Uint8Array, string, RegExp][] = [
      [new TextEncoder().encode('x'.repeat(200)), 'not-a-dump', /^not a mtproto-authkey dump \(it does not start with "MTPAKDMP"\)$/],
      [new TextEncoder().encode('{}'), 'not-a-dump', /^not a mtproto-authkey dump/],
      [
        Uint8Array.from([...bytes.subarray(0, 8), 2, ...bytes.subarray(9)]),
        'unsupported-version',
        /^unsupported dump format version 2 \(this version reads 1\)$/,
      ],
      [Uint8Array.from([...bytes.subarray(0, 9), 7, ...bytes.subarray(10)]), 'unsupported-header', /^unsupported dump header: unknown key derivation 7$/],
    ];
    for (const [input, kind, message] of cases) {
      const error = await rejection(importKeys(new AuthKeyManager(), [input], PASS));
      expect(error, kind).toBeInstanceOf(DumpFormatError);
      expect((error as DumpFormatError).kind).toBe(kind);
      expect(error.message).toMatch(message);
      expect(error.message).not.toMatch(/complete/);
    }
    // A damaged trailer: every record is imported, and the trailer is not taken for a damaged record before a cut.
    const trailerAt = bytes.length - FRAME;
    for (const at of [trailerAt + 1, trailerAt + 200, bytes.length - 1]) {
      const damaged = bytes.slice();
      damaged[at] ^= 4;
      const target = new AuthKeyManager();
      const error = await rejection(importKeys(target, [damaged], PASS));
      expect(error, `byte ${at - trailerAt} of the trailer`).toBeInstanceOf(DumpFormatError);
      expect((error as DumpFormatError).kind).toBe('damaged-trailer');
      expect(error.message).toBe(
        'damaged dump trailer: the last frame (20) should be the trailer but does not authenticate at that position (it is damaged, or frames before it were dropped or repeated)',
      );
      expect((error as DumpFormatError).report).toEqual({ ...emptyReport(), records: 20, imported: 20 });
      expect(target.size).toBe(20);
    }
    const retyped = bytes.slice();
    retyped[trailerAt] = 0x46;
    const error = await rejection(importKeys(new AuthKeyManager(), [retyped], PASS));
    expect((error as DumpFormatError).kind).toBe('damaged-trailer');
    expect(error.message).toBe('damaged dump trailer: the last frame (20) is the trailer, but its type byte was changed from 0x45 to 0x46');
    // A damaged last record before a cut stays a truncation, the record counted as corrupted.
    const cutAfterDamage = bytes.slice(0, trailerAt);
    cutAfterDamage[trailerAt - 10] ^= 1;
    const cut = await rejection(importKeys(new AuthKeyManager(), [cutAfterDamage], PASS));
    expect((cut as DumpFormatError).kind).toBe('truncated');
    expect((cut as DumpFormatError).report).toEqual({ ...emptyReport(), records: 20, imported: 19, corrupted: 1 });
  });

  it('a stream that fails midway rejects with DumpStreamFailed: the report of what was imported, the stream’s error as cause', async () => {
    const failure = new Error('EIO: the disk went away');
    async function* failing() {
      yield bytes.subarray(0, HEADER + 7 * FRAME + 100);
      throw failure;
    }
    const target = new AuthKeyManager();
    const error = await rejection(importKeys(target, failing(), PASS));
    expect(error).toBeInstanceOf(DumpStreamFailed);
    expect(error.name).toBe('DumpStreamFailed');
    expect(error.cause).toBe(failure);
    expect(error.message).toBe('reading the dump failed after 7 records (7 imported, and they stay): EIO: the disk went away');
    expect((error as DumpStreamFailed).report).toEqual({ ...emptyReport(), records: 7, imported: 7 });
    expect(target.size).toBe(7);
    // A Node stream destroyed with an error, before the header is whole.
    const early = new Readable({ read() {} });
    early.push(Buffer.from(bytes.subarray(0, 20)));
    setImmediate(() => early.destroy(failure));
    const e2 = await rejection(importKeys(new AuthKeyManager(), early, PASS));
    expect(e2).toBeInstanceOf(DumpStreamFailed);
    expect(e2.cause).toBe(failure);
    expect((e2 as DumpStreamFailed).report).toEqual(emptyReport());
    // A stream that fails because the import was aborted is the abort.
    const controller = new AbortController();
    async function* abortedThenFailing() {
      yield bytes.subarray(0, HEADER + FRAME);
      controller.abort(new Error('stop'));
      throw failure;
    }
    expect((await rejection(importKeys(new AuthKeyManager(), abortedThenFailing(), { ...PASS, signal: controller.signal }))).message).toBe('stop');
  });

  it('records whose expiry passed are counted and not stored', async () => {
    const now = Date.now();
    const source: DumpEntry[] = keys(6).map((key, i) => ({ key, expiresAt: i < 4 ? now - 1000 - i : now + HOUR }));
    const target = new AuthKeyManager();
    expect(await importKeys(target, [await dump(source)], SECRET)).toEqual({ ...emptyReport(), records: 6, imported: 2, expired: 4 });
    expect(target.size).toBe(2);
  });

  it('authentic records that are not keys count as corrupted: a key that does not hash to the recorded id, the zero key, an expiry past 2**53', async () => {
    const [a, b, c] = keys(3);
    const contents = [
      recordContent(b.idBytes, a.bytes, 0),
      recordContent(new AuthKey(1n).idBytes, new Uint8Array(256), 0),
      recordContent(c.idBytes, c.bytes, 2n ** 63n),
      recordContent(a.idBytes, a.bytes, 0),
    ];
    const target = new AuthKeyManager();
    expect(await importKeys(target, [refWrite(contents, SECRET)], SECRET)).toEqual({ ...emptyReport(), records: 4, imported: 1, corrupted: 3 });
    expect([...target.entries()].map((e) => e.key.id)).toEqual([a.id]);
  });
});

/**
 * A manager that holds, under some ids, a different key than the dump's (a real collision needs two
 * keys with the same 64-bit SHA-1 tail, which cannot be made): getKey answers with the other key or
 * AuthKeyCorrupted, and setKey rejects as a manager holding it would. `raceIds` answer getKey with
 * AuthKeyDoesNotExist and then setKey with AuthKeyCollision, as when another writer stores a
 * different key between the two calls.
 */
class CollidingManager implements AuthKeyManagerProtocol {
  readonly inner = new AuthKeyManager();
  readonly other = new Map<bigint, AuthKey | 'corrupted'>();
  readonly raceIds = new Set<bigint>();
  async setKey(value: AuthKey | bigint, options?: SetKeyOptions): Promise<void> {
    const key = value as AuthKey;
    const held = this.other.get(key.id);
    if (held === 'corrupted') throw new AuthKeyCorrupted(key.id, 'test');
    if (held !== undefined || this.raceIds.has(key.id)) throw new AuthKeyCollision(key.id);
    return this.inner.setKey(value, options);
  }
  hasKey = (value: AuthKey | bigint | Uint8Array) => this.inner.hasKey(value);
  async getKey(id: AuthKey | bigint | Uint8Array): Promise<AuthKey> {
    const key = id as AuthKey;
    const held = this.other.get(key.id);
    if (held === 'corrupted') throw new AuthKeyCorrupted(key.id, 'test');
    if (held !== undefined) return held;
    if (this.raceIds.has(key.id)) throw new AuthKeyDoesNotExist(key.id);
    return this.inner.getKey(id);
  }
  delKey = (value: AuthKey | bigint | Uint8Array) => this.inner.delKey(value);
}

describe('importKeys: collisions', () => {
  let given: DumpEntry[];
  let bytes: Uint8Array;
  let target: CollidingManager;
  beforeAll(async () => {
    given = entries(10);
    bytes = await dump(given);
  });
  const prepare = () => {
    target = new CollidingManager();
    target.other.set(given[2].key.id, new AuthKey(randomBytes(256)));
    target.other.set(given[5].key.id, 'corrupted');
    target.raceIds.add(given[7].key.id);
  };

  it("'skip' (the default) counts each collision with its id and imports the rest", async () => {
    prepare();
    const ids = [given[2].key.id, given[5].key.id, given[7].key.id];
    // What is there instead is said for each: only 2 and 7 (the race) hold a different key.
    const reasons = ['a different key is stored under the id', 'the stored value cannot be used: test', 'a different key is stored under the id'];
    expect(await importKeys(target, [bytes], SECRET)).toEqual({
      ...emptyReport(),
      records: 10,
      imported: 7,
      collisions: 3,
      collisionIds: ids,
      collisionReasons: reasons,
    });
    expect(target.inner.size).toBe(7);
    prepare();
    expect((await importKeys(target, [bytes], { ...SECRET, onCollision: 'skip' })).collisionIds).toEqual(ids);
  });

  it("'fail' stops at the first collision with AuthKeyCollision; the keys before it stay", async () => {
    prepare();
    const error = await rejection(importKeys(target, [bytes], { ...SECRET, onCollision: 'fail' }));
    expect(error).toBeInstanceOf(AuthKeyCollision);
    expect((error as AuthKeyCollision).authKeyId).toBe(given[2].key.id);
    expect(target.inner.size).toBe(2);
    // A value the target cannot use is not called a different key: the target's own error is.
    target = new CollidingManager();
    target.other.set(given[5].key.id, 'corrupted');
    const unusable = await rejection(importKeys(target, [bytes], { ...SECRET, onCollision: 'fail' }));
    expect(unusable).toBeInstanceOf(AuthKeyCorrupted);
    expect((unusable as AuthKeyCorrupted).problem).toBe('test');
  });

  it('a function is called with each id; when it throws, the import rejects with that', async () => {
    prepare();
    const seen: [bigint, string][] = [];
    expect((await importKeys(target, [bytes], { ...SECRET, onCollision: (id, reason) => void seen.push([id, reason]) })).collisions).toBe(3);
    expect(seen).toEqual([
      [given[2].key.id, 'a different key is stored under the id'],
      [given[5].key.id, 'the stored value cannot be used: test'],
      [given[7].key.id, 'a different key is stored under the id'],
    ]);
    prepare();
    const stop = new Error('stop here');
    expect(
      await rejection(
        importKeys(target, [bytes], {
          ...SECRET,
          onCollision: () => {
            throw stop;
          },
        }),
      ),
    ).toBe(stop);
    expect(target.inner.size).toBe(2);
  });

  it('a failing target stops the import with its error', async () => {
    const broken: AuthKeyManagerProtocol = {
      getKey: async () => {
        throw new Error('store down');
      },
      setKey: async () => undefined,
      hasKey: async () => false,
      delKey: async () => undefined,
    };
    expect((await rejection(importKeys(broken, [bytes], SECRET))).message).toBe('store down');
  });
});

describe('the scrypt cost a reader accepts', () => {
  /** A passphrase dump header with this cost and a random check tag: what a hostile file can be. */
  const hostile = (cost: { N: number; r: number; p: number }) => new Uint8Array(Buffer.concat([refHeader(1, cost).subarray(0, 39), randomBytes(16)]));

  // Regression (issue 18): a header within the format's bounds (log2 N = 20, r = 2, p = 16: 256 MiB,
  // 32 times the default work) made every import attempt run about 11 s of scrypt before it said
  // the passphrase was wrong.
  it('a header asking for more work than DEFAULT_SCRYPT is refused, naming its cost and the limit, before scrypt runs', async () => {
    const expensive = { N: 2 ** 20, r: 2, p: 16 };
    const error = await rejection(importKeys(new AuthKeyManager(), [hostile(expensive)], { passphrase: 'wrong' }));
    expect(error).toBeInstanceOf(DumpFormatError);
    expect((error as DumpFormatError).kind).toBe('scrypt-over-limit');
    expect(error.message).toBe(
      'scrypt cost over the limit: the header asks for N = 2**20, r = 2, p = 16 (N * r * p = 2**25, 256 MiB), ' +
        'and this reader accepts at most the work and memory of N = 2**17, r = 8, p = 1 (N * r * p = 2**20, 128 MiB); ' +
        'if the dump is trusted, raise the limit with the maxScrypt option',
    );
    // Work by p alone, and twice the default's N, are over the limit.
    for (const cost of [
      { N: 2 ** 14, r: 8, p: 16 },
      { N: 2 ** 18, r: 8, p: 1 },
    ]) {
      const e = await rejection(importKeys(new AuthKeyManager(), [hostile(cost)], { passphrase: 'wrong' }));
      expect((e as DumpFormatError).kind, JSON.stringify(cost)).toBe('scrypt-over-limit');
    }
    // The default cost itself is accepted (a wrong passphrase is then found by the check tag).
    expect(DEFAULT_SCRYPT).toEqual({ N: 2 ** 17, r: 8, p: 1 });
  });

  it('maxScrypt moves the limit: a dump made with more than it is refused, with it accepted', async () => {
    const cost = { N: 2 ** 12, r: 8, p: 2 };
    const given = entries(3);
    const bytes = await dump(given, { passphrase: 'pass', scrypt: cost });
    const lower = { N: 2 ** 12, r: 8, p: 1 };
    const refused = await rejection(importKeys(new AuthKeyManager(), [bytes], { passphrase: 'pass', maxScrypt: lower }));
    expect((refused as DumpFormatError).kind).toBe('scrypt-over-limit');
    expect(refused.message).toMatch(
      /asks for N = 2\*\*12, r = 8, p = 2 \(N \* r \* p = 2\*\*16, 4 MiB\).*of N = 2\*\*12, r = 8, p = 1 \(N \* r \* p = 2\*\*15, 4 MiB\)/,
    );
    expect((await importKeys(new AuthKeyManager(), [bytes], { passphrase: 'pass', maxScrypt: cost })).imported).toBe(3);
    expect((await importKeys(new AuthKeyManager(), [bytes], { passphrase: 'pass' })).imported).toBe(3);
    // Memory is bounded on its own: the same work as the limit's, in 4 times its memory (N * r), is refused.
    const wide = await rejection(importKeys(new AuthKeyManager(), [bytes], { passphrase: 'pass', maxScrypt: { N: 2 ** 10, r: 8, p: 8 } }));
    expect((wide as DumpFormatError).kind).toBe('scrypt-over-limit');
  });

  it('maxScrypt of a wrong type or outside the format’s bounds is refused before anything is read', async () => {
    const cases: [unknown, ErrorConstructor, RegExp][] = [
      ['default', TypeError, /importKeys: expected options.maxScrypt as \{ N, r, p \}, got string/],
      [{ N: 2n ** 20n }, TypeError, /options.maxScrypt.N as a number, got bigint/],
      [{ N: 2 ** 21 }, RangeError, /options.maxScrypt.N: expected a power of two from 2\*\*10 to 2\*\*20/],
      [{ p: 0 }, RangeError, /options.maxScrypt.p: expected an integer in 1..16, got 0/],
    ];
    for (const [maxScrypt, type, message] of cases) {
      let reads = 0;
      const source = {
        *[Symbol.iterator]() {
          reads++;
          yield new Uint8Array(HEADER);
        },
      };
      const error = await rejection(importKeys(new AuthKeyManager(), source, { passphrase: 'x', maxScrypt } as never));
      expect(error, JSON.stringify(String(maxScrypt))).toBeInstanceOf(type);
      expect(error.message).toMatch(message);
      expect(reads).toBe(0);
    }
  });

  // Regression (issue 18): an abort while scrypt ran was ignored until scrypt ended, and the import
  // then reported a wrong passphrase.
  it('an abort while scrypt runs rejects with the signal’s reason, not a wrong passphrase', async () => {
    const controller = new AbortController();
    const reason = new Error('operator pressed ^C');
    async function* source() {
      // The reader derives the key as soon as the header is in, in the same turn: by the time this
      // callback runs, scrypt is running on the thread pool.
      setImmediate(() => controller.abort(reason));
      yield hostile(DEFAULT_SCRYPT);
    }
    const error = await rejection(importKeys(new AuthKeyManager(), source(), { passphrase: 'wrong', signal: controller.signal }));
    expect(error).toBe(reason);
  });
});

describe('signal and progress', () => {
  it('an aborted signal rejects with its reason before anything is written or imported', async () => {
    const reason = new Error('stop');
    const signal = AbortSignal.abort(reason);
    const out = new PassThrough();
    let wrote = 0;
    out.on('data', (c: Buffer) => (wrote += c.length));
    expect(await rejection(exportKeys(entries(3), out, { ...SECRET, signal }))).toBe(reason);
    expect(wrote).toBe(0);
    const target = new AuthKeyManager();
    expect(await rejection(importKeys(target, [await dump(entries(3))], { ...SECRET, signal }))).toBe(reason);
    expect(target.size).toBe(0);
  });

  it('aborting an import midway keeps what was imported, and progress counts records every 1000 and at the end', async () => {
    const bytes = await dump(entries(2500));
    const calls: number[] = [];
    expect((await importKeys(new AuthKeyManager(), [bytes], { ...SECRET, onProgress: (done) => void calls.push(done) })).imported).toBe(2500);
    expect(calls).toEqual([1000, 2000, 2500]);
    const controller = new AbortController();
    const target = new AuthKeyManager();
    const error = await rejection(importKeys(target, [bytes], { ...SECRET, signal: controller.signal, onProgress: () => controller.abort() }));
    expect(error.name).toBe('AbortError');
    expect(target.size).toBe(1000);
  });
});

describe('bad arguments', () => {
  const ok = entries(1);
  const out = () => {
    const s = new PassThrough();
    s.resume();
    return s;
  };
  const bad: [string, unknown, ErrorConstructor, RegExp][] = [
    ['no options', undefined, TypeError, /expected an options object/],
    ['null options', null, TypeError, /expected an options object/],
    ['a string as options', 'pass', TypeError, /expected an options object/],
    ['neither secret', {}, TypeError, /got neither/],
    ['both', { passphrase: 'a', secret: new Uint8Array(32) }, TypeError, /got both/],
    ['a number passphrase', { passphrase: 5 }, TypeError, /passphrase as a string or a Uint8Array, got number/],
    ['an empty passphrase', { passphrase: '' }, RangeError, /non-empty passphrase/],
    ['an empty byte passphrase', { passphrase: new Uint8Array(0) }, RangeError, /non-empty passphrase/],
    ['a 31-byte secret', { secret: new Uint8Array(31) }, RangeError, /secret of 32 bytes, got 31/],
    ['a 33-byte secret', { secret: new Uint8Array(33) }, RangeError, /secret of 32 bytes, got 33/],
    ['a string secret', { secret: 'x'.repeat(32) }, TypeError, /secret as a Uint8Array of 32 bytes, got string/],
    ['a Uint16Array secret', { secret: new Uint16Array(16) }, TypeError, /got Uint16Array/],
    ['an ArrayBuffer secret', { secret: new ArrayBuffer(32) }, TypeError, /got ArrayBuffer/],
    ['a non-signal', { secret: new Uint8Array(32), signal: {} }, TypeError, /signal: expected an AbortSignal, got Object/],
    ['a non-function onProgress', { secret: new Uint8Array(32), onProgress: 1 }, TypeError, /onProgress: expected a function, got number/],
  ];
  for (const [what, options, type, message] of bad) {
    it(`${what}: exportKeys and importKeys throw ${type.name}`, async () => {
      const o = out();
      let wrote = 0;
      o.on('data', (c: Buffer) => (wrote += c.length));
      const a = await rejection(exportKeys(ok, o, options as never));
      expect(a).toBeInstanceOf(type);
      expect(a.message).toMatch(message);
      expect(wrote).toBe(0);
      const target = new AuthKeyManager();
      const b = await rejection(importKeys(target, [new Uint8Array(0)], options as never));
      expect(b).toBeInstanceOf(type);
      expect(b.message).toMatch(message);
      expect(target.size).toBe(0);
    });
  }

  it('exportKeys: scrypt cost out of bounds or of a wrong type', async () => {
    const cases: [unknown, ErrorConstructor, RegExp][] = [
      [{ N: 2 ** 9 }, RangeError, /N: expected a power of two from 2\*\*10 to 2\*\*20, got 512/],
      [{ N: 2 ** 21 }, RangeError, /N: expected a power of two/],
      [{ N: 3000 }, RangeError, /N: expected a power of two/],
      [{ r: 0 }, RangeError, /r: expected an integer in 1..32, got 0/],
      [{ p: 17 }, RangeError, /p: expected an integer in 1..16, got 17/],
      [{ N: 2 ** 20, r: 8 }, RangeError, /at most 256 MiB/],
      [{ N: '1024' }, TypeError, /scrypt.N as a number, got string/],
      ['fast', TypeError, /scrypt as \{ N, r, p \}/],
    ];
    for (const [scrypt, type, message] of cases) {
      const error = await rejection(exportKeys(ok, out(), { passphrase: 'x', scrypt } as never));
      expect(error, JSON.stringify(scrypt)).toBeInstanceOf(type);
      expect(error.message).toMatch(message);
    }
  });

  it('exportKeys: sources, streams and entries of a wrong type', async () => {
    expect((await rejection(exportKeys(5 as never, out(), SECRET))).message).toMatch(/expected an iterable or async iterable/);
    expect((await rejection(exportKeys(ok, {} as never, SECRET))).message).toMatch(/expected a Node Writable or a web WritableStream, got Object/);
    const ended = new PassThrough();
    ended.end();
    expect(await rejection(exportKeys(ok, ended, SECRET))).toBeInstanceOf(TypeError);
    const entriesCases: [unknown, ErrorConstructor, RegExp][] = [
      [null, TypeError, /entry 0: expected \{ key, expiresAt \}/],
      [{ key: 5n }, TypeError, /entry 0: expected key as an AuthKey, got bigint/],
      [{ key: ok[0].key, expiresAt: '1' }, TypeError, /expiresAt as epoch milliseconds, got string/],
      [{ key: ok[0].key, expiresAt: new Date() }, TypeError, /expiresAt as epoch milliseconds, got Date/],
      [{ key: ok[0].key, expiresAt: 0 }, RangeError, /expected expiresAt as a time after 1970/],
      [{ key: ok[0].key, expiresAt: Number.NaN }, RangeError, /after 1970/],
      [{ key: ok[0].key, expiresAt: 2 ** 53 }, RangeError, /after 1970/],
    ];
    for (const [entry, type, message] of entriesCases) {
      const error = await rejection(exportKeys([entry as DumpEntry], out(), SECRET));
      expect(error).toBeInstanceOf(type);
      expect(error.message).toMatch(message);
    }
  });

  it('importKeys: targets, streams, chunks and collision policies of a wrong type', async () => {
    const bytes = await dump(ok);
    expect((await rejection(importKeys({} as never, [bytes], SECRET))).message).toMatch(/expected a manager with getKey and setKey/);
    expect((await rejection(importKeys(new AuthKeyManager(), 5 as never, SECRET))).message).toMatch(/expected a readable stream/);
    expect((await rejection(importKeys(new AuthKeyManager(), ['MTPAKDMP'] as never, SECRET))).message).toMatch(/Uint8Array chunks, got string/);
    const encoded = Readable.from([Buffer.from(bytes)]).setEncoding('latin1');
    expect(await rejection(importKeys(new AuthKeyManager(), encoded as never, SECRET))).toBeInstanceOf(TypeError);
    expect(await rejection(importKeys(new AuthKeyManager(), [bytes], { ...SECRET, onCollision: 'ignore' } as never))).toBeInstanceOf(RangeError);
    expect(await rejection(importKeys(new AuthKeyManager(), [bytes], { ...SECRET, onCollision: 1 } as never))).toBeInstanceOf(TypeError);
  });

  it('reads the caller’s secret and passphrase bytes without changing them', async () => {
    const secret = new Uint8Array(randomBytes(32));
    const copy = secret.slice();
    const bytes = await dump(ok, { secret });
    await importKeys(new AuthKeyManager(), [bytes], { secret });
    expect(hex(secret)).toBe(hex(copy));
    const pass = new TextEncoder().encode('bytes passphrase');
    await importKeys(new AuthKeyManager(), [await dump(ok, { passphrase: pass, scrypt: FAST })], { passphrase: pass });
    expect(new TextDecoder().decode(pass)).toBe('bytes passphrase');
  });

  it('reads the iterator method of the source and of the dump, and a web stream’s getWriter, once each', async () => {
    // Regression: each was read once to check it and again to use it, so a getter could pass the check and then hand over nothing.
    let reads = 0;
    const once = (name: PropertyKey, value: unknown): object =>
      Object.defineProperty({}, name, {
        get() {
          return reads++ === 0 ? value : undefined;
        },
      });
    const chunks: Uint8Array[] = [];
    const stream = new WritableStream<Uint8Array>({ write: (c) => void chunks.push(c) });
    reads = 0;
    const source = once(Symbol.iterator, () => ok[Symbol.iterator]());
    expect((await exportKeys(source as never, stream, SECRET)).exported).toBe(1);
    expect(reads).toBe(1);
    reads = 0;
    const writable = once('getWriter', () => new WritableStream<Uint8Array>({ write: (c) => void chunks.push(c) }).getWriter());
    chunks.length = 0;
    expect((await exportKeys(ok, writable as never, SECRET)).exported).toBe(1);
    expect(reads).toBe(1);
    reads = 0;
    const bytes = new Uint8Array(Buffer.concat(chunks));
    const readable = once(Symbol.asyncIterator, async function* () {
      yield bytes;
    });
    expect((await importKeys(new AuthKeyManager(), readable as never, SECRET)).imported).toBe(1);
    expect(reads).toBe(1);
  });

  it('reads a chunk’s bytes where the intrinsic buffer and offset say, whatever its class claims', async () => {
    // Regression: the chunk's own buffer and byteOffset were read, which a subclass can override.
    const bytes = await dump(ok);
    class Shifted extends Uint8Array {
      override get byteOffset(): number {
        return 0;
      }
    }
    const backing = new Uint8Array(64 + bytes.length);
    backing.set(bytes, 64);
    const report = await importKeys(new AuthKeyManager(), [new Shifted(backing.buffer, 64, bytes.length)], SECRET);
    expect(report.imported).toBe(1);
  });
});

describe('AuthKeyManager#entries', () => {
  it('yields every live key once with its expiry; expired keys are not yielded', async () => {
    let now = 1_000_000;
    const m = new AuthKeyManager({ now: () => now });
    const [a, b, c] = keys(3);
    m.setKeySync(a);
    m.setKeySync(b, { expiresAt: 2_000_000 });
    m.setKeySync(c, { expiresAt: 1_500_000.5 });
    const got = [...m.entries()].sort((x, y) => (x.key.id < y.key.id ? -1 : 1));
    const want = [{ key: a }, { key: b, expiresAt: 2_000_000 }, { key: c, expiresAt: 1_500_000.5 }].sort((x, y) => (x.key.id < y.key.id ? -1 : 1));
    expect(got.map((e) => [e.key.id, e.expiresAt])).toEqual(want.map((e) => [e.key.id, e.expiresAt]));
    expect(got.every((e, i) => e.key.equals(want[i].key))).toBe(true);
    now = 1_600_000;
    expect(new Set([...m.entries()].map((e) => e.key.id))).toEqual(new Set([a.id, b.id]));
  });

  it('a key removed before it is reached is not yielded, one added after the start is not either, the others exactly once', () => {
    const m = new AuthKeyManager();
    const stored = keys(3000);
    for (const k of stored) m.setKeySync(k);
    const seen = new Set<bigint>();
    const removed = new Set<bigint>();
    let i = 0;
    for (const { key } of m.entries()) {
      expect(seen.has(key.id)).toBe(false);
      seen.add(key.id);
      // Removing most keys mid-iteration shrinks and compacts the table (records move).
      if (i++ === 10) {
        for (const k of stored) {
          if (!seen.has(k.id) && removed.size < 2500) {
            void m.delKey(k);
            removed.add(k.id);
          }
        }
        m.setKeySync(new AuthKey(randomBytes(256)));
      }
    }
    expect(tableOf(m).stats().compactions).toBeGreaterThan(0);
    expect(seen.size).toBe(3000 - 2500);
    for (const k of stored) expect(seen.has(k.id)).toBe(!removed.has(k.id));
  });

  it('keeps nothing in the manager: keys not looked up before are not handed out by it', async () => {
    const m = new AuthKeyManager();
    const stored = keys(100);
    for (const k of stored) m.setKeySync(k);
    const looked = await m.getKey(stored[0].id);
    const out = [...m.entries()];
    expect(tableOf(m).stats().handed).toBe(1);
    expect(out.find((e) => e.key.id === looked.id)!.key).toBe(looked);
    // Keys read out stay valid after the manager lets go of them.
    await m.clear();
    expect(out.every((e, i) => e.key.id === out[i].key.id && e.key.bytes.length === 256)).toBe(true);
    expect(new Set(out.map((e) => hex(e.key.bytes)))).toEqual(new Set(stored.map((k) => hex(k.bytes))));
  });
});
