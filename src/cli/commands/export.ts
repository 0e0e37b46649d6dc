/**
 * `redis export <file | ->`: writes every key of the store, with its expiry, to an encrypted
 * dump (RedisAuthKeyManager#exportKeys). A file is written under a temporary name beside it and
 * renamed into place only once complete, so an interrupted or failed export leaves no partial
 * dump under the name asked for.
 * @internal
 */
import { createWriteStream } from 'node:fs';
import { access, link, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { CommandSpec, ParsedArgs } from '../args.js';
import { EXIT, UsageError } from '../exit.js';
import { Output, count, idHex, idLines, table } from '../output.js';
import { AT_REST_OPTIONS, DUMP_OPTIONS, OUTPUT_OPTIONS, REDIS_OPTIONS, dumpKeyOf, secretsOf, storeAddress } from './common.js';
import { onStore } from './operation.js';

export const spec: CommandSpec = {
  name: 'redis export',
  summary: 'write every key (with its expiry) to an encrypted dump file, or - for stdout',
  synopsis: '<file | ->',
  positionals: { min: 1, max: 1 },
  options: {
    ...REDIS_OPTIONS,
    ...AT_REST_OPTIONS,
    ...DUMP_OPTIONS,
    force: { type: 'boolean', help: 'replace the file if it exists' },
    ...OUTPUT_OPTIONS,
  },
  description: [
    'Writes every key under the prefix, with its expiry, to a dump: always encrypted (AES-256-GCM',
    'under a key derived from the passphrase with scrypt, or the 32-byte dump secret), since it holds',
    'every key of the fleet. A sealed store needs its at-rest secrets to read the keys. Values that',
    'are corrupted are left out and listed.',
    '',
    'The file is written as .<file>.<pid>.partial beside it (mode 600) and renamed once complete; an',
    'existing file is kept unless --force. With -, the dump goes to stdout and the report to stderr.',
    '',
    'Exit code 0 if every key was exported, 1 if corrupted values were left out.',
  ].join('\n'),
};

/** Passphrases shorter than this get a warning. */
const MIN_PASSPHRASE = 16;

/** Runs `redis export`; returns the exit code. */
export async function run(args: ParsedArgs, out: Output): Promise<number> {
  const target = args.positionals[0];
  const toStdout = target === '-';
  if (toStdout && out.io.stdout.isTTY) throw new UsageError('redis export -: stdout is a terminal; redirect it to a file (the dump is binary)');
  const force = args.values.force === true;
  if (!toStdout && !force && (await exists(target))) throw existsError(target);
  const address = storeAddress(args, out.io);
  const encryption = await secretsOf(args, out.io, (line) => out.warn(line));
  const key = await dumpKeyOf(args, out.io, (line) => out.warn(line));
  // The dump holds every key of the fleet, and scrypt only slows a guesser down.
  if ('passphrase' in key && key.passphrase.length < MIN_PASSPHRASE) {
    out.warn(
      `warning: a passphrase of fewer than ${MIN_PASSPHRASE} characters is weak for a file that holds every key; prefer a long random one, or --dump-secret-file`,
    );
  }
  // With the dump on stdout, the report goes to stderr.
  const results = toStdout ? new Output(out.io, out.json, out.quiet, 'stderr') : out;

  let partial: string | undefined;
  let writable: Writable;
  if (toStdout) {
    const stdout = out.io.stdout as unknown as NodeJS.WritableStream;
    // Our own stream over stdout: whatever ends it, stdout stays open for the process.
    writable = new Writable({ write: (chunk: Buffer, _encoding, done) => void stdout.write(chunk, (error) => done(error ?? undefined)) });
  } else {
    partial = join(dirname(target), `.${basename(target)}.${process.pid}.partial`);
    // Created here (exclusively, mode 600) so that a path that cannot be written is a usage error
    // before Redis is asked; the stream below reopens it.
    try {
      await (await open(partial, 'wx', 0o600)).close();
    } catch (error) {
      throw new UsageError(`redis export: cannot write ${partial}: ${(error as { code?: string }).code ?? 'error'}`);
    }
    writable = createWriteStream(partial, { flags: 'r+' });
  }
  const discard = async () => {
    // A write still in flight when the stream is destroyed fails, and Node 24 emits that failure
    // as 'error': with no listener it crashed the command (exit 1, not 130) when interrupted.
    // Guarded by test/cli.test.ts "export leaves no dump (and no partial file) behind" on Node 24.
    writable.on('error', () => {});
    writable.destroy();
    if (partial !== undefined) await rm(partial, { force: true });
  };

  let ran;
  try {
    ran = await onStore(results, {
      command: 'redis export',
      label: 'export',
      unit: 'keys',
      address,
      encryption,
      interruptNote: toStdout ? 'the dump written is incomplete (import detects that)' : 'no dump was written',
      discard,
      run: async (store, context) => {
        const report = await store.manager.exportKeys(writable, { ...key, ...context });
        // exportKeys leaves the stream open; ended here, done once the file is closed.
        writable.end();
        await finished(writable);
        if (partial !== undefined) {
          // On disk before it takes the name: a crash right after the rename leaves a whole dump.
          const synced = await open(partial, 'r+');
          try {
            await synced.sync();
          } finally {
            await synced.close();
          }
          await (force ? rename(partial, target) : placeNew(partial, target));
        }
        return report;
      },
    });
  } catch (error) {
    // The reader of the dump went away (`| head`): nothing to say that it would want to hear.
    if (toStdout && isBrokenPipe(error)) return EXIT.BROKEN_PIPE;
    throw error;
  }
  if ('exitCode' in ran) return ran.exitCode;
  const { report } = ran;
  const lines = table([
    ['exported', `${count(report.exported)}${toStdout ? '' : ` to ${target}`}`],
    ['skipped', `${count(report.skipped)}${report.skipped === 0 ? '' : ' (corrupted in the store; see redis verify)'}`],
  ]);
  if (report.skipped > 0) lines.push('skipped ids:', ...idLines(report.skippedIds));
  results.result(
    {
      command: 'redis export',
      prefix: address.prefix,
      file: toStdout ? '-' : target,
      exported: report.exported,
      skipped: report.skipped,
      skippedIds: report.skippedIds.map(idHex),
    },
    lines,
  );
  return report.skipped > 0 ? EXIT.PROBLEMS : EXIT.OK;
}

/**
 * Whether `error` says the reader of stdout went away: EPIPE from the write that found the pipe
 * closed, or the destroyed stream's error for a write after it.
 */
function isBrokenPipe(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** The refusal to replace an existing file without --force. */
function existsError(target: string): UsageError {
  return new UsageError(`redis export: ${target} exists; add --force to replace it`);
}

/**
 * Gives the finished dump its name only if nothing has that name yet: a hard link fails with
 * EEXIST where a rename would replace a file made there while the export ran (the check at the
 * start cannot see those). Then the partial name is dropped. A file system without hard links
 * gets the rename, with only the check at the start.
 */
async function placeNew(partial: string, target: string): Promise<void> {
  try {
    await link(partial, target);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EEXIST') throw existsError(target);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
    await rename(partial, target);
    return;
  }
  await rm(partial, { force: true });
}
