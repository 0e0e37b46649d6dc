/**
 * `redis import <file | ->`: stores the keys of an encrypted dump (RedisAuthKeyManager#importKeys),
 * reporting collisions and damaged records without stopping (unless `--on-collision fail`).
 * @internal
 */
import { type FileHandle, open } from 'node:fs/promises';
import { type ImportReport, type ScryptParams, DumpFormatError, DumpStreamFailed, importKeys } from '../../dump.js';
import type { AuthKeyManagerProtocol } from '../../index.js';
import type { CommandSpec, ParsedArgs } from '../args.js';
import { CliError, EXIT, UsageError, describeFailure } from '../exit.js';
import { type Output, count, idHex, table } from '../output.js';
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
    'on-collision': {
      type: 'string',
      value: '<skip | fail>',
      help: 'an id already holding a different key, or a value this store cannot use: skip it and go on (default), or stop',
    },
    'max-scrypt': {
      type: 'string',
      value: '<N,r,p>',
      help: "the most scrypt work a passphrase dump's header may ask for (default 131072,8,1, what export uses); N may be written 2**k",
    },
    ...OUTPUT_OPTIONS,
  },
  description: [
    'Reads a dump made by redis export (or exportKeys) and stores each key with its expiry, as setKey',
    'does: a key already stored is left as it is (unchanged), a key whose expiry has passed is not',
    'stored, and an id that holds something else is a collision: what is stored is kept, and the',
    'report says what it is for each id: a different key, or a value this store cannot use (a key',
    'stored unsealed where values are sealed, or sealed under a secret version not given here), which',
    'may well be the very key of the record: read the reason before deleting anything. A wrong',
    'passphrase or secret is found before anything is stored. Records that do not authenticate are',
    'counted and skipped. With at-rest secrets, keys are sealed under the current version.',
    '',
    'A passphrase dump whose header asks for more scrypt work than --max-scrypt (by default what',
    'export uses) is refused before scrypt runs: a hostile file could otherwise cost seconds of CPU.',
    '',
    'Exit code 0 if every record was stored or already there, 1 if there were collisions or damaged',
    'records, 4 if the passphrase or secret is wrong, the file is not a complete dump (or asks for',
    'more scrypt work than --max-scrypt), or it could not be read to its end.',
  ].join('\n'),
};

/** Runs `redis import`; returns the exit code. */
export async function run(args: ParsedArgs, out: Output): Promise<number> {
  const source = args.positionals[0];
  const onCollision = (args.values['on-collision'] as string | undefined) ?? 'skip';
  if (onCollision !== 'skip' && onCollision !== 'fail')
    throw new UsageError(`option --on-collision: expected skip or fail, got ${JSON.stringify(onCollision.slice(0, 20))}`);
  const maxScrypt = scryptOption(args.values['max-scrypt'] as string | undefined);
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
        return importKeys(target, readable, { ...key, onCollision, ...(maxScrypt === undefined ? {} : { maxScrypt }), ...context });
      },
    });
  } catch (error) {
    if (error instanceof DumpFormatError && error.kind === 'scrypt-over-limit') throw scryptRefused(error);
    const partial = reportOf(error);
    if (partial === undefined) throw error;
    // The dump module says what was done before the failure (a truncated dump: its records were
    // imported before the end showed it was cut); those keys stay, and the message says so.
    const failure = describeFailure(error, out.io.signal);
    // The stream's own error, under what it means here (the module's message counts the records too).
    const message =
      error instanceof DumpStreamFailed ? `cannot read the dump (${source === '-' ? 'stdin' : source}) to its end: ${causeOf(error)}` : failure.message;
    throw new CliError(
      `${message}; of the ${count(partial.records)} records before that, ${count(partial.imported)} were imported and stay`,
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
    ['collisions', `${count(report.collisions)}${report.collisions === 0 ? '' : ' (the id holds something else, kept as it is; why, below)'}`],
    ['corrupted', `${count(report.corrupted)}${report.corrupted === 0 ? '' : ' (records that do not authenticate or whose key is not its id: skipped)'}`],
  ]);
  if (report.collisions > 0) lines.push(...collisionLines(report));
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
    collisionReasons: report.collisionReasons,
    corrupted: report.corrupted,
  };
}

