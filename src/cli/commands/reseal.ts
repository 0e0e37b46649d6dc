/**
 * `redis reseal`: rewrites every value not sealed under the current at-rest secret (sealed under
 * an older version, or stored raw) under the current one (RedisAuthKeyManager#reseal), each
 * rewrite conditional on the value being unchanged since it was read.
 * @internal
 */
import type { CommandSpec, ParsedArgs } from '../args.js';
import { EXIT, UsageError } from '../exit.js';
import { type Output, count, idHex, idLines, table } from '../output.js';
import { AT_REST_OPTIONS, OUTPUT_OPTIONS, REDIS_OPTIONS, WALK_OPTIONS, secretsOf, storeAddress } from './common.js';
import { onStore } from './operation.js';

export const spec: CommandSpec = {
  name: 'redis reseal',
  summary: 'rewrite values sealed with an older secret version (or raw) under the current one',
  synopsis: '',
  positionals: { min: 0, max: 0 },
  options: { ...REDIS_OPTIONS, ...WALK_OPTIONS, ...AT_REST_OPTIONS, ...OUTPUT_OPTIONS },
  description: [
    'After adding a new at-rest secret version and making it current, rewrites every value sealed',
    'under another version (or stored raw) under the current one, keeping its expiry. Each rewrite',
    'happens only if the value is still the one read, so a key deleted or replaced meanwhile is never',
    'brought back. Safe to interrupt and run again. Needs every secret version still in use',
    '(MTPROTO_AUTHKEY_SECRETS or --secrets-file) and the current one (MTPROTO_AUTHKEY_CURRENT or',
    '--current). Once a run reports nothing left under an old version, that version can be retired.',
    '',
    'Exit code 0 if every value is now current (or changed meanwhile), 1 if corrupted values were',
    'found (they are left as they are; see redis verify).',
  ].join('\n'),
};

/** Runs `redis reseal`; returns the exit code. */
export async function run(args: ParsedArgs, out: Output): Promise<number> {
  const address = storeAddress(args, out.io);
  const encryption = await secretsOf(args, out.io, (line) => out.warn(line));
  if (encryption === undefined)
    throw new UsageError('redis reseal needs the at-rest secrets: MTPROTO_AUTHKEY_SECRETS or --secrets-file <path>, with the current version');
  const current = encryption.current;
  const ran = await onStore(out, {
    command: 'redis reseal',
    label: 'reseal',
    unit: 'keys',
    address,
    encryption,
    run: (store, context) => store.manager.reseal({ batch: address.batch, ...context }),
  });
  if ('exitCode' in ran) return ran.exitCode;
  const { report } = ran;
  const lines = table([
    ['scanned', count(report.scanned)],
    ['resealed', `${count(report.resealed)} (now under version ${current})`],
    ['already current', count(report.alreadyCurrent)],
    ['changed meanwhile', `${count(report.changed)} (deleted or replaced while read: left as they are)`],
    ['corrupted', `${count(report.corrupted)}${report.corrupted === 0 ? '' : ' (left as they are)'}`],
  ]);
  if (report.corrupted > 0) lines.push('corrupted ids:', ...idLines(report.corruptedIds));
  out.result(
    {
      command: 'redis reseal',
      prefix: address.prefix,
      current,
      scanned: report.scanned,
      resealed: report.resealed,
      alreadyCurrent: report.alreadyCurrent,
      changed: report.changed,
      corrupted: report.corrupted,
      corruptedIds: report.corruptedIds.map(idHex),
    },
    lines,
  );
  return report.corrupted > 0 ? EXIT.PROBLEMS : EXIT.OK;
}
