/**
 * What a `redis` command does when interrupted (SIGINT aborts the operation after the command
 * in flight): say how far it got, and exit 130. Each step of an operation is atomic, so what was
 * done stays done and running the command again goes on from there.
 * @internal
 */
import { EXIT } from '../exit.js';
import { type Output, count } from '../output.js';
import type { ExactCount, Progress } from '../progress.js';

/** Whether `error` ended the operation because the command was interrupted. */
export function isInterrupt(_error: unknown, out: Output): boolean {
  return out.io.signal.aborted;
}

/**
 * Reports an interrupted `command` and returns exit code 130. How far it got is `exact` when the
 * command counted it itself, else what `progress` was last told (`done` in the JSON either way).
 */
export function interrupted(
  out: Output,
  command: string,
  progress: Progress,
  note = 'what was done stays done; run it again to go on',
  exact?: ExactCount,
): number {
  progress.end('stopped', exact);
  const done = exact?.done ?? progress.done;
  out.result({ command, interrupted: true, done, note }, [`${command}: interrupted after ${count(done)}${exact ? ` ${exact.unit}` : ''}; ${note}`]);
  return EXIT.INTERRUPTED;
}
