/**
 * The command's exit codes, the errors that carry one, and the one line printed for a failure.
 * Every message that leaves the process passes through {@link Redactor}, which blanks what the
 * command was given in secret (passwords in URLs, passphrases, secrets) should a lower layer
 * ever repeat it.
 * @internal
 */

/** Exit codes, as documented in `--help` and the README. */
export const EXIT = {
  /** Done, and nothing wrong was found. */
  OK: 0,
  /** Done, and the store or the dump has problems: corrupted values, collisions, skipped records. */
  PROBLEMS: 1,
  /** The command line is wrong: unknown command or option, a missing or bad argument, secrets missing. */
  USAGE: 2,
  /** Redis cannot be reached or did not answer in time (or ioredis is not installed). */
  UNAVAILABLE: 3,
  /** A wrong passphrase or dump secret, or a file that is not a (complete) dump. */
  DUMP: 4,
  /** Anything unexpected: a bug, or a failure of the machine (disk full). */
  INTERNAL: 70,
  /** Interrupted (SIGINT); what was done stays done. */
  INTERRUPTED: 130,
} as const;

/** An error that ends the command with `exitCode` and prints its message as is. */
export class CliError extends Error {
  override readonly name: string;
  constructor(
    message: string,
    readonly exitCode: number,
    /** What `--json` adds to the error (what was done before the failure, say); no secrets. */
    readonly details?: Record<string, unknown>,
    /** The name `--json` reports: that of the error this one words for the command line. */
    name = 'CliError',
  ) {
    super(message);
    this.name = name;
  }
}

/** A wrong command line: exit 2, with a pointer to `--help`. */
export class UsageError extends CliError {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super(message, EXIT.USAGE);
  }
}

/**
 * Blanks secret strings in text about to be printed. Holds the strings themselves (they are in
 * this process anyway) and replaces each occurrence with `***`.
 */
export class Redactor {
  readonly #secrets = new Set<string>();

  /** Adds `value` (ignored when shorter than 4 characters: blanking those would garble messages). */
  add(value: string): void {
    if (value.length >= 4) this.#secrets.add(value);
  }

  /** `text` with every added secret, and the `user:password@` of any URL, replaced. */
  clean(text: string): string {
    let out = redactUrlCredentials(text);
    for (const secret of this.#secrets) out = out.split(secret).join('***');
    return out;
  }
}

/** `text` with the credentials of every `scheme://user:password@` in it replaced by `***@`. */
export function redactUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@');
}
