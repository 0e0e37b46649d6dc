/**
 * Option groups shared by the commands, and what the `redis` commands read from them.
 * @internal
 */
import { type OptionSpec, type ParsedArgs, integerOption } from '../args.js';
import { UsageError } from '../exit.js';
import type { Io } from '../output.js';
import { type AtRestSecrets, type DumpKey, atRestSecrets, dumpKey } from '../secrets.js';

export const HELP_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  json: { type: 'boolean', help: 'print the result as one JSON document (ids as 16 hex digits, big numbers as strings)' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

export const OUTPUT_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  ...HELP_OPTIONS,
  quiet: { type: 'boolean', short: 'q', help: 'no progress and no warnings on stderr' },
};

export const REDIS_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  url: {
    type: 'string',
    multiple: true,
    value: '<url>',
    help: 'redis://[user:password@]host:port[/db] or rediss://… (default: REDIS_URL, else redis://127.0.0.1:6379); with --cluster, a seed node, and may be repeated',
  },
  cluster: { type: 'boolean', help: 'the server is a Redis Cluster: every master is scanned' },
  prefix: { type: 'string', value: '<prefix>', allowEmpty: true, help: 'the key prefix of the store (default authkey:; --prefix= for none)' },
  'timeout-ms': { type: 'string', value: '<ms>', help: 'how long to wait for Redis per command and to connect (default 10000)' },
};

/** Options of the commands that walk the store themselves (stats, verify, reseal). */
export const WALK_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  batch: { type: 'string', value: '<n>', help: 'keys per SCAN step and per batch of reads (default 1000, at most 100000)' },
};

export const AT_REST_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  'secrets-file': { type: 'string', value: '<path>', help: 'the at-rest secrets (instead of MTPROTO_AUTHKEY_SECRETS); see Environment below' },
  current: { type: 'string', value: '<version>', help: 'the secret version that seals (instead of MTPROTO_AUTHKEY_CURRENT)' },
};

export const DUMP_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  'passphrase-file': { type: 'string', value: '<path>', help: "the dump's passphrase (instead of MTPROTO_AUTHKEY_PASSPHRASE), one trailing newline ignored" },
  'dump-secret-file': { type: 'string', value: '<path>', help: "the dump's 32-byte secret instead of a passphrase: 32 raw bytes or 64 hex digits" },
};

const DEFAULT_URL = 'redis://127.0.0.1:6379';
const DEFAULT_TIMEOUT_MS = 10_000;

/** Where the store is, as the `redis` commands take it. */
export interface StoreAddress {
  urls: string[];
  cluster: boolean;
  prefix: string;
  timeoutMs: number;
  /** `--batch`, if given. */
  batch: number | undefined;
}

/** The store address from `--url` (or REDIS_URL), `--cluster`, `--prefix` and `--timeout-ms`. */
export function storeAddress(args: ParsedArgs, io: Io): StoreAddress {
  const given = args.values.url as string[] | undefined;
  const urls = given ?? [io.env.REDIS_URL !== undefined && io.env.REDIS_URL !== '' ? io.env.REDIS_URL : DEFAULT_URL];
  const cluster = args.values.cluster === true;
  if (!cluster && urls.length > 1) throw new UsageError('--url given more than once: several URLs are seed nodes of a Redis Cluster (add --cluster)');
  for (const url of urls) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError('--url: expected redis://host:port or rediss://host:port');
    }
    // Decoded here once (the connection decodes them again) so that a stray % is a usage error
    // rather than a URIError further down.
    decodeUrlPart(parsed.username, 'user name');
    if (parsed.password !== '') {
      io.redactor.add(parsed.password);
      io.redactor.add(decodeUrlPart(parsed.password, 'password'));
    }
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
      throw new UsageError(`--url: expected a redis:// or rediss:// URL, got ${parsed.protocol}//…`);
  }
  const timeoutMs = integerOption(args.values['timeout-ms'] as string | undefined, 'timeout-ms', 1, 2 ** 31 - 1) ?? DEFAULT_TIMEOUT_MS;
  const prefix = (args.values.prefix as string | undefined) ?? 'authkey:';
  const batch = integerOption(args.values.batch as string | undefined, 'batch', 1, 100_000);
  return { urls, cluster, prefix, timeoutMs, batch };
}

/** `text` of a URL percent-decoded, or a UsageError naming `part` (never quoting it). */
function decodeUrlPart(text: string, part: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new UsageError(`--url: the ${part} is not valid percent-encoding (write % as %25)`);
  }
}

/** The at-rest secrets of the command line and environment (undefined if none are given). */
export function secretsOf(args: ParsedArgs, io: Io, warn: (line: string) => void): Promise<AtRestSecrets | undefined> {
  return atRestSecrets({
    env: io.env,
    secretsFile: args.values['secrets-file'] as string | undefined,
    current: args.values.current as string | undefined,
    redactor: io.redactor,
    warn,
  });
}

/** The dump's passphrase or secret of the command line and environment. */
export function dumpKeyOf(args: ParsedArgs, io: Io, warn: (line: string) => void): Promise<DumpKey> {
  return dumpKey({
    env: io.env,
    passphraseFile: args.values['passphrase-file'] as string | undefined,
    dumpSecretFile: args.values['dump-secret-file'] as string | undefined,
    redactor: io.redactor,
    warn,
  });
}
