/**
 * The command's exit codes, the errors that carry one, and the one line printed for a failure.
 * Every message that leaves the process passes through {@link Redactor}, which blanks what the
 * command was given in secret (passwords in URLs, passphrases, secrets) should a lower layer
 * ever repeat it.
 * @internal
 */

/** Exit codes, as documented in `--help` and docs/cli.md. */
export const EXIT = {
  /** Done, and nothing wrong was found. */
  OK: 0,
  /** Done, and the store or the dump has problems: corrupted values, collisions, skipped records. */
  PROBLEMS: 1,
  /** The command line is wrong: unknown command or option, a missing or bad argument, secrets missing. */
  USAGE: 2,
  /** Redis cannot be reached or did not answer in time (or ioredis is not installed). */
  UNAVAILABLE: 3,
  /** A wrong passphrase or dump secret, a file that is not a (complete) dump, or a dump that could not be read to its end. */
  DUMP: 4,
  /** Anything unexpected: a bug, or a failure of the machine (disk full). */
  INTERNAL: 70,
  /** Interrupted (SIGINT); what was done stays done. */
  INTERRUPTED: 130,
  /**
   * The reader of stdout went away (`redis export - | head`): 128 + SIGPIPE, what a shell reports
   * for a program that SIGPIPE ended, so `set -o pipefail` sees that the dump is incomplete.
   */
  BROKEN_PIPE: 141,
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
 * The shortest secret the {@link Redactor} blanks, and the shortest dump passphrase the command
 * takes. A shorter string is too likely to be a word of an ordinary message ("open", "dump"), and
 * blanking it there would garble the message; a passphrase that short is weak anyway.
 */
export const MIN_SECRET_CHARACTERS = 8;

/** A letter, digit or underscore: what a token of text is made of. */
const TOKEN_CHAR = /[\p{L}\p{N}_]/u;

/**
 * Blanks secret strings in text about to be printed. Holds the strings themselves (they are in
 * this process anyway) and replaces each occurrence that is a whole token (not part of a longer
 * word or number) with `***`.
 */
export class Redactor {
  readonly #secrets = new Set<string>();

  /** Adds `value`; ignored when shorter than {@link MIN_SECRET_CHARACTERS} (see there why). */
  add(value: string): void {
    if ([...value].length >= MIN_SECRET_CHARACTERS) this.#secrets.add(value);
  }

  /** `text` with every added secret, and the `user:password@` of any URL, replaced. */
  clean(text: string): string {
    let out = redactUrlCredentials(text);
    for (const secret of this.#secrets) out = blankTokens(out, secret);
    return out;
  }
}

/** `text` with each occurrence of `secret` that no letter, digit or underscore touches replaced by `***`. */
function blankTokens(text: string, secret: string): string {
  let out = '';
  let from = 0;
  for (let at = text.indexOf(secret); at >= 0; at = text.indexOf(secret, at + 1)) {
    if (at < from) continue;
    const end = at + secret.length;
    // Two code units each side: a letter outside the Basic Multilingual Plane is a surrogate pair.
    const joinedBefore = TOKEN_CHAR.test([...text.slice(Math.max(0, at - 2), at)].pop() ?? '');
    const joinedAfter = TOKEN_CHAR.test([...text.slice(end, end + 2)][0] ?? '');
    if (joinedBefore || joinedAfter) continue;
    out += `${text.slice(from, at)}***`;
    from = end;
  }
  return out + text.slice(from);
}

/** `text` with the credentials of every `scheme://user:password@` in it replaced by `***@`. */
export function redactUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@');
}

/** How a failure ends the command: its exit code, the one line printed, and what `--json` adds. */
export interface Failure {
  exitCode: number;
  message: string;
  /** The name `--json` reports. */
  name: string;
  details?: Record<string, unknown>;
}

// ioredis's errors for a connection that broke or a command that could not be sent.
const STORE_ERROR_NAMES = new Set(['ReplyError', 'MaxRetriesPerRequestError', 'ClusterAllFailedError']);
const STORE_ERROR_MESSAGE =
  /Connection is closed|Stream isn't writeable|Cluster isn't ready|Cluster is disconnected|Node is disconnected|None of startup nodes|Failed to refresh slots cache|Too many Cluster redirections|Reached the max retries per request|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH/;

/**
 * ioredis's own sentences, which name its options rather than what happened, and what the
 * command says instead. They reach us inside the manager's errors (`auth key store unavailable:
 * setKey: Connection is closed.`) and the command's own (`cannot connect to …: …`).
 */
const STORE_WORDS: ReadonlyArray<readonly [RegExp, string]> = [
  [/Stream isn't writeable and enableOfflineQueue options is false/g, 'the connection to Redis is down (no command is sent until it is back)'],
  [/Cluster isn't ready and enableOfflineQueue options is false/g, 'the connection to the Redis Cluster is not ready'],
  [/Reached the max retries per request limit \(which is \d+\)\. Refer to "maxRetriesPerRequest" option for details\./g, 'the connection to Redis was lost'],
  [/Connection is closed\./g, 'the connection to Redis is closed'],
  [/Cluster is disconnected\./g, 'the connection to the Redis Cluster is closed'],
  [/None of startup nodes is available/g, 'none of the Redis Cluster nodes given can be reached'],
  [/Failed to refresh slots cache\./g, "cannot read the Redis Cluster's slot map"],
  [/Node is disconnected/g, 'the connection to a Redis Cluster node is closed'],
  [/Too many Cluster redirections\. Last error: /g, 'the Redis Cluster kept redirecting the command; last: '],
];

/** `text` with ioredis's own sentences in the command's words (see STORE_WORDS). */
export function plainStoreWords(text: string): string {
  let out = text;
  for (const [raw, plain] of STORE_WORDS) out = out.replace(raw, plain);
  return out;
}

/**
 * The exit code and the one line printed for `error`, which ended a command whose interrupt
 * signal is `signal`.
 */
export function describeFailure(error: unknown, signal: AbortSignal): Failure {
  const failure = classify(error instanceof Error ? error : new Error(String(error)), signal);
  return { ...failure, message: plainStoreWords(failure.message) };
}

function classify(e: Error, signal: AbortSignal): Failure {
  if (e instanceof CliError) return { exitCode: e.exitCode, message: e.message, name: e.name, details: e.details };
  if (signal.aborted) return { exitCode: EXIT.INTERRUPTED, message: 'interrupted', name: 'Interrupted' };
  switch (e.name) {
    case 'AuthKeyStoreUnavailable':
      return { exitCode: EXIT.UNAVAILABLE, message: e.message, name: e.name };
    case 'DumpDecryptionFailed':
      return { exitCode: EXIT.DUMP, message: e.message, name: e.name };
    case 'DumpFormatError': {
      // What was found, one word (not-a-dump, truncated, …), for a program reading `--json`.
      const kind = (e as { kind?: unknown }).kind;
      return { exitCode: EXIT.DUMP, message: e.message, name: e.name, details: typeof kind === 'string' ? { kind } : undefined };
    }
    case 'DumpStreamFailed':
      // The dump could not be read to its end (a read error of its file, say): the dump's failure,
      // not a bug, whatever the system error under it.
      return { exitCode: EXIT.DUMP, message: e.message, name: e.name };
    case 'StoreOperationUnsupported':
      return { exitCode: EXIT.USAGE, message: e.message, name: e.name };
    case 'AuthKeyCollision':
    case 'AuthKeyCorrupted':
      return { exitCode: EXIT.PROBLEMS, message: e.message, name: e.name };
  }
  if (STORE_ERROR_NAMES.has(e.name) || STORE_ERROR_MESSAGE.test(e.message)) {
    // Worded below; those words name Redis already.
    const plain = plainStoreWords(e.message);
    return { exitCode: EXIT.UNAVAILABLE, message: /\bRedis\b/.test(plain) ? plain : `Redis failed: ${plain}`, name: e.name };
  }
  // The machine's own failures (a full disk, say): not a bug of ours.
  if (typeof (e as { syscall?: unknown }).syscall === 'string') return { exitCode: EXIT.INTERNAL, message: e.message, name: e.name };
  return { exitCode: EXIT.INTERNAL, message: `internal error: ${e.name}: ${e.message}`, name: e.name };
}
