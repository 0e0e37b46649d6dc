/**
 * What a `redis` command does when interrupted (SIGINT aborts the operation after the command
 * in flight): say how far it got, and exit 130. Each step of an operation is atomic, so what was
 * done stays done and running the command again goes on from there.
 * @internal
 */
import { EXIT } from '../exit.js';
import { type Output, count } from '../output.js';
import type { Progress } from '../progress.js';

/** Whether `error` ended the operation because the command was interrupted. */
export function isInterrupt(_error: unknown, out: Output): boolean {
  return out.io.signal.aborted;
}

/** Reports an interrupted `command` (`progress` knows how far it got); returns exit code 130. */
export function interrupted(out: Output, command: string, progress: Progress, note = 'what was done stays done; run it again to go on'): number {
  progress.end('stopped');
  out.result({ command, interrupted: true, done: progress.done, note }, [`${command}: interrupted after ${count(progress.done)}; ${note}`]);
  return EXIT.INTERRUPTED;
}
