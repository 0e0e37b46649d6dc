/**
 * What a whole run produces besides the console: the JSON results file, the SVG chart of the
 * ratios, and the README's performance section, all generated from the same JSON so that none of
 * them is ever typed by hand.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { type Machine, type Report, type Table, type Target, formatFigure, formatNs, formatTargetValue, machineLine } from './harness.ts';

/** The contents of `bench/results/*.json`. */
export interface Results {
  /** Bumped when the shape changes. */
  schema: 1;
  date: string;
  quick: boolean;
  /** A smoke run (one call per case): set only then. */
  smoke?: boolean;
  machine: Machine;
  elapsedMs: number;
  reports: Report[];
  /** Every report's targets, in order, with the report they belong to. */
  targets: (Target & { report: string })[];
}

/**
 * The chart as the README links it: an absolute address in the repository named by package.json,
 * because the README is also shown on the npm package page, which has no copy of bench/results/.
 */
export const README_CHART_URL = (() => {
  const { repository } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { repository: { url: string } };
  const m = /github\.com\/([^/]+\/[^/.]+)/.exec(repository.url);
  if (!m) throw new Error(`package.json repository: expected a GitHub address, got ${repository.url}`);
  return `https://raw.githubusercontent.com/${m[1]}/main/bench/results/latest.svg`;
})();

/** Markers of the generated README section. */
export const README_START = '<!-- bench:start -->';
export const README_END = '<!-- bench:end -->';

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

/** A target's figure with its unit. */
function figure(t: Target, value: number): string {
  return formatFigure(t.unit, value);
}

/** The README section between the markers (markers included), from results. */
export function renderReadmeSection(results: Results, svgPath: string): string {
  const lines = [
    README_START,
    '<!-- Generated from bench/results/latest.json by `npm run bench:readme`; do not edit by hand. -->',
    '',
    `Measured ${results.date.slice(0, 10)} on ${machineLine(results.machine)}, by \`npm run bench:save\`` +
      ` (${Math.round(results.elapsedMs / 1000)} s).${results.machine.loadWarning ? ' **The load average exceeded the core count during this run: other work shared the CPUs.**' : ''}` +
      ' A target against node:crypto is against the fastest node:crypto route measured for its job in the run, named as written.' +
      ` A ratio is a speed-up: the baseline's time per operation divided by ours,` +
      ` both measured side by side in the same run${
        results.quick
          ? ' (a quick smoke run: not representative)'
          : ' (from the median timed call, about 1 s of calls per task in five interleaved rounds;' +
            ' the last column is the same ratio from mean times, which also count calls slowed by other processes and by GC)'
      }.`,
    '',
    '| concern | ours | against | ours vs theirs (per op) | measured | target | | from means |',
    '| --- | --- | --- | ---: | ---: | ---: | --- | ---: |',
  ];
  for (const t of results.targets) {
    const times =
      t.oursNs !== undefined && t.versusNs !== undefined
        ? `${formatNs(t.oursNs)} vs ${formatNs(t.versusNs)}`
        : t.reference !== undefined
          ? `${figure(t, t.measured)} vs ${figure(t, t.reference.value)}`
          : '';
    lines.push(
      `| ${escapeCell(t.label)} | \`${escapeCell(t.ours.replace(/^ours /, ''))}\` | \`${escapeCell(t.versus)}\` | ${escapeCell(times)} | ${figure(t, t.measured)} | ` +
        `${t.kind === 'min' ? '≥' : '≤'} ${formatTargetValue(t.unit, t.target)} | ${t.met ? 'met' : '**MISSED**'} | ` +
        `${t.measuredFromMeans === undefined ? '' : figure(t, t.measuredFromMeans)} |`,
    );
  }
  lines.push(
    '',
    `![Speed-ups over each baseline, with the targets marked](${svgPath})`,
    '',
    'Every table, with the peers (hash-wasm, @noble/hashes, `createHash`) and the scalar core, is in' +
      ' `bench/results/latest.json`; `npm run bench` measures on your machine and prints them.',
    README_END,
  );
  return lines.join('\n');
}

/**
 * Writes the section into the README: between the markers if they are there, else under a new
 * `## Performance` heading right before `## Layout`. Nothing else in the file changes.
 */
