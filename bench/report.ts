/**
 * What a whole run produces besides the console: the JSON results file, the SVG chart of the
 * ratios, the README's short headline table and the full tables of `docs/performance.md`, all
 * generated from the same JSON so that none of them is ever typed by hand.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import {
  HEADLINE,
  type Machine,
  type Report,
  type Table,
  type Target,
  type Verdict,
  formatMeasured,
  formatNs,
  formatRatio,
  formatTargetValue,
  formatVerdict,
  machineLine,
} from './harness.ts';

/** The contents of `bench/results/*.json`. */
export interface Results {
  /**
   * Bumped when the shape changes. 2: per-round figures (rows' `rounds` and `ratioIqr`, targets'
   * `spread` and `verdict`), `full` and `cpuMs`. Schema 1 files (one ratio, `met`) still render.
   */
  schema: 1 | 2;
  date: string;
  /** Every case of every file (`--full`, `--save`), or the main job only (false). Absent in schema 1, whose runs were full. */
  full?: boolean;
  quick: boolean;
  /** A smoke run (one call per case and round): set only then. */
  smoke?: boolean;
  machine: Machine;
  elapsedMs: number;
  /** CPU time of the bench process (user + system), ms: on a busy machine, what the run itself took. */
  cpuMs?: number;
  reports: Report[];
  /** Every report's targets, in order, with the report they belong to. */
  targets: (Target & { report: string })[];
}

/** Markers of the generated README section. */
export const README_START = '<!-- bench:start -->';
export const README_END = '<!-- bench:end -->';
/** Markers of the generated part of docs/performance.md. */
export const DOCS_START = '<!-- performance:start -->';
export const DOCS_END = '<!-- performance:end -->';

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

/** A target's verdict; schema 1 files only say whether the figure reached the target. */
export function verdictOfTarget(t: Pick<Target, 'verdict' | 'met'>): Verdict {
  return t.verdict ?? (t.met ? 'met' : 'missed');
}

/** How the run was made, in one sentence. */
function provenance(results: Results): string {
  const cpu = results.cpuMs === undefined ? '' : `, ${Math.round(results.cpuMs / 1000)} s of CPU`;
  const load = results.machine.loadWarning ? ' The load average exceeded the core count during this run: other work shared the CPUs.' : '';
  return (
    `Measured ${results.date.slice(0, 10)} by \`npm run bench:save\` (${Math.round(results.elapsedMs / 1000)} s${cpu}) on ${machineLine(results.machine)}.` +
    load
  );
}

/** A speed-up with its spread when the run recorded one. */
function ratioCell(t: Target): string {
  return t.spread === undefined ? formatRatio(t.measured) : formatRatio(t.measured, [t.spread.q1, t.spread.q3]);
}

/** The times per operation behind a speed-up: "339 ns vs 302 ns". */
function timesCell(t: Target): string {
  return t.oursNs !== undefined && t.versusNs !== undefined ? `${formatNs(t.oursNs)} vs ${formatNs(t.versusNs)}` : '';
}

/** A label without what the table's baseline column already says ("(÷ raw ioredis)", ", against the fastest Map"). */
function plainLabel(label: string): string {
  return label.replace(/ \(÷ [^)]*\)$/, '').replace(/, against the [^,]*$/, '');
}

const code = (s: string) => `\`${escapeCell(s)}\``;

/**
 * The README section between the markers (markers included): the speed-ups of the main job's
 * comparisons (`HEADLINE`), from `results`, with their spread and the baselines named.
 */
