/**
 * What every bench file shares: the report shape written to `bench/results/*.json`, the machine
 * description, the measuring loop on top of tinybench, and the console tables. Each bench file
 * only says what to measure and which ratios are targets.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { engine, simdSupported } from '../src/core/engine.ts';

/** Options every bench file's `run` takes. */
export interface RunOptions {
  /**
   * Every case of the file (`npm run bench -- --full`, and `--save`). Without it a file measures
   * only the comparisons of the main job (the `HEADLINE` targets it owns), against their fastest
   * baselines, and leaves out the peers, the other sizes and the slow extras.
   */
  full?: boolean;
  /** A quick run: tiny time budgets and smaller data sets (10,000 or 100,000 keys, not 1,000,000). */
  quick?: boolean;
  /**
   * A smoke run, to check that a bench file works: the data sets of `quick` and one timed call
   * per case and round, no warm-up. Figures are meaningless.
   */
  smoke?: boolean;
  /** Milliseconds of measuring per task (spread over the rounds); default 1000, 40 when quick. */
  time?: number;
  /** Called with a line whenever a task starts, so a long run shows where it is. */
  progress?: (line: string) => void;
}

/**
 * The main job's comparisons (`npm run bench` without `--full`), in the order the headline
 * tables list them: each concern once, against the fastest baseline measured for it. The README's
 * table is the speed-ups among them; the bench files measure, without `--full`, just what these
 * need.
 */
export const HEADLINE: readonly string[] = [
  'sha1-key-vs-crypto',
  'auth-key-bytes',
  'batch-sha1-auth-keys',
  'manager-lookup-fastest-map',
  'decrypt-1024-vs-mtcute',
  'encrypt-1024',
  'redis-getKey-100',
  'cache-peekKey',
  'cache-flood-commands',
];

/** Rounds a table's cases are measured in: enough for a spread (interquartile range) of per-round ratios. */
export function roundsOf(options: RunOptions): number {
  return options.smoke ? 2 : options.quick ? 4 : 8;
}

/** One measured task, in units of one operation (one key, one MiB, one lookup...). */
export interface Row {
  name: string;
  /**
   * Median time per operation, ns: the median timed call divided by its operations. The median,
   * not the mean, because on a shared machine a call that another process preempted says nothing
   * about the code; ratios and ops/s are made from it.
   */
  nsPerOp: number;
  /** Mean time per operation, ns (preemptions included). */
  meanNsPerOp: number;
  /** Operations per second (from the median). */
  opsPerSec: number;
  /** Relative margin of error of the mean at 95%, percent. */
  rme: number;
  /** Timed task calls behind the figures (each call runs `opsPerCall` operations). */
  samples: number;
  opsPerCall: number;
  /** Median time per operation in each round, ns (the median call of the round ÷ its operations). */
  rounds: number[];
  /**
   * Speed-up over the table's baseline measured in the same run: the median over the rounds of
   * (baseline ns ÷ this row's ns) in that round.
   */
  ratio: number;
  /** Interquartile range of the per-round speed-ups behind `ratio`: [first quartile, third quartile]. */
  ratioIqr: [number, number];
  baseline: boolean;
  /** Decimal gigabytes per second, when the operation has a byte size. */
  gbPerSec?: number;
  note?: string;
}

/** A table of rows measured side by side against one baseline row. */
export interface Table {
  title: string;
  /** Name of the baseline row. */
  baseline: string;
  /** What one operation is ("one 256-byte key", "one lookup"...). */
  op: string;
  rows: Row[];
}

/** A table of other figures (memory per key, say), printed as is. */
export interface ExtraTable {
  title: string;
  columns: string[];
  rows: (string | number)[][];
}

/** What a target's figure counts. */
export type TargetUnit = 'x' | 'B/key' | 'ops/s' | 'ms' | 'count' | 'GET/id' | 'cmd/id';

/**
 * How a target fared. `met` and `missed` only when the whole interquartile range of the
 * per-round figures is on one side of the target (ratios drift between rounds and runs on a
 * shared machine); `noise` when the target lies inside it. A figure without rounds (bytes per
 * key, a count) is its own range.
 */
export type Verdict = 'met' | 'missed' | 'noise';

/** The spread of a figure over the rounds that measured it. */
export interface Spread {
  /** First and third quartiles of the per-round figures. */
  q1: number;
  q3: number;
  /** Rounds behind the figure. */
  rounds: number;
}

