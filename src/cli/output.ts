/**
 * What a command prints: its result on stdout (one JSON document with `--json`, lines for people
 * otherwise), warnings and progress on stderr. Every line passes the redactor on the way out.
 * @internal
 */
import type { Redactor } from './exit.js';
import { type Progress, count, progress, silentProgress } from './progress.js';

// The one number format of the command's output, shared with the progress lines.
export { count };

/** A stream the command writes to (process.stdout / stderr, or a test's sink). */
export interface TextSink {
  write(text: string | Uint8Array): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** The process's side of the command: streams, environment, the secret filter, the interrupt. */
export interface Io {
  stdout: TextSink;
  stderr: TextSink;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  redactor: Redactor;
  /** Aborted on SIGINT. */
  signal: AbortSignal;
}

/** A running command's output settings. */
export class Output {
  constructor(
    readonly io: Io,
    /** `--json`: one JSON document as the result. */
    readonly json: boolean,
    /** `--quiet`: no progress, no warnings. */
    readonly quiet: boolean,
    /** Where the result goes: stderr when stdout carries data (a dump written to `-`). */
    readonly resultTo: 'stdout' | 'stderr' = 'stdout',
  ) {}

  /** Prints the result: `data` as JSON with `--json`, else `lines`. */
  result(data: Record<string, unknown>, lines: readonly string[]): void {
    const sink = this.resultTo === 'stdout' ? this.io.stdout : this.io.stderr;
    const text = this.json ? `${JSON.stringify(data, jsonValue)}\n` : lines.map((l) => `${l}\n`).join('');
    sink.write(this.io.redactor.clean(text));
  }

  /** One line on stderr (unless `--quiet`). */
  warn(line: string): void {
    if (!this.quiet) this.io.stderr.write(`${this.io.redactor.clean(line)}\n`);
  }

  /** Progress of an operation on stderr (nothing with `--quiet`). */
  progress(label: string, unit: string): Progress {
    if (this.quiet) return silentProgress();
    const stderr = this.io.stderr;
    return progress({ write: (text) => stderr.write(text), isTTY: stderr.isTTY === true, columns: stderr.columns }, label, unit);
  }
}

/** JSON.stringify replacer: bigints (ids) as decimal strings, since JSON numbers lose them. */
function jsonValue(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/**
 * An auth key id as the command prints it: the 16 lowercase hex digits of its unsigned 64-bit
 * value, as in the store's key names and `AuthKey#toString`.
 */
export function idHex(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16).padStart(16, '0');
}

/** Up to `limit` ids, one per indented line, then how many more (for human output). */
export function idLines(ids: readonly bigint[], limit = 20): string[] {
  const lines = ids.slice(0, limit).map((id) => `    ${idHex(id)}`);
  if (ids.length > limit) lines.push(`    … and ${ids.length - limit} more (--json lists every one)`);
  return lines;
}

/** Aligned `label  value` lines. */
export function table(rows: ReadonlyArray<readonly [string, string]>): string[] {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`);
}