export function renderReadmeSection(results: Results): string {
  const rows = HEADLINE.map((id) => results.targets.find((t) => t.id === id)).filter((t): t is Target & { report: string } => t?.unit === 'x');
  const rounds = rows.find((t) => t.spread !== undefined)?.spread?.rounds;
  const lines = [
    README_START,
    '<!-- Generated from bench/results/latest.json by `npm run bench:readme`; do not edit by hand. -->',
    '',
    provenance(results),
    '',
    'Speed-up = how many times as fast as the fastest other route measured for the same job, in the same run;' +
      (rounds === undefined
        ? ' this run recorded one figure per comparison, without its spread.'
        : ` the median over ${rounds} rounds that alternate between the two, with the interquartile range of the rounds.`) +
      ' Below 1× ours is slower. Ratios move by up to ±30% from one run to the next on a shared machine.',
    '',
    '| job | ours | fastest other route measured | time per operation | speed-up |',
    '| --- | --- | --- | ---: | ---: |',
    ...rows.map(
      (t) => `| ${escapeCell(plainLabel(t.label))} | ${code(t.ours.replace(/^ours /, ''))} | ${code(t.versus)} | ${timesCell(t)} | ${ratioCell(t)} |`,
    ),
    README_END,
  ];
  return lines.join('\n');
}

/** One measured table in Markdown: each row's time and its speed-up over the table's baseline. */
function tableMarkdown(t: Table): string[] {
  const out = [
    `**${escapeCell(t.title)}** (per ${t.op}; speed-up over \`${escapeCell(t.baseline)}\`)`,
    '',
    '| task | time/op | speed-up |',
    '| --- | ---: | ---: |',
  ];
  for (const r of t.rows) {
    const ratio = r.baseline ? 'baseline' : formatRatio(r.ratio, r.ratioIqr);
    out.push(`| ${escapeCell(r.name)} | ${formatNs(r.nsPerOp)} | ${ratio} |`);
  }
  return out;
}

/**
 * The generated part of docs/performance.md (markers included): every target with its figure,
 * spread and verdict, the chart, and every table, note and extra figure of `results`.
 */
