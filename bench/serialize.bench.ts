/**
 * The 2048-bit bigint ↔ 256 big-endian bytes routes, which is why `AuthKey` keeps bytes as its
 * canonical form and makes `value` lazily: either direction costs about as much as the SHA-1.
 *
 * To bytes, the engine's `keyFromBigint` converts and hashes in one go (`new AuthKey(bigint)`
 * needs both), so it is compared with routes that also hash with `crypto.hash`; the conversions
 * alone are shown too. The routes:
 * - hex: `Buffer.from(v.toString(16).padStart(512, '0'), 'hex')` and
 *   `BigInt('0x' + buf.toString('hex'))`. V8 prints and parses power-of-two radixes in linear
 *   time, so this is the route to beat;
 * - 64-bit limbs: 32 × `DataView.setBigUint64(v & (2**64 - 1))` with `v >>= 64n`, and back
 *   32 × `(acc << 64n) | getBigUint64`. Each of the 32 steps allocates a new bigint of up to
 *   2048 bits, so the limb route copies about 16 times the key's size and loses to hex;
 * - ours: V8's `toString(16)` written as ASCII into wasm memory with `encodeInto` and decoded
 *   there (then hashed in the same call); back, the hex digits are made in wasm and parsed by V8.
 *
 * Run alone: `npx tsx bench/serialize.bench.ts [--quick | --smoke]`.
 */
import { hash } from 'node:crypto';
import { engine } from '../src/core/engine.ts';
import { type Case, type Report, type RunOptions, consume, measure, row, runIfMain } from './harness.ts';
import { DIGEST_BYTES, KEY_BYTES, lowByte, randomKeys, splitKeys, toBigint } from './fixtures.ts';

const POOL = 256;
const LIMBS = KEY_BYTES / 8;
const MASK_64 = (1n << 64n) - 1n;

/** The hex route to bytes. */
function hexToBytes(v: bigint): Buffer {
  return Buffer.from(v.toString(16).padStart(2 * KEY_BYTES, '0'), 'hex');
}

/** The limb route to bytes, into `view` (256 bytes). */
function limbsToBytes(v: bigint, view: DataView): void {
  for (let i = LIMBS - 1; i >= 0; i--) {
    view.setBigUint64(i * 8, v & MASK_64);
    v >>= 64n;
  }
}

/** The limb route back to a bigint. */
function bytesToLimbs(view: DataView): bigint {
  let acc = 0n;
  for (let i = 0; i < LIMBS; i++) acc = (acc << 64n) | view.getBigUint64(i * 8);
  return acc;
}

/** Measures the bigint ↔ bytes routes. */
export async function run(options: RunOptions = {}): Promise<Report> {
  const started = performance.now();
  const bytes = splitKeys(randomKeys(POOL)).map((k) => Buffer.from(k));
  const values = bytes.map(toBigint);
  const views = bytes.map((b) => new DataView(b.buffer, b.byteOffset, b.length));
  // One record (key, then digest) written by every to-bytes route, as AuthKey keeps it.
  const record = new Uint8Array(KEY_BYTES + DIGEST_BYTES);
  const recordView = new DataView(record.buffer);
  const recordBuffer = Buffer.from(record.buffer, record.byteOffset, record.length);

  // Sanity check outside the timing: every route agrees.
  for (let i = 0; i < POOL; i++) {
    engine.keyFromBigint(values[i], record, 0);
    limbsToBytes(values[i], recordView);
    if (!hexToBytes(values[i]).equals(bytes[i]) || !Buffer.from(record.subarray(0, KEY_BYTES)).equals(bytes[i]))
      throw new Error('serialize bench: routes disagree (to bytes)');
    if (engine.keyToBigint(bytes[i], 0) !== values[i] || bytesToLimbs(views[i]) !== values[i]) throw new Error('serialize bench: routes disagree (to bigint)');
  }

  const toBytes: Case[] = [
    {
      name: 'ours Engine.keyFromBigint (+ SHA-1)',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) engine.keyFromBigint(values[i], record, 0);
        consume(record[KEY_BYTES]);
      },
    },
    {
      name: 'hex route + crypto.hash',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) {
          const key = hexToBytes(values[i]);
          record.set(key, 0);
          record.set(hash('sha1', key, 'buffer'), KEY_BYTES);
        }
        consume(record[KEY_BYTES]);
      },
    },
    {
      name: 'hex route + crypto.hash binary → write',
      note: 'the digest as a latin1 string written into the record by Buffer.write',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) {
          const key = hexToBytes(values[i]);
          recordBuffer.set(key, 0);
          recordBuffer.write(hash('sha1', key, 'binary'), KEY_BYTES, 'latin1');
        }
        consume(record[KEY_BYTES]);
      },
    },
    {
      name: 'limb route + crypto.hash',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) {
          limbsToBytes(values[i], recordView);
          record.set(hash('sha1', record.subarray(0, KEY_BYTES), 'buffer'), KEY_BYTES);
        }
        consume(record[KEY_BYTES]);
      },
    },
    {
      name: 'hex route only',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) consume(hexToBytes(values[i])[255]);
      },
    },
    {
      name: 'limb route only',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) limbsToBytes(values[i], recordView);
        consume(record[255]);
      },
    },
    {
      name: 'v.toString(16) only',
      note: 'the part of ours and of the hex route spent by V8 making digits',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) consume(values[i].toString(16).length);
      },
    },
  ];
  const toBigint_: Case[] = [
    {
      name: 'ours Engine.keyToBigint',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) consume(lowByte(engine.keyToBigint(bytes[i], 0)));
      },
    },
    {
      name: "hex route BigInt('0x' + hex)",
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) consume(lowByte(BigInt('0x' + bytes[i].toString('hex'))));
      },
    },
    {
      name: 'limb route getBigUint64',
      opsPerCall: POOL,
      fn: () => {
        for (let i = 0; i < POOL; i++) consume(lowByte(bytesToLimbs(views[i])));
      },
    },
  ];

  // The fastest of the node:crypto routes that convert and hash is the baseline.
  const toBytesTable = await measure(
    '2048-bit bigint → 256 bytes',
    'key',
    ['hex route + crypto.hash', 'hex route + crypto.hash binary → write', 'limb route + crypto.hash'],
    toBytes,
    options,
  );
  const toBigintTable = await measure('256 bytes → 2048-bit bigint', 'key', "hex route BigInt('0x' + hex)", toBigint_, options);
  const ns = (t: typeof toBytesTable, name: string) => Math.round(row(t, name).nsPerOp);
  return {
    id: 'serialize',
    title: 'bigint ↔ bytes routes',
    tables: [toBytesTable, toBigintTable],
    extra: [],
    targets: [],
    notes: [
      `to bytes, conversion alone: hex ${ns(toBytesTable, 'hex route only')} ns, limbs ${ns(toBytesTable, 'limb route only')} ns, of which toString(16) ${ns(toBytesTable, 'v.toString(16) only')} ns; ours converts and hashes in ${ns(toBytesTable, 'ours Engine.keyFromBigint (+ SHA-1)')} ns`,
      'bytes stay the canonical form of an AuthKey and `value` is made on first use: a conversion costs about as much as the hash',
    ],
    elapsedMs: performance.now() - started,
  };
}

await runIfMain(import.meta.url, run);
