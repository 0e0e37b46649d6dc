/**
 * The help texts: the program's (commands, environment, exit codes) and each command's (synopsis,
 * description, options).
 * @internal
 */
import type { CommandSpec } from './args.js';

export const PROGRAM = 'mtproto-authkey';

export const ENVIRONMENT = [
  'Environment:',
  '  REDIS_URL                    the store when --url is not given (default redis://127.0.0.1:6379)',
  '  MTPROTO_AUTHKEY_SECRETS      at-rest secrets of a sealed store: <version>:<64 hex digits>, comma-',
  '                               separated, e.g. 1:<hex>,2:<hex> (or --secrets-file <path>: the same',
  '                               text, one per line, # comments; or JSON {"secrets":{"1":"<hex>"},"current":1})',
  '  MTPROTO_AUTHKEY_CURRENT      the version that seals (or --current); may be left out with one secret',
  '  MTPROTO_AUTHKEY_PASSPHRASE   the passphrase of a dump, at least 8 characters (or --passphrase-file',
  '                               <path>, or a 32-byte secret with --dump-secret-file <path>)',
  'Secrets and passphrases are never taken from the command line: other users can see it (ps).',
].join('\n');

export const EXIT_CODES = [
  'Exit codes:',
  '  0    done; nothing wrong found',
  '  1    done, and problems found: corrupted values (verify, reseal, export), collisions or damaged',
  '       records (import)',
  '  2    usage: unknown command or option, bad argument, missing secret or passphrase',
  '  3    Redis cannot be reached or did not answer in time (or ioredis is not installed)',
  '  4    wrong passphrase or dump secret; not a (complete) dump, one over --max-scrypt (import), or one',
  '       that could not be read to its end',
  '  70   internal error',
  '  130  interrupted (Ctrl-C): the operation stopped after the command in flight; what was done stays',
  '  141  export -: the reader of stdout went away (| head, say); the dump it got is incomplete',
].join('\n');

/** The program's help. */
export function programHelp(commands: readonly CommandSpec[]): string {
  const width = Math.max(...commands.map((c) => `${c.name} ${c.synopsis}`.trim().length));
  return [
    `${PROGRAM}: look after MTProto auth keys and their Redis store, without ever printing a key.`,
    '',
    `Usage: ${PROGRAM} <command> [options]`,
    '',
    'Commands:',
    ...commands.map((c) => `  ${`${c.name} ${c.synopsis}`.trim().padEnd(width)}  ${c.summary}`),
    '',
    `Run \`${PROGRAM} <command> --help\` for the options of a command.`,
    '',
    'Options:',
    '  -h, --help     show this help',
    '  -V, --version  show the version',
    '',
    ENVIRONMENT,
    '',
    EXIT_CODES,
    '',
  ].join('\n');
}

/** The help of one command. */
export function commandHelp(spec: CommandSpec): string {
  const options = Object.entries(spec.options).map(
    ([name, o]) => [`${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}`, o.help] as const,
  );
  const width = Math.max(...options.map(([left]) => left.length));
  const usesRedis = spec.name.startsWith('redis ');
  return [
    `Usage: ${PROGRAM} ${spec.name}${spec.synopsis ? ` ${spec.synopsis}` : ''} [options]`,
    '',
    spec.summary.charAt(0).toUpperCase() + spec.summary.slice(1) + '.',
    '',
    spec.description,
    '',
    'Options:',
    ...options.map(([left, help]) => `  ${left.padEnd(width)}  ${help}`),
    ...(usesRedis ? ['', ENVIRONMENT] : []),
    '',
    EXIT_CODES,
    '',
  ].join('\n');
}