/** A performance goal, with what this run measured. */
export interface Target {
  id: string;
  /** What is compared, for the README ("SHA-1 of one 256-byte key"). */
  label: string;
  ours: string;
  versus: string;
  /**
   * The measured figure: a speed-up ratio (the median of the per-round ratios), bytes per key, a
   * rate (operations per second), a latency (ms), a count of events (wrong answers, say), Redis
   * GETs per id or Redis commands per id.
   */
  measured: number;
  /** The interquartile range of the per-round figures, for figures measured in rounds. */
  spread?: Spread;
  target: number;
  unit: TargetUnit;
  /** `min`: measured must be at least `target`; `max`: at most. */
  kind: 'min' | 'max';
  verdict: Verdict;
  /** Results of schema 1 only (before verdicts): whether the figure reached the target. */
  met?: boolean;
  /** Title of the table that measured `ours` and `versus` (speed-up targets of schema 2). */
  table?: string;
  /** Median time per operation of `ours` and `versus`, ns (speed-up targets). */
  oursNs?: number;
  versusNs?: number;
  /** The ratio of the two rows' mean times, which count preempted calls and GC pauses in full. */
  measuredFromMeans?: number;
  /** A figure to show next to `measured` in the chart (the baseline's bytes per key, say). */
  reference?: { name: string; value: number };
}

/** What one bench file returns. */
export interface Report {
  id: string;
  title: string;
  tables: Table[];
  extra: ExtraTable[];
  targets: Target[];
  notes: string[];
  /** Wall time of the whole file, ms. */
  elapsedMs: number;
}

/** The machine and runtime a run happened on. */
export interface Machine {
  cpu: string;
  cores: number;
  /** Whether the CPU advertises the SHA extensions node:crypto (OpenSSL) uses. */
  shaNi: boolean | null;
  platform: string;
  node: string;
  v8: string;
  openssl: string;
  /** Whether the runtime validates our SIMD core, and whether the API engine uses it. */
  wasmSimdSupported: boolean;
  wasmSimdUsed: boolean;
  /** 1-minute load average when the run started: other work on a shared machine skews figures. */
  loadAverage: number;
  /** 1-minute load average when the run ended (whole runs only). */
  loadAverageEnd?: number;
  /**
   * Whether the load average exceeded the core count at the start or the end: the run then
   * shared the CPUs with other work, and its figures (ratios less so) are not representative.
   */
  loadWarning?: boolean;
}

/** Describes this machine. */
export function machine(): Machine {
  const cpus = os.cpus();
  let shaNi: boolean | null = null;
  try {
    shaNi = /\bsha_ni\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    // Not Linux: leave unknown rather than guess.
  }
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    shaNi,
    platform: `${process.platform} ${process.arch}`,
    node: process.version,
    v8: process.versions.v8,
    openssl: process.versions.openssl,
    wasmSimdSupported: simdSupported(),
    wasmSimdUsed: engine.simd,
    loadAverage: loadAverage(),
    loadWarning: overloaded(loadAverage()),
  };
}

/** The 1-minute load average, rounded to hundredths. */
export function loadAverage(): number {
  return Math.round(os.loadavg()[0] * 100) / 100;
}

/** Whether `load` exceeds the cores this process can use. */
export function overloaded(load: number): boolean {
  return load > os.availableParallelism();
}

/** The warning printed (stdout and stderr) when a run shares the CPUs with other work. */
export function loadWarningLine(m: Machine): string {
  const end = m.loadAverageEnd === undefined ? '' : ` at the start, ${m.loadAverageEnd} at the end`;
  return `warning: 1-minute load average ${m.loadAverage}${end} exceeds the ${m.cores} cores: other work shares the CPUs, so times (ratios less so) are not representative`;
}

/** One line describing the machine, for the console and the README. */
export function machineLine(m: Machine): string {
  const sha = m.shaNi === null ? '' : m.shaNi ? ', SHA-NI' : ', no SHA-NI';
  return `${m.cpu} (${m.cores} cores${sha}), ${m.platform}, Node ${m.node}, V8 ${m.v8}, OpenSSL ${m.openssl}, WebAssembly SIMD ${m.wasmSimdUsed ? 'used' : m.wasmSimdSupported ? 'supported, not used' : 'not supported (scalar core)'}, load ${m.loadAverage}`;
}

/** A task to measure: `fn` performs `opsPerCall` operations per call. */
export interface Case {
  name: string;
  fn: () => unknown;
  /** Operations per call; a fixed inner loop keeps the timer's own cost out of sub-µs figures. */
  opsPerCall: number;
  /** Bytes one operation processes, for a GB/s column. */
  bytesPerOp?: number;
  note?: string;
  /**
   * Untimed work before every timed call (allocating garbage, say, so that the timed calls meet
   * the GC pressure of a busy process).
   */
  beforeEach?: () => void;
  /** Fewest timed calls per round (default 16, 4 when quick): lower it for calls of 100 ms or more. */
  iterations?: number;
}