export function renderDocsSection(results: Results): string {
  const lines = [
    DOCS_START,
    '<!-- Generated from bench/results/latest.json by `npm run bench:readme` (and `npm run bench:save`); do not edit by hand. -->',
    '',
    provenance(results),
    '',
    'Each table measures its cases side by side in rounds that alternate between them (in the opposite order every other round).' +
      " A speed-up is the baseline's time per operation divided by ours, per round; the figure is the median over the rounds and the" +
      ' brackets give their interquartile range (IQR). A target is **met** or **missed** only when the whole IQR is on one side of it,' +
      ' and *within noise* otherwise. A baseline is the fastest route measured for the job in the same run, named as written.' +
      ' Ratios move by up to ±30% from one run to the next on a shared machine; times per operation more.' +
      (results.schema === 1 ? ' (This run predates rounds with spreads: one figure per comparison, verdicts from the figure alone.)' : ''),
    '',
    '`npm run bench` (the main job) measures the headline comparisons of the README in a few minutes; `npm run bench -- --full` measures' +
      ' everything below, and `npm run bench:save` (a full run, on Node 24 and a quiet machine) records it here.',
    '',
    '## Targets',
    '',
    '| concern | ours | against | time per operation | measured | target | verdict |',
    '| --- | --- | --- | ---: | ---: | ---: | --- |',
  ];
  for (const t of results.targets) {
    const v = verdictOfTarget(t);
    lines.push(
      `| ${escapeCell(t.label)} | ${code(t.ours.replace(/^ours /, ''))} | ${code(t.versus)} | ${timesCell(t)} | ${escapeCell(formatMeasured(t))} | ` +
        `${t.kind === 'min' ? '≥' : '≤'} ${formatTargetValue(t.unit, t.target)} | ${v === 'missed' ? '**missed**' : formatVerdict(v)} |`,
    );
  }
  lines.push('', '![Speed-ups over each baseline, with the targets marked](../bench/results/latest.svg)');
  for (const report of results.reports) {
    lines.push('', `## ${report.title}`, '', `\`bench/${report.id}.bench.ts\`, ${Math.round(report.elapsedMs / 1000)} s.`);
    for (const t of report.tables) lines.push('', ...tableMarkdown(t));
    for (const e of report.extra) {
      lines.push(
        '',
        `**${escapeCell(e.title)}**`,
        '',
        `| ${e.columns.map(escapeCell).join(' | ')} |`,
        `| ${e.columns.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
      );
      for (const r of e.rows) lines.push(`| ${r.map((c) => escapeCell(String(c))).join(' | ')} |`);
    }
    if (report.notes.length > 0) lines.push('', ...report.notes.map((n) => `- ${n}`));
  }
  lines.push(DOCS_END);
  return lines.join('\n');
}

/**
 * Writes `section` into the file at `path` between the markers it starts and ends with; nothing
 * else in the file changes. A file without the markers gets the section where `fallback` says
 * (given the text, it returns the new text), or an error.
 */
function writeBetweenMarkers(path: string, start: string, end: string, section: string, fallback: (text: string) => string): void {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  const next = from >= 0 && to > from ? text.slice(0, from) + section + text.slice(to + end.length) : fallback(text);
  if (next !== text) writeFileSync(path, next);
}

/**
 * Writes the section into the README: between the markers if they are there, else under a new
 * `## Performance` heading right before `## Layout`. Nothing else in the file changes.
 */
export function updateReadme(readmePath: string, section: string): void {
  writeBetweenMarkers(readmePath, README_START, README_END, section, (text) => {
    const layout = text.indexOf('\n## Layout\n');
    if (layout < 0) throw new Error(`${readmePath}: no "## Layout" heading to put the performance section before`);
    return text.slice(0, layout + 1) + `## Performance\n\n${section}\n\n` + text.slice(layout + 1);
  });
}

/** Writes the section into docs/performance.md, making the file (a title and the section) if it is not there. */
export function updateDocs(docsPath: string, section: string): void {
  writeBetweenMarkers(docsPath, DOCS_START, DOCS_END, section, (text) => {
    if (text !== '') throw new Error(`${docsPath}: no ${DOCS_START} … ${DOCS_END} markers to write between`);
    return `# Performance\n\n${section}\n`;
  });
}

/** One panel of the chart: horizontal bars on their own scale, and target lines. */
interface Panel {
  title: string;
  unit: 'x' | 'B/key';
  /** `iqr`: the interquartile range of the bar's per-round figures, drawn as a whisker. */
  bars: { name: string; value: number; kind: 'ours' | 'baseline' | 'peer'; iqr?: readonly [number, number] }[];
  lines: { value: number; label: string; verdict: Verdict }[];
}

/** The chart's panels: one per measured table (ratios), and one per memory target. */
function panels(results: Results): Panel[] {
  const out: Panel[] = [];
  const ratioOf = (table: Table, name: string) => table.rows.find((r) => r.name === name)?.ratio;
  for (const report of results.reports) {
    for (const table of report.tables) {
      const lines: Panel['lines'] = [];
      for (const t of report.targets) {
        const versus = ratioOf(table, t.versus);
        // A target belongs to the table that measured it (schema 1 results do not say: any table with both rows).
        if (t.unit !== 'x' || (t.table !== undefined && t.table !== table.title) || versus === undefined || ratioOf(table, t.ours) === undefined) continue;
        // Bars are in units of the table's baseline; a target against another row scales by its bar.
        lines.push({ value: versus * t.target, label: `target ≥ ${t.target}× ${t.versus}`, verdict: verdictOfTarget(t) });
      }
      out.push({
        title: `${table.title} (speed-up over ${table.baseline})`,
        unit: 'x',
        bars: table.rows.map((r) => ({
          name: r.name,
          value: r.ratio,
          kind: r.baseline ? 'baseline' : r.name.startsWith('ours') ? 'ours' : 'peer',
          ...(r.ratioIqr !== undefined && !r.baseline ? { iqr: r.ratioIqr } : {}),
        })),
        lines,
      });
    }
    for (const t of report.targets) {
      if (t.unit !== 'B/key') continue;
      out.push({
        title: `${t.label} (bytes per key, lower is better)`,
        unit: 'B/key',
        bars: [
          { name: t.ours, value: t.measured, kind: 'ours' },
          ...(t.reference !== undefined ? [{ name: t.reference.name, value: t.reference.value, kind: 'baseline' as const }] : []),
        ],
        lines: [{ value: t.target, label: `target ≤ ${t.target} B/key`, verdict: verdictOfTarget(t) }],
      });
    }
  }
  return out;
}

/** A hand-written SVG bar chart of the results: one panel per concern, IQR whiskers on the bars, target lines dashed. */
export function renderSvg(results: Results): string {
  const width = 960;
  const labelRight = 330;
  const barLeft = 340;
  const barWidth = 500;
  const barHeight = 16;
  const gap = 5;
  const colors = { ours: '#2f6fdf', baseline: '#8a8a8a', peer: '#c3cbd9' };
  const parts: string[] = [];
  let y = 62;
  for (const panel of panels(results)) {
    const max = Math.max(...panel.bars.map((b) => Math.max(b.value, b.iqr?.[1] ?? 0)), ...panel.lines.map((l) => l.value), panel.unit === 'x' ? 1 : 0) * 1.12;
    const x = (v: number) => barLeft + (v / max) * barWidth;
    parts.push(`<text x="16" y="${y}" class="title">${escapeXml(panel.title)}</text>`);
    y += 10;
    const top = y;
    for (const bar of panel.bars) {
      const w = Math.max(1, x(bar.value) - barLeft);
      const text = panel.unit === 'x' ? `${bar.value.toFixed(2)}×` : `${Math.round(bar.value)} B`;
      // The whisker spans the interquartile range of the rounds; the figure is written past it.
      const right = bar.iqr === undefined ? barLeft + w : Math.max(barLeft + w, x(bar.iqr[1]));
      parts.push(
        `<text x="${labelRight}" y="${y + barHeight - 4}" text-anchor="end">${escapeXml(bar.name)}</text>`,
        `<rect x="${barLeft}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${colors[bar.kind]}"/>`,
        ...(bar.iqr === undefined
          ? []
          : [
              `<line x1="${x(bar.iqr[0]).toFixed(1)}" y1="${y + barHeight / 2}" x2="${x(bar.iqr[1]).toFixed(1)}" y2="${y + barHeight / 2}" stroke="#222" stroke-width="1.5"/>`,
            ]),
        `<text x="${(right + 6).toFixed(1)}" y="${y + barHeight - 4}">${text}</text>`,
      );
      y += barHeight + gap;
    }
    if (panel.unit === 'x') {
      parts.push(`<line x1="${x(1).toFixed(1)}" y1="${top - 3}" x2="${x(1).toFixed(1)}" y2="${y}" stroke="#555" stroke-width="1"/>`);
    }
    for (const [k, line] of panel.lines.entries()) {
      const lx = x(line.value);
      const color = { met: '#1a8f3c', missed: '#d12b2b', noise: '#b7791f' }[line.verdict];
      // Labels stack one per line under the bars, and hang left of lines near the right edge.
      const anchor = lx > barLeft + barWidth * 0.6 ? 'end' : 'start';
      parts.push(
        `<line x1="${lx.toFixed(1)}" y1="${top - 3}" x2="${lx.toFixed(1)}" y2="${y + 2 + 13 * k}" stroke="${color}" stroke-width="2" stroke-dasharray="5 3"/>`,
        `<text x="${(lx + (anchor === 'end' ? -4 : 4)).toFixed(1)}" y="${y + 11 + 13 * k}" text-anchor="${anchor}" class="target" fill="${color}">${escapeXml(line.label)} (${formatVerdict(line.verdict)})</text>`,
      );
    }
    y += 22 + 13 * panel.lines.length;
  }
  const kind = results.smoke
    ? ' (smoke run, figures meaningless)'
    : results.quick
      ? ' (quick run, not representative)'
      : results.full === false
        ? ' (main job)'
        : '';
  const header = `mtproto-authkey benchmarks, ${results.date.slice(0, 10)}${kind}`;
  const sub = machineLine(results.machine);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 8}" viewBox="0 0 ${width} ${y + 8}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
    '<style>.title{font-weight:600;font-size:13px}.target{font-size:11px}.head{font-weight:700;font-size:15px}</style>',
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="16" y="20" class="head">${escapeXml(header)}</text>`,
    `<text x="16" y="34" fill="#555">${escapeXml(sub)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
