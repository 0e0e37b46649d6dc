#!/usr/bin/env node
/**
 * The `mtproto-authkey` command: `inspect` an auth key, and `redis stats|verify|reseal|export|import`
 * on a key store. Results go to stdout (`--json` for machines), progress and messages to stderr;
 * the exit code says how it went (see `--help`). Never prints a key, a secret or a passphrase.
 * @internal
 */
import { readFileSync, realpathSync } from 'node:fs';
import { type CommandSpec, type ParsedArgs, parseCommand } from './args.js';
import { EXIT, Redactor, UsageError, describeFailure, redactUrlCredentials } from './exit.js';
import { commandHelp, PROGRAM, programHelp } from './help.js';
import { type Io, Output } from './output.js';
import * as inspect from './commands/inspect.js';
import * as stats from './commands/stats.js';
import * as verify from './commands/verify.js';
import * as reseal from './commands/reseal.js';
import * as exportCommand from './commands/export.js';
import * as importCommand from './commands/import.js';

interface Command {
  spec: CommandSpec;
  run(args: ParsedArgs, out: Output): Promise<number>;
}

const COMMANDS: readonly Command[] = [inspect, stats, verify, reseal, exportCommand, importCommand];

/** The command named by the start of `argv`, and the arguments after its name. */
function findCommand(argv: readonly string[]): { command: Command; rest: string[] } | undefined {
  for (const command of COMMANDS) {
    const words = command.spec.name.split(' ');
    if (words.every((w, i) => argv[i] === w)) return { command, rest: argv.slice(words.length) };
  }
  return undefined;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * Runs the command line `argv` (without the program name) with `io`; resolves with the exit code.
 * Never rejects: every failure is printed as one line on stderr (and, with `--json`, as
 * `{ "error": … }` on stdout).
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const json = argv.includes('--json');
  let found: ReturnType<typeof findCommand>;
  // A dump written to stdout owns it: the JSON of a failure then goes to stderr too.
  let stdoutIsData = false;
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || (argv[0] === 'help' && argv.length === 1)) {
      // Asked for: the help is the output. Not asked for (no command): a usage error, on stderr.
      (argv.length === 0 ? io.stderr : io.stdout).write(programHelp(COMMANDS.map((c) => c.spec)));
      return argv.length === 0 ? EXIT.USAGE : EXIT.OK;
    }
    if (argv[0] === '--version' || argv[0] === '-V') {
      io.stdout.write(`${version()}\n`);
      return EXIT.OK;
    }
    const helpOf = argv[0] === 'help';
    found = findCommand(helpOf ? argv.slice(1) : argv);
    if (found === undefined) {
      if (argv[0] === 'redis' || (helpOf && argv[1] === 'redis')) {
        const sub = argv[helpOf ? 2 : 1];
        throw new UsageError(
          sub === undefined || sub.startsWith('-')
            ? "'redis' needs a command: stats, verify, reseal, export or import"
            : "unknown command 'redis …': expected stats, verify, reseal, export or import",
        );
      }
      // The word is not repeated: it might be a key typed in the wrong place.
      throw new UsageError(
        `unknown command: expected ${COMMANDS.map((c) => c.spec.name.split(' ')[0])
          .filter((w, i, all) => all.indexOf(w) === i)
          .join(' or ')}`,
      );
    }
    if (helpOf) {
      io.stdout.write(commandHelp(found.command.spec));
      return EXIT.OK;
    }
    const args = parseCommand(found.command.spec, found.rest);
    stdoutIsData = found.command === exportCommand && args.positionals[0] === '-';
    if (args.values.help === true) {
      io.stdout.write(commandHelp(found.command.spec));
      return EXIT.OK;
    }
    const out = new Output(io, args.values.json === true, args.values.quiet === true);
    return await found.command.run(args, out);
  } catch (error) {
    const failure = describeFailure(error, io.signal);
    const hint = error instanceof UsageError ? ` (see ${PROGRAM}${found ? ` ${found.command.spec.name}` : ''} --help)` : '';
    io.stderr.write(io.redactor.clean(redactUrlCredentials(`${PROGRAM}: ${failure.message}${hint}\n`)));
    if (json)
      (stdoutIsData ? io.stderr : io.stdout).write(
        io.redactor.clean(`${JSON.stringify({ error: { name: failure.name, message: failure.message, exitCode: failure.exitCode, ...failure.details } })}\n`),
      );
    return failure.exitCode;
  }
}

/** Whether this module is the program being run (not imported by a test). */
function isEntry(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    // Through npm's bin symlink, argv[1] is the link.
    return realpathSync(entry) === realpathSync(new URL(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) {
  const controller = new AbortController();
  // A reader of stdout that went away (`| head`) is not worth a stack trace; writes to it fail quietly.
  process.stdout.on('error', () => undefined);
  process.on('SIGINT', () => {
    if (controller.signal.aborted) process.exit(EXIT.INTERRUPTED);
    process.stderr.write(`\n${PROGRAM}: interrupted; stopping after the command in flight (Ctrl-C again to quit at once)\n`);
    controller.abort();
  });
  const io: Io = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    redactor: new Redactor(),
    signal: controller.signal,
  };
  const code = await main(process.argv.slice(2), io);
  process.exitCode = code;
  // The connections are closed by now; should anything still hold the event loop, do not hang.
  setTimeout(() => process.exit(code), 2000).unref();
}
