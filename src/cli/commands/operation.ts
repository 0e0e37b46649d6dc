/**
 * The part every `redis` command that runs one long store operation shares: open the store,
 * show progress, stop cleanly when interrupted, undo what an unfinished run prepared, and close
 * the store whatever happened. A command supplies the operation and reads its report.
 * @internal
 */
import type { Output } from '../output.js';
import type { ExactCount } from '../progress.js';
import type { AtRestSecrets } from '../secrets.js';
import type { StoreAddress } from './common.js';
import { interrupted, isInterrupt } from './interrupt.js';
import { type OpenStore, openStore } from './store.js';

/** What the operation is given: the interrupt signal and where to report progress. */
export interface OperationContext {
  signal: AbortSignal;
  onProgress(done: number, total?: number): void;
}

/** One store operation of a command, and how to report and clean up after it. */
export interface StoreOperation<T> {
  /** The command as typed, for the report of an interrupted run: `redis verify`. */
  command: string;
  /** The progress line's label and what it counts: `verify`, `keys`. */
  label: string;
  unit: string;
  address: StoreAddress;
  /** The at-rest secrets of a sealed store (wiped once the store is open). */
  encryption?: AtRestSecrets;
  /** Ends the report of an interrupted run: what the run leaves behind. */
  interruptNote?: string;
  /** How far an interrupted run got, when the command counted it more exactly than the progress. */
  counted?: (error: unknown) => ExactCount;
  /** Undoes what the command prepared for a result that did not come (a partial file). */
  discard?: () => Promise<void>;
  /** Lets go of what the command opened (a file it reads), whatever happened. */
  release?: () => Promise<void>;
  /** The operation, on the open store. */
  run(store: OpenStore, context: OperationContext): Promise<T>;
}

/** The operation's report, or the exit code of a run that was interrupted (and reported). */
export type Outcome<T> = { report: T } | { exitCode: number };

/**
 * Runs `operation` with its progress on `out`. An interrupt is reported on `out` and ends in
 * `{ exitCode: 130 }`; any other failure rejects as it came, after the cleanup.
 */
export async function onStore<T>(out: Output, operation: StoreOperation<T>): Promise<Outcome<T>> {
  let store: OpenStore;
  try {
    store = await openStore(operation.address, operation.encryption);
  } catch (error) {
    await operation.release?.();
    await operation.discard?.();
    throw error;
  }
  const shown = out.progress(operation.label, operation.unit);
  try {
    const report = await operation.run(store, { signal: out.io.signal, onProgress: (done, total) => shown.update(done, total) });
    shown.end('done');
    return { report };
  } catch (error) {
    await operation.discard?.();
    if (isInterrupt(error, out)) return { exitCode: interrupted(out, operation.command, shown, operation.interruptNote, operation.counted?.(error)) };
    shown.end('stopped');
    throw error;
  } finally {
    await operation.release?.();
    await store.close();
  }
}
