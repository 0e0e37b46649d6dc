/**
 * `redis import <file | ->`: stores the keys of an encrypted dump (RedisAuthKeyManager#importKeys),
 * reporting collisions and damaged records without stopping (unless `--on-collision fail`).
 * @internal
 */
import { type FileHandle, open } from 'node:fs/promises';
import { idHexOf } from '../../core/ids.js';
import type { CommandSpec, ParsedArgs } from '../args.js';
import type { ImportReport } from '../../dump.js';
import { CliError, EXIT, UsageError } from '../exit.js';
import { type Output, count, idLines, table } from '../output.js';
import { AT_REST_OPTIONS, DUMP_OPTIONS, OUTPUT_OPTIONS, REDIS_OPTIONS, dumpKeyOf, secretsOf, storeAddress } from './common.js';
import { interrupted, isInterrupt } from './interrupt.js';
import { openStore } from './store.js';

export const spec: CommandSpec = {
  name: 'redis import',
  summary: 'store the keys of a dump file (or - for stdin); report collisions and damaged records',
  synopsis: '<file | ->',
  positionals: { min: 1, max: 1 },
  options: {
    ...REDIS_OPTIONS,
    ...AT_REST_OPTIONS,
    ...DUMP_OPTIONS,
    'on-collision': { type: 'string', value: '<skip | fail>', help: 'a different key already stored under an id: skip it and go on (default), or stop' },
    ...OUTPUT_OPTIONS,
  },
  description: [
    'Reads a dump made by redis export (or exportKeys) and stores each key with its expiry, as setKey',
    'does: a key already stored is left as it is (unchanged), a key whose expiry has passed is not',
    'stored, and a different key under the same id is a collision: the stored key is kept. A wrong',
    'passphrase or secret is found before anything is stored. Records that do not authenticate are',
    'counted and skipped. With at-rest secrets, keys are sealed under the current version.',
    '',
    'Exit code 0 if every record was stored or already there, 1 if there were collisions or damaged',
    'records, 4 if the passphrase or secret is wrong or the file is not a complete dump.',
  ].join('\n'),
};

/** Runs `redis import`; returns the exit code. */
export async function run(args: ParsedArgs, out: Output): Promise<number> {
  const source = args.positionals[0];
  const onCollision = (args.values['on-collision'] as string | undefined) ?? 'skip';
  if (onCollision !== 'skip' && onCollision !== 'fail')
    throw new UsageError(`option --on-collision: expected skip or fail, got ${JSON.stringify(onCollision.slice(0, 20))}`);
  const address = storeAddress(args, out.io);
  const encryption = await secretsOf(args, out.io, (line) => out.warn(line));
  const key = await dumpKeyOf(args, out.io, (line) => out.warn(line));
  let handle: FileHandle | undefined;
  let readable: AsyncIterable<Uint8Array>;
  if (source === '-') {
    if (out.io.stdin.isTTY) throw new UsageError('redis import -: stdin is a terminal; redirect a dump into it');
    readable = out.io.stdin as AsyncIterable<Uint8Array>;
  } else {
    try {
      handle = await open(source, 'r');
    } catch (error) {
      throw new UsageError(`redis import: cannot read ${source}: ${(error as { code?: string }).code ?? 'error'}`);
    }
    readable = handle.createReadStream();
  }
  let store;
  try {
    store = await openStore(address, encryption);
  } catch (error) {
    await handle?.close();
    throw error;
  }
  const shown = out.progress('import', 'records');
  let report;
  try {
    report = await store.manager.importKeys(readable, { ...key, onCollision, signal: out.io.signal, onProgress: (done, total) => shown.update(done, total) });
    shown.end('done');
  } catch (error) {
    if (isInterrupt(error, out)) return interrupted(out, 'redis import', shown, 'the keys stored so far stay; running it again leaves them unchanged');
    shown.end('stopped');
    const partial = (error as { report?: ImportReport }).report;
    if ((error as Error).name === 'DumpFormatError' && partial !== undefined) {
      // A truncated dump: its records were imported before the end showed it was cut.
      throw new CliError(
        `${(error as Error).message}; of the ${count(partial.records)} records before that, ${count(partial.imported)} were imported and stay`,
        EXIT.DUMP,
        {
          report: reportJson(partial),
        },
        'DumpFormatError',
      );
    }
    throw error;
  } finally {
    await handle?.close().catch(() => undefined);
    await store.close();
  }
  const lines = table([
    ['records', count(report.records)],
    ['imported', count(report.imported)],
    ['unchanged', `${count(report.unchanged)} (the same key was already stored)`],
    ['expired', `${count(report.expired)} (expiry passed: not stored)`],
    ['collisions', `${count(report.collisions)}${report.collisions === 0 ? '' : ' (a different key is stored under the id: kept)'}`],
    ['corrupted', `${count(report.corrupted)}${report.corrupted === 0 ? '' : ' (records that do not authenticate or whose key is not its id: skipped)'}`],
  ]);
  if (report.collisions > 0) lines.push('collision ids:', ...idLines(report.collisionIds));
  out.result({ command: 'redis import', prefix: address.prefix, file: source, ...reportJson(report) }, lines);
  return report.collisions > 0 || report.corrupted > 0 ? EXIT.PROBLEMS : EXIT.OK;
}

function reportJson(report: ImportReport): Record<string, unknown> {
  return {
    records: report.records,
    imported: report.imported,
    unchanged: report.unchanged,
    expired: report.expired,
    collisions: report.collisions,
    collisionIds: report.collisionIds.map(idHexOf),
    corrupted: report.corrupted,
  };
}