export function updateReadme(readmePath: string, section: string): void {
  const text = readFileSync(readmePath, 'utf8');
  const start = text.indexOf(README_START);
  const end = text.indexOf(README_END);
  let next: string;
  if (start >= 0 && end > start) {
    next = text.slice(0, start) + section + text.slice(end + README_END.length);
  } else {
    const layout = text.indexOf('\n## Layout\n');
    if (layout < 0) throw new Error(`${readmePath}: no "## Layout" heading to put the performance section before`);
    next = text.slice(0, layout + 1) + `## Performance\n\n${section}\n\n` + text.slice(layout + 1);
  }
  if (next !== text) writeFileSync(readmePath, next);
}

/** One panel of the chart: horizontal bars on their own scale, and target lines. */
interface Panel {
  title: string;
  unit: 'x' | 'B/key';
  bars: { name: string; value: number; kind: 'ours' | 'baseline' | 'peer' }[];
  lines: { value: number; label: string; met: boolean }[];
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
        if (t.unit !== 'x' || versus === undefined || ratioOf(table, t.ours) === undefined) continue;
        // Bars are in units of the table's baseline; a target against another row scales by its bar.
        lines.push({ value: versus * t.target, label: `target ≥ ${t.target}× ${t.versus}`, met: t.met });
      }
      out.push({
        title: `${table.title} (speed-up over ${table.baseline})`,
        unit: 'x',
        bars: table.rows.map((r) => ({ name: r.name, value: r.ratio, kind: r.baseline ? 'baseline' : r.name.startsWith('ours') ? 'ours' : 'peer' })),
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
        lines: [{ value: t.target, label: `target ≤ ${t.target} B/key`, met: t.met }],
      });
    }
  }
  return out;
}

/** A hand-written SVG bar chart of the results: one panel per concern, target lines dashed. */
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
    const max = Math.max(...panel.bars.map((b) => b.value), ...panel.lines.map((l) => l.value), panel.unit === 'x' ? 1 : 0) * 1.12;
    const x = (v: number) => barLeft + (v / max) * barWidth;
    parts.push(`<text x="16" y="${y}" class="title">${escapeXml(panel.title)}</text>`);
    y += 10;
    const top = y;
    for (const bar of panel.bars) {
      const w = Math.max(1, x(bar.value) - barLeft);
      const text = panel.unit === 'x' ? `${bar.value.toFixed(2)}×` : `${Math.round(bar.value)} B`;
      parts.push(
        `<text x="${labelRight}" y="${y + barHeight - 4}" text-anchor="end">${escapeXml(bar.name)}</text>`,
        `<rect x="${barLeft}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${colors[bar.kind]}"/>`,
        `<text x="${(barLeft + w + 6).toFixed(1)}" y="${y + barHeight - 4}">${text}</text>`,
      );
      y += barHeight + gap;
    }
    if (panel.unit === 'x') {
      parts.push(`<line x1="${x(1).toFixed(1)}" y1="${top - 3}" x2="${x(1).toFixed(1)}" y2="${y}" stroke="#555" stroke-width="1"/>`);
    }
    for (const [k, line] of panel.lines.entries()) {
      const lx = x(line.value);
      const color = line.met ? '#1a8f3c' : '#d12b2b';
      // Labels stack one per line under the bars, and hang left of lines near the right edge.
      const anchor = lx > barLeft + barWidth * 0.6 ? 'end' : 'start';
      parts.push(
        `<line x1="${lx.toFixed(1)}" y1="${top - 3}" x2="${lx.toFixed(1)}" y2="${y + 2 + 13 * k}" stroke="${color}" stroke-width="2" stroke-dasharray="5 3"/>`,
        `<text x="${(lx + (anchor === 'end' ? -4 : 4)).toFixed(1)}" y="${y + 11 + 13 * k}" text-anchor="${anchor}" class="target" fill="${color}">${escapeXml(line.label)} ${line.met ? '(met)' : '(missed)'}</text>`,
      );
    }
    y += 22 + 13 * panel.lines.length;
  }
  const header = `mtproto-authkey benchmarks, ${results.date.slice(0, 10)}${results.quick ? ' (quick smoke run, not representative)' : ''}`;
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
