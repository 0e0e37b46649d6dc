/**
 * Progress of a long store operation, on stderr (stdout carries the result). On a terminal: one
 * line redrawn in place, with a bar when the total is known, done/total, rate and ETA. Elsewhere
 * (a log file, CI): a plain line at most once a second, and at each tenth of the total.
 * @internal
 */

/** Where progress goes and how it is shown. */
export interface ProgressSink {
  write(text: string): unknown;
  /** Whether it is a terminal: redraw one line instead of printing lines. */
  isTTY: boolean;
  /** Columns of the terminal, if known. */
  columns?: number;
}

/** A count an operation kept itself, and what it counts (`keys imported`). */
export interface ExactCount {
  done: number;
  unit: string;
}

/** Reports the progress of one operation. */
export interface Progress {
  /** `done` items so far; `total` an estimate when known. */
  update(done: number, total?: number): void;
  /**
   * The operation ended (finished, failed or interrupted): a last line with what was done;
   * `exact` when the operation counted it more exactly than its last update, in its own unit.
   */
  end(outcome: 'done' | 'stopped', exact?: ExactCount): void;
  /** Items done so far, as last reported. */
  readonly done: number;
}

const REDRAW_MS = 100;
const LINE_MS = 1000;
const BAR_WIDTH = 24;

/** Progress that prints nothing (`--quiet`). */
export function silentProgress(): Progress {
  let done = 0;
  return {
    update: (n) => void (done = n),
    end: (_outcome, exact) => void (exact === undefined || (done = exact.done)),
    get done() {
      return done;
    },
  };
}

/**
 * Progress of `label` (e.g. `verify`, counting `unit`s such as `keys`) printed to `sink`.
 * `now` is the clock in milliseconds (a parameter for tests of the rendering).
 */
export function progress(sink: ProgressSink, label: string, unit: string, now: () => number = () => performance.now()): Progress {
  const start = now();
  let done = 0;
  let total: number | undefined;
  let lastDraw = -Infinity;
  let lastTenth = 0;
  let drawn = false;

  const rate = (t: number) => (t > start ? (done * 1000) / (t - start) : 0);

  const describe = (t: number): string => {
    const r = rate(t);
    const parts: string[] = [];
    if (total !== undefined && total > 0 && done <= total) {
      const eta = r > 0 ? (total - done) / r : undefined;
      parts.push(`${count(done)}/${count(total)} ${unit}`, `${count(r)}/s`);
      if (eta !== undefined) parts.push(`ETA ${duration(eta * 1000)}`);
    } else {
      parts.push(`${count(done)} ${unit}`, `${count(r)}/s`);
    }
    return parts.join('  ');
  };

  const fraction = () => (total !== undefined && total > 0 && done <= total ? done / total : undefined);

  const draw = (t: number) => {
    if (sink.isTTY) {
      const f = fraction();
      const bar = f === undefined ? '' : `[${'#'.repeat(Math.round(f * BAR_WIDTH)).padEnd(BAR_WIDTH, '-')}] ${String(Math.floor(f * 100)).padStart(3)}%  `;
      let line = `${label} ${bar}${describe(t)}`;
      if (sink.columns !== undefined && sink.columns > 20 && line.length >= sink.columns) line = line.slice(0, sink.columns - 1);
      // Carriage return and erase-to-end-of-line: the line is rewritten in place.
      sink.write(`\r${line}\x1b[K`);
      drawn = true;
    } else {
      const f = fraction();
      sink.write(`${label}: ${describe(t)}${f === undefined ? '' : ` (${Math.floor(f * 100)}%)`}\n`);
    }
    lastDraw = t;
  };

  return {
    update(n, estimate) {
      done = n;
      if (estimate !== undefined && Number.isFinite(estimate)) total = estimate;
      const t = now();
      if (sink.isTTY) {
        if (t - lastDraw >= REDRAW_MS) draw(t);
        return;
      }
      const f = fraction();
      const tenth = f === undefined ? 0 : Math.floor(f * 10);
      // The whole total is the end line's to report.
      if (f !== undefined && f >= 1) return;
      if (t - lastDraw >= LINE_MS || tenth > lastTenth) {
        lastTenth = Math.max(lastTenth, tenth);
        draw(t);
      }
    },
    end(outcome, exact) {
      // Stopped before anything was done or shown (a wrong passphrase, say): the error says it all.
      if (outcome === 'stopped' && done === 0 && lastDraw === -Infinity && exact === undefined) return;
      if (exact !== undefined) done = exact.done;
      const t = now();
      const summary = `${label}: ${outcome === 'done' ? 'done' : 'stopped after'} ${count(done)} ${exact?.unit ?? unit} in ${duration(t - start)} (${count(rate(t))}/s)`;
      sink.write(sink.isTTY ? `${drawn ? '\r\x1b[K' : ''}${summary}\n` : `${summary}\n`);
    },
    get done() {
      return done;
    },
  };
}

/** `n` rounded, with thousands separators: 12345.6 as `12,346`. */
export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Milliseconds as `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 07 min`. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