/**
 * The collisions of `report` for people: how many for each reason (a different key, or a value the
 * store cannot use and why: only the first means the id is really taken), then up to `limit` ids
 * with theirs.
 */
function collisionLines(report: ImportReport, limit = 20): string[] {
  const byReason = new Map<string, number>();
  for (const reason of report.collisionReasons) byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  const lines = ['collisions by what the id holds:', ...[...byReason].map(([reason, n]) => `  ${count(n).padStart(6)}  ${reason}`), 'collision ids:'];
  const ids = report.collisionIds;
  for (let i = 0; i < Math.min(ids.length, limit); i++) lines.push(`    ${idHex(ids[i])}  ${report.collisionReasons[i] ?? ''}`.trimEnd());
  if (ids.length > limit) lines.push(`    … and ${count(ids.length - limit)} more (--json lists every one)`);
  return lines;
}

/** What the stream of a DumpStreamFailed failed with, in a few words. */
function causeOf(error: DumpStreamFailed): string {
  const cause = error.cause;
  return cause instanceof Error ? cause.message : String(cause);
}

/** The dump module's refusal of a header over the scrypt limit, telling how to raise it here. */
function scryptRefused(error: DumpFormatError): CliError {
  // The header's cost as the module words it (N = 2**k, r, p), turned into the option's value.
  const asked = /the header asks for N = 2\*\*(\d+), r = (\d+), p = (\d+)/.exec(error.message);
  const value = asked === null ? 'N,r,p' : `${2 ** Number(asked[1])},${asked[2]},${asked[3]}`;
  const message = `${error.message.replace(/; if the dump is trusted.*$/, '')}; if the dump is trusted, allow its cost with --max-scrypt ${value}`;
  return new CliError(message, EXIT.DUMP, { kind: error.kind }, error.name);
}

/** Bounds of scrypt's parameters in a dump header (docs/dump-format.md), and so of --max-scrypt. */
const SCRYPT_BOUNDS = { minLog2N: 10, maxLog2N: 20, maxR: 32, maxP: 16, maxMemory: 256 * 2 ** 20 } as const;

/** `--max-scrypt N,r,p` (N in digits or as 2**k) as ScryptParams; undefined when not given. */
function scryptOption(value: string | undefined): ScryptParams | undefined {
  if (value === undefined) return undefined;
  const match = /^(?:(\d+)|2(?:\*\*|\^)(\d+)),(\d+),(\d+)$/.exec(value.replace(/\s+/g, ''));
  const expected = 'expected N,r,p (N a power of two from 2**10 to 2**20, r in 1..32, p in 1..16, 128 * N * r at most 256 MiB), e.g. 262144,8,1';
  if (match === null) throw new UsageError(`option --max-scrypt: ${expected}, got ${JSON.stringify(value.slice(0, 20))}`);
  const N = match[1] !== undefined ? Number(match[1]) : 2 ** Number(match[2]);
  const r = Number(match[3]);
  const p = Number(match[4]);
  const log2N = Math.log2(N);
  if (
    !Number.isInteger(log2N) ||
    log2N < SCRYPT_BOUNDS.minLog2N ||
    log2N > SCRYPT_BOUNDS.maxLog2N ||
    r < 1 ||
    r > SCRYPT_BOUNDS.maxR ||
    p < 1 ||
    p > SCRYPT_BOUNDS.maxP ||
    128 * N * r > SCRYPT_BOUNDS.maxMemory
  )
    throw new UsageError(`option --max-scrypt: ${expected}, got ${JSON.stringify(value.slice(0, 20))}`);
  return { N, r, p };
}