/**
 * A value every task folds its result into and that is printed at the end, so that no engine
 * can prove a result unused and drop the work.
 */
export let sink = 0;
/** Folds `x` (a byte, a length...) into `sink`. */
export function consume(x: number): void {
  sink = (sink + x) | 0;
}

/**
 * Measures `cases` side by side and returns them as a table against `baseline`. The time budget
 * is spread over rounds (`roundsOf`) that each run every case once, in the opposite order every
 * other round (A B B A...), so a burst of other work or a drift of the machine's speed lands on
 * every case rather than on one. Each round gives each case its median time, so each row's
 * speed-up is known per round: its median and quartiles are the ratio and its spread.
 *
 * `baseline` may name several rows (the routes Node offers for the job): the fastest of them in
 * this run is the baseline, so a ratio is never taken against a slower route than one measured.
 */
export async function measure(title: string, op: string, baseline: string | readonly string[], cases: Case[], options: RunOptions): Promise<Table> {
  const smoke = options.smoke === true;
  const quick = options.quick === true || smoke;
  const time = smoke ? 0 : (options.time ?? (quick ? 40 : 1000));
  const rounds = roundsOf(options);
  const perRound = time / rounds;
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  const roundMedians = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? cases : [...cases].reverse();
    for (const c of order) {
      options.progress?.(`${title}: ${c.name} (case ${cases.indexOf(c) + 1}/${cases.length}, round ${round + 1}/${rounds})`);
      const bench = new Bench({
        time: perRound,
        iterations: smoke ? 1 : Math.min(c.iterations ?? 16, quick ? 4 : 16),
        warmup: round === 0 && !smoke,
        warmupTime: quick ? 10 : 150,
        warmupIterations: quick ? 2 : Math.min(c.iterations ?? 8, 8),
        retainSamples: true,
        throws: true,
      });
      bench.add(c.name, c.fn, c.beforeEach === undefined ? {} : { beforeEach: c.beforeEach });
      const [task] = await bench.run();
      const result = task.result;
      if (result.state !== 'completed') throw new Error(`${title}: ${c.name} ended ${result.state}`);
      const got = result.latency.samples ?? [];
      if (got.length === 0) throw new Error(`${title}: ${c.name} gave no timed call in round ${round + 1}`);
      samples.get(c.name)!.push(...got);
      roundMedians.get(c.name)!.push((quantile(got, 0.5) * 1e6) / c.opsPerCall);
    }
  }
  const rows = cases.map((c): Row => {
    const ms = samples.get(c.name)!;
    const { mean, median, rme } = stats(ms);
    const nsPerOp = (median * 1e6) / c.opsPerCall;
    return {
      name: c.name,
      nsPerOp,
      meanNsPerOp: (mean * 1e6) / c.opsPerCall,
      opsPerSec: 1e9 / nsPerOp,
      rme,
      samples: ms.length,
      opsPerCall: c.opsPerCall,
      rounds: roundMedians.get(c.name)!,
      ratio: 0,
      ratioIqr: [0, 0],
      baseline: false,
      ...(c.bytesPerOp !== undefined ? { gbPerSec: c.bytesPerOp / nsPerOp } : {}),
      ...(c.note !== undefined ? { note: c.note } : {}),
    };
  });
  const candidates = typeof baseline === 'string' ? [baseline] : baseline;
  let base: Row | undefined;
  for (const name of candidates) {
    const r = rows.find((x) => x.name === name);
    if (r === undefined) throw new Error(`${title}: no case named ${name}`);
    if (base === undefined || r.nsPerOp < base.nsPerOp) base = r;
  }
  if (base === undefined) throw new Error(`${title}: no baseline`);
  base.baseline = true;
  for (const r of rows) {
    const s = spreadOf(roundRatios(base, r));
    r.ratio = s.median;
    r.ratioIqr = [s.q1, s.q3];
  }
  return { title, baseline: base.name, op, rows };
}

/** Per round, how many times as fast as `slower` the row `faster` was: slower ns ÷ faster ns. */
export function roundRatios(slower: Row, faster: Row): number[] {
  if (slower.rounds.length !== faster.rounds.length) throw new Error(`${faster.name} and ${slower.name} were measured in different rounds`);
  return faster.rounds.map((ns, i) => slower.rounds[i] / ns);
}

