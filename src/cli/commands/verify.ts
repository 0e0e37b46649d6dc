/**
 * `redis verify`: reads and checks every value of the store (RedisAuthKeyManager#verify) and
 * names the corrupted ones; changes nothing.
 * @internal
 */
import type { CommandSpec, ParsedArgs } from '../args.js';
import { EXIT } from '../exit.js';
import { type Output, count, idHex, idLines, table } from '../output.js';
import { AT_REST_OPTIONS, OUTPUT_OPTIONS, REDIS_OPTIONS, WALK_OPTIONS, secretsOf, storeAddress } from './common.js';
import { onStore } from './operation.js';

export const spec: CommandSpec = {
  name: 'redis verify',
  summary: 'read every value and check it; list the corrupted ones (changes nothing)',
  synopsis: '',
  positionals: { min: 0, max: 0 },
  options: { ...REDIS_OPTIONS, ...WALK_OPTIONS, ...AT_REST_OPTIONS, ...OUTPUT_OPTIONS },
  description: [
    'Reads every value under the prefix and checks it as getKey does: 256 key bytes (or a sealed',
    'value that opens with the at-rest secrets for its id) that hash to the id in its name. Counts',
    'the good ones (raw, sealed by secret version, expiring) and lists the ids of the corrupted ones.',
    'A sealed store needs its secrets (MTPROTO_AUTHKEY_SECRETS or --secrets-file): without them every',
    'sealed value counts as corrupted.',
    '',
    'Exit code 0 if every value is intact, 1 if any is corrupted.',
  ].join('\n'),
};

/** Runs `redis verify`; returns the exit code. */
export async function run(args: ParsedArgs, out: Output): Promise<number> {
  const address = storeAddress(args, out.io);
  const encryption = await secretsOf(args, out.io, (line) => out.warn(line));
  const ran = await onStore(out, {
    command: 'redis verify',
    label: 'verify',
    unit: 'keys',
    address,
    encryption,
    interruptNote: 'it changed nothing',
    run: (store, context) => store.manager.verify({ batch: address.batch, ...context }),
  });
  if ('exitCode' in ran) return ran.exitCode;
  const { report } = ran;
  const sealed = Object.entries(report.sealed).map(([version, n]) => `version ${version}: ${count(n)}`);
  const lines = table([
    ['scanned', count(report.scanned)],
    ['ok', `${count(report.ok)} (raw ${count(report.raw)}${sealed.length === 0 ? '' : `; sealed ${sealed.join(', ')}`}; expiring ${count(report.expiring)})`],
    ['corrupted', count(report.corrupted)],
  ]);
  if (report.corrupted > 0) lines.push('corrupted ids:', ...idLines(report.corruptedIds));
  if (report.corrupted > 0 && encryption === undefined)
    lines.push(
      'note: no at-rest secrets were given, so sealed values count as corrupted; give MTPROTO_AUTHKEY_SECRETS or --secrets-file if the store is sealed',
    );
  out.result(
    {
      command: 'redis verify',
      prefix: address.prefix,
      scanned: report.scanned,
      ok: report.ok,
      corrupted: report.corrupted,
      corruptedIds: report.corruptedIds.map(idHex),
      raw: report.raw,
      sealed: report.sealed,
      expiring: report.expiring,
    },
    lines,
  );
  return report.corrupted > 0 ? EXIT.PROBLEMS : EXIT.OK;
}
