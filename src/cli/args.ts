/**
 * Command-line parsing over `node:util` `parseArgs`: each command declares its options, and
 * anything else is a usage error whose message names the option but never repeats a value (a
 * value on the command line might be a secret typed in the wrong place).
 * @internal
 */
import { parseArgs } from 'node:util';
import { UsageError } from './exit.js';

/** One option of a command. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** May be given several times (the values are collected in order). */
  multiple?: boolean;
  /** The placeholder of its value in the help, e.g. `<url>`. */
  value?: string;
  /** One line for the help. */
  help: string;
  /** An empty value is allowed (`--prefix=`). */
  allowEmpty?: boolean;
}

/** A command: its name as typed, what it does, what it takes. */
export interface CommandSpec {
  /** As typed after the program name, e.g. `redis verify`. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The positional part of the synopsis, e.g. `<file | ->`; '' for none. */
  synopsis: string;
  /** How many positional arguments it takes. */
  positionals: { min: number; max: number };
  options: Readonly<Record<string, OptionSpec>>;
  /** Paragraphs for the help, after the synopsis. */
  description: string;
}

/** What a command line held: option values by name, and the positional arguments. */
export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * Option names that would carry a secret on the command line, where other users of the machine
 * see it (`ps`, /proc) and shells keep it in their history: refused, whatever the command, with
 * where to put the value instead.
 */
const SECRET_OPTIONS: Readonly<Record<string, string>> = {
  passphrase: 'MTPROTO_AUTHKEY_PASSPHRASE or --passphrase-file <path>',
  password: 'the URL (redis://user:password@host) in REDIS_URL, or a passphrase in MTPROTO_AUTHKEY_PASSPHRASE / --passphrase-file',
  secret: 'MTPROTO_AUTHKEY_SECRETS or --secrets-file <path> (at-rest secrets), --dump-secret-file <path> (a dump secret)',
  secrets: 'MTPROTO_AUTHKEY_SECRETS or --secrets-file <path>',
  'dump-secret': '--dump-secret-file <path>',
  key: 'stdin: `mtproto-authkey inspect -`',
};

/**
 * The options and positionals of `argv` (the arguments after the command's name) for `spec`.
 * @throws UsageError for an unknown option, a secret passed as an option, a missing or
 *   superfluous value, or too few or too many positional arguments
 */
export function parseCommand(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    options[name] = { type: o.type };
    if (o.short !== undefined) options[name].short = o.short;
    if (o.multiple === true) options[name].multiple = true;
  }
  // Not strict: parseArgs's own messages would quote arguments; ours come from the tokens below.
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const values: ParsedArgs['values'] = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    const name = token.name;
    const dashed = token.rawName.startsWith('--') ? `--${name}` : token.rawName;
    const where = SECRET_OPTIONS[name.toLowerCase()];
    if (where !== undefined) {
      throw new UsageError(
        `${dashed} is refused: secrets are never taken from the command line, where other users can see them (ps) and shells keep them; use ${where}`,
      );
    }
    const o = spec.options[name];
    if (o === undefined) {
      throw new UsageError(`unknown option ${dashed} for '${spec.name}'`);
    }
    if (o.type === 'boolean') {
      if (token.inlineValue) throw new UsageError(`option --${name} takes no value`);
      values[name] = true;
      continue;
    }
    const value = token.value;
    // Non-strict parseArgs takes the next argument as the value even when it is another option.
    const emptyAllowed = o.allowEmpty === true && token.inlineValue === true && value === '';
    if (!emptyAllowed && (value === undefined || value === '' || (!token.inlineValue && value.startsWith('-')))) {
      throw new UsageError(`option --${name} needs a value${o.value ? ` ${o.value}` : ''}`);
    }
    if (value === undefined) continue;
    if (o.multiple) values[name] = [...((values[name] as string[] | undefined) ?? []), value];
    else if (values[name] !== undefined) throw new UsageError(`option --${name} given more than once`);
    else values[name] = value;
  }
  if (values.help === true) return { values, positionals };
  const { min, max } = spec.positionals;
  if (positionals.length < min)
    throw new UsageError(
      `'${spec.name}' expects ${spec.synopsis || 'no argument'}; got ${positionals.length === 0 ? 'none' : `${positionals.length} argument(s)`}`,
    );
  if (positionals.length > max)
    throw new UsageError(`'${spec.name}' expects ${max === 0 ? 'no argument' : spec.synopsis}; got ${positionals.length} arguments`);
  return { values, positionals };
}

/** A whole number in [min, max] from the value of option `--name`, or a UsageError. */
export function integerOption(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`option --${name}: expected a whole number in [${min}, ${max}], got ${JSON.stringify(value.slice(0, 20))}`);
  }
  return Number(value);
}