/**
 * The value at quantile `q` of `xs` (0 ≤ q ≤ 1), interpolated linearly between the nearest order
 * statistics (Hyndman and Fan's type 7, the default of R and NumPy): quartiles of a handful of
 * rounds then lie between measured values instead of jumping from one to the next.
 */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) throw new RangeError('quantile: expected at least one value, got none');
  const sorted = [...xs].sort((a, b) => a - b);
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Median and quartiles of per-round figures. */
export function spreadOf(xs: readonly number[]): Spread & { median: number } {
  return { median: quantile(xs, 0.5), q1: quantile(xs, 0.25), q3: quantile(xs, 0.75), rounds: xs.length };
}

/**
 * How `measured` fares against `target`: met or missed only when the whole range from the first
 * to the third quartile is on one side of it, else within noise. Without a spread the figure is
 * its own range.
 */
export function verdictOf(kind: 'min' | 'max', target: number, measured: number, spread?: Pick<Spread, 'q1' | 'q3'>): Verdict {
  const lo = Math.min(measured, spread?.q1 ?? measured);
  const hi = Math.max(measured, spread?.q3 ?? measured);
  if (kind === 'min') return lo >= target ? 'met' : hi < target ? 'missed' : 'noise';
  return hi <= target ? 'met' : lo > target ? 'missed' : 'noise';
}

/** Mean, median and 95% relative margin of error of the mean (normal approximation: n is large). */
function stats(xs: number[]): { mean: number; median: number; rme: number } {
  const n = xs.length;
  const median = quantile(xs, 0.5);
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  const moe = 1.96 * Math.sqrt(variance / n);
  return { mean, median, rme: (100 * moe) / mean };
}

/** The row named `name` of `table`. */
export function row(table: Table, name: string): Row {
  const r = table.rows.find((x) => x.name === name);
  if (r === undefined) throw new Error(`${table.title}: no row ${name}`);
  return r;
}

/**
 * A speed-up target: `ours` must be at least `target` times as fast as `versus` (same table). The
 * figure is the median of the per-round speed-ups, with their interquartile range.
 */
export function speedTarget(id: string, label: string, table: Table, ours: string, versus: string, target: number): Target {
  const o = row(table, ours);
  const v = row(table, versus);
  const { median, ...spread } = spreadOf(roundRatios(v, o));
  return {
    id,
    label,
    ours,
    versus,
    measured: median,
    spread,
    target,
    unit: 'x',
    kind: 'min',
    verdict: verdictOf('min', target, median, spread),
    table: table.title,
    oursNs: o.nsPerOp,
    versusNs: v.nsPerOp,
    measuredFromMeans: v.meanNsPerOp / o.meanNsPerOp,
  };
}

/**
 * A target on another figure (bytes per key, a rate, a latency, a count). `holds` is false when
 * a condition besides the figure failed (a key never revoked, say): the target is then missed
 * whatever the figure.
 */
export function figureTarget(t: Omit<Target, 'verdict'>, holds = true): Target {
  return { ...t, verdict: holds ? verdictOf(t.kind, t.target, t.measured, t.spread) : 'missed' };
}

