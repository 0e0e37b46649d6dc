/**
 * `redis import <file | ->`: stores the keys of an encrypted dump (RedisAuthKeyManager#importKeys),
 * reporting collisions and damaged records without stopping (unless `--on-collision fail`).
 * @internal
 */
import { type FileHandle, open } from 'node:fs/promises';
import { type ImportReport, importKeys } from '../../dump.js';
import type { AuthKeyManagerProtocol } from '../../index.js';
import type { CommandSpec, ParsedArgs } from '../args.js';
import { CliError, EXIT, UsageError, describeFailure } from '../exit.js';
import { type Output, count, idHex, idLines, table } from '../output.js';
import { AT_REST_OPTIONS, DUMP_OPTIONS, OUTPUT_OPTIONS, REDIS_OPTIONS, dumpKeyOf, secretsOf, storeAddress } from './common.js';
import { onStore } from './operation.js';

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
  // Counted here: an interrupted import rejects without its report, and the progress is told
  // only every thousand records.
  let imported = 0;
  let ran;
  try {
    ran = await onStore(out, {
      command: 'redis import',
      label: 'import',
      unit: 'records',
      address,
      encryption,
      interruptNote: 'the keys stored so far stay; running it again leaves them unchanged',
      counted: (error) => ({ done: reportOf(error)?.imported ?? imported, unit: 'keys imported' }),
      release: async () => void (await handle?.close().catch(() => undefined)),
      run: ({ manager }, context) => {
        // The manager as importKeys uses it, with each key it stores counted.
        const target: AuthKeyManagerProtocol = {
          getKey: (id) => manager.getKey(id),
          hasKey: (id) => manager.hasKey(id),
          delKey: (id) => manager.delKey(id),
          async setKey(value, options) {
            await manager.setKey(value, options);
            imported++;
          },
        };
        return importKeys(target, readable, { ...key, onCollision, ...context });
      },
    });
  } catch (error) {
    const partial = reportOf(error);
    if (partial === undefined) throw error;
    // The dump module says what was done before the failure (a truncated dump: its records were
    // imported before the end showed it was cut); those keys stay, and the message says so.
    const failure = describeFailure(error, out.io.signal);
    throw new CliError(
      `${failure.message}; of the ${count(partial.records)} records before that, ${count(partial.imported)} were imported and stay`,
      failure.exitCode,
      { ...failure.details, report: reportJson(partial) },
      failure.name,
    );
  }
  if ('exitCode' in ran) return ran.exitCode;
  const { report } = ran;
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

/** The report a failed import carries (DumpFormatError's, say), if any. */
function reportOf(error: unknown): ImportReport | undefined {
  const report = (error as { report?: unknown } | undefined)?.report;
  if (report === null || typeof report !== 'object') return undefined;
  const r = report as Partial<ImportReport>;
  return typeof r.records === 'number' && typeof r.imported === 'number' && Array.isArray(r.collisionIds) ? (report as ImportReport) : undefined;
}

function reportJson(report: ImportReport): Record<string, unknown> {
  return {
    records: report.records,
    imported: report.imported,
    unchanged: report.unchanged,
    expired: report.expired,
    collisions: report.collisions,
    collisionIds: report.collisionIds.map(idHex),
    corrupted: report.corrupted,
  };
}
