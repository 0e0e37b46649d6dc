/** Dumps for the tests of the `./dump` subpath: dump.test.ts (no server) and dump-redis.test.ts share them. */
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { AuthKey } from '../src/index.ts';
import { type DumpEntry, type ImportReport, exportKeys } from '../src/dump.ts';

/** The lowest scrypt cost the module takes, so that tests run fast; one test checks the defaults. */
export const FAST = { N: 2 ** 10, r: 8, p: 1 };
export const PASS = { passphrase: 'correct horse battery staple', scrypt: FAST };
export const SECRET = { secret: new Uint8Array(randomBytes(32)) };

export const HOUR = 3_600_000;

/** `n` fresh random keys. */
export function keys(n: number): AuthKey[] {
  return Array.from({ length: n }, () => new AuthKey(randomBytes(256)));
}

/** Entries with a mix of expiries: none, and whole milliseconds in the future. */
export function entries(n: number): DumpEntry[] {
  const base = Date.now() + HOUR;
  return keys(n).map((key, i) => (i % 3 === 0 ? { key } : { key, expiresAt: base + i * 7 }));
}

/** The bytes `exportKeys` writes to a Node stream. */
export async function dump(source: Iterable<DumpEntry> | AsyncIterable<DumpEntry>, options: Parameters<typeof exportKeys>[2] = SECRET): Promise<Uint8Array> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await exportKeys(source, out, options);
  return new Uint8Array(Buffer.concat(chunks));
}

/** An import report with every count zero, to spread the expected counts over. */
export const emptyReport = (): ImportReport => ({
  records: 0,
  imported: 0,
  unchanged: 0,
  expired: 0,
  collisions: 0,
  collisionIds: [],
  collisionReasons: [],
  corrupted: 0,
});