/** Formats a duration in ns with a sensible unit. */
export function formatNs(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(3)} ms`;
  if (ns >= 1e4) return `${(ns / 1e3).toFixed(2)} µs`;
  if (ns >= 100) return `${ns.toFixed(0)} ns`;
  return `${ns.toFixed(1)} ns`;
}

/** Formats a count per second compactly. */
export function formatRate(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(1);
}

/** A measured figure in its unit: "1.85×", "312 B/key", "1.52 M/s", "0.84 ms", "0", "0.000 GET/id", "2.00 commands/id". */
export function formatFigure(unit: TargetUnit, x: number): string {
  switch (unit) {
    case 'x':
      return `${x.toFixed(2)}×`;
    case 'B/key':
      return `${Math.round(x)} B/key`;
    case 'ops/s':
      return `${formatRate(x)}/s`;
    case 'ms':
      return `${x.toFixed(2)} ms`;
    case 'count':
      return String(Math.round(x));
    case 'GET/id':
      return `${x.toFixed(3)} GET/id`;
    case 'cmd/id':
      return `${x.toFixed(2)} commands/id`;
  }
}

/** A target's threshold in its unit, as written ("1.7×", "330 B/key", "1.00 M/s", "10 ms", "0"). */
export function formatTargetValue(unit: TargetUnit, x: number): string {
  switch (unit) {
    case 'x':
      return `${x}×`;
    case 'B/key':
      return `${x} B/key`;
    case 'ops/s':
      return `${formatRate(x)}/s`;
    case 'ms':
      return `${x} ms`;
    case 'count':
      return String(x);
    case 'GET/id':
      return `${x} GET/id`;
    case 'cmd/id':
      return `${x} commands/id`;
  }
}

/** A ratio with the spread of its rounds: "1.23× (IQR 1.10–1.41)". */
export function formatRatio(x: number, iqr?: readonly [number, number]): string {
  return iqr === undefined ? `${x.toFixed(2)}×` : `${x.toFixed(2)}× (IQR ${iqr[0].toFixed(2)}–${iqr[1].toFixed(2)})`;
}

/** A target's figure, with the interquartile range of its rounds when it has one. */
export function formatMeasured(t: Pick<Target, 'unit' | 'measured' | 'spread'>): string {
  if (t.spread === undefined) return formatFigure(t.unit, t.measured);
  if (t.unit === 'x') return formatRatio(t.measured, [t.spread.q1, t.spread.q3]);
  return `${formatFigure(t.unit, t.measured)} (IQR ${formatFigure(t.unit, t.spread.q1)}–${formatFigure(t.unit, t.spread.q3)})`;
}

/** A verdict in words. */
export function formatVerdict(v: Verdict): string {
  return v === 'noise' ? 'within noise' : v;
}

/** A target as "1.85× (IQR 1.70–1.92), target ≥ 1.7×: met". */
export function formatTarget(t: Target): string {
  return `${formatMeasured(t)}, target ${t.kind === 'min' ? '≥' : '≤'} ${formatTargetValue(t.unit, t.target)}: ${formatVerdict(t.verdict)}`;
}

/** Plain-text table with aligned columns. */
export function textTable(columns: string[], rows: (string | number)[][], right: boolean[] = []): string {
  const cells = [columns, ...rows.map((r) => r.map(String))];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** The console form of a report: its tables, extra tables, targets and notes. */
export function formatReport(report: Report): string {
  const out: string[] = [`== ${report.title} ==`];
  for (const t of report.tables) {
    const gb = t.rows.some((r) => r.gbPerSec !== undefined);
    out.push('', `${t.title} (per ${t.op}; median time; ratio = ${t.baseline} time ÷ row time, per round)`);
    out.push(
      textTable(
        ['task', 'time/op', 'ops/s', 'mean', '± mean', ...(gb ? ['GB/s'] : []), 'vs baseline (median of rounds, IQR)', 'samples'],
        t.rows.map((r) => [
          r.name + (r.baseline ? ' [baseline]' : ''),
          formatNs(r.nsPerOp),
          formatRate(r.opsPerSec),
          formatNs(r.meanNsPerOp),
          `${r.rme.toFixed(1)}%`,
          ...(gb ? [r.gbPerSec === undefined ? '' : r.gbPerSec.toFixed(2)] : []),
          r.baseline ? '1.00×' : formatRatio(r.ratio, r.ratioIqr),
          `${r.samples}×${r.opsPerCall}`,
        ]),
        [false, true, true, true, true, true, true, true],
      ),
    );
  }
  for (const e of report.extra)
    out.push(
      '',
      e.title,
      textTable(
        e.columns,
        e.rows,
        e.columns.map((_, i) => i > 0),
      ),
    );
  if (report.targets.length > 0) {
    out.push('', 'targets:');
    for (const t of report.targets) out.push(`  ${t.label}: ${t.ours} vs ${t.versus}: ${formatTarget(t)}`);
  }
  for (const n of report.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

/**
 * Runs `run` when `moduleUrl` is the entry point (`npx tsx bench/<file>.ts [--full] [--quick | --smoke]`):
 * prints the machine, a warning when the machine is overloaded, progress on stderr, and the report.
 */
export async function runIfMain(moduleUrl: string, run: (options: RunOptions) => Promise<Report>): Promise<void> {
  if (process.argv[1] === undefined || fileURLToPath(moduleUrl) !== resolve(process.argv[1])) return;
  const info = machine();
  console.log(machineLine(info));
  if (info.loadWarning) {
    console.log(loadWarningLine(info));
    process.stderr.write(loadWarningLine(info) + '\n');
  }
  const report = await run({
    full: process.argv.includes('--full'),
    quick: process.argv.includes('--quick'),
    smoke: process.argv.includes('--smoke'),
    progress: (line) => process.stderr.write(`  … ${line}\n`),
  });
  console.log(formatReport(report));
  console.log(`(sink ${sink})`);
}
