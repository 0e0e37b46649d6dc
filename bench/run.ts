/**
 * `npm run bench`: runs every bench file in turn, prints their tables, writes
 * `bench/results/latest.json` and `latest.svg`, and regenerates the README's performance section.
 *
 * Flags:
 * - `--quick`: a smoke run (tiny time budgets, 10,000 keys instead of 1,000,000); writes
 *   `quick.json` / `quick.svg` and leaves latest.json and the README alone, unless `--write-latest`.
 * - `--readme-only`: only regenerate the README section from latest.json (`npm run bench:readme`).
 * - `--no-readme`: measure and write the results but leave the README alone.
 * - `--no-redis`: skip `bench/redis.bench.ts` even where Redis is available.
 * - `--only=sha1-key,batch`: run only these files (results then go to `partial.json`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type ExtraTable, type Report, type RunOptions, formatNs, formatRate, formatReport, formatTarget, machine, machineLine, sink, textTable } from './harness.ts';
import { hasProgram } from '../test/setup/redis-server.ts';
import { type Results, renderReadmeSection, renderSvg, updateReadme } from './report.ts';
import { run as authKey } from './auth-key.bench.ts';
import { run as batch } from './batch.bench.ts';
import { run as manager } from './manager.bench.ts';
import { run as serialize } from './serialize.bench.ts';
import { run as sha1Key } from './sha1-key.bench.ts';
import { run as throughput } from './throughput.bench.ts';

const root = new URL('..', import.meta.url);
const resultsDir = new URL('bench/results/', root);
const readmePath = fileURLToPath(new URL('README.md', root));
/** The chart as the README links it (relative to the README). */
const SVG_LINK = 'bench/results/latest.svg';

const FILES: { id: string; run: (options: RunOptions) => Promise<Report> }[] = [
  { id: 'sha1-key', run: sha1Key },
  { id: 'auth-key', run: authKey },
  { id: 'batch', run: batch },
  { id: 'throughput', run: throughput },
  { id: 'manager', run: manager },
  { id: 'serialize', run: serialize },
];

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');

function readmeFromLatest(): void {
  const latest = new URL('latest.json', resultsDir);
  if (!existsSync(latest)) throw new Error('bench/results/latest.json is missing: run `npm run bench` first');
  const results = JSON.parse(readFileSync(latest, 'utf8')) as Results;
  updateReadme(readmePath, renderReadmeSection(results, SVG_LINK));
  writeFileSync(new URL('latest.svg', resultsDir), renderSvg(results));
  console.log(`README.md performance section and latest.svg regenerated from bench/results/latest.json (${results.date})`);
}

/** Whether a Redis server can be had: REDIS_URL is set, or redis-server is installed. */
function redisAvailable(): boolean {
  return Boolean(process.env.REDIS_URL) || hasProgram('redis-server');
}

/**
 * Runs `bench/redis.bench.ts` when it exists and Redis is reachable. Its `run` may return a
 * report in our shape or plain rows; rows become one table. Never fails the suite.
 */
async function runRedis(options: RunOptions): Promise<Report | undefined> {
  const file = new URL('bench/redis.bench.ts', root);
  if (!existsSync(file)) return undefined;
  if (!redisAvailable()) {
    console.log('\n== Redis ==\nskipped: set REDIS_URL or install redis-server to measure the Redis manager');
    return undefined;
  }
  const started = performance.now();
  try {
    const mod = (await import(pathToFileURL(fileURLToPath(file)).href)) as { run?: (o: RunOptions & { url?: string }) => unknown };
    if (typeof mod.run !== 'function') {
      console.log('\n== Redis ==\nskipped: bench/redis.bench.ts exports no run()');
      return undefined;
    }
    const result = await mod.run({ ...options, ...(process.env.REDIS_URL ? { url: process.env.REDIS_URL } : {}) });
    const base: Report = { id: 'redis', title: 'Redis manager', tables: [], extra: [], targets: [], notes: [], elapsedMs: 0 };
    if (result !== null && typeof result === 'object' && Array.isArray((result as Report).tables)) {
      return { ...base, ...(result as Partial<Report>), elapsedMs: performance.now() - started };
    }
    const rows = (Array.isArray(result) ? result : (result as { rows?: unknown[] } | null)?.rows) as Record<string, unknown>[] | undefined;
    if (rows === undefined) throw new Error('run() returned neither rows nor a report');
    return { ...base, extra: [redisTable(rows)], raw: rows, elapsedMs: performance.now() - started };
  } catch (e) {
    console.log(`\n== Redis ==\nskipped: ${(e as Error).message}`);
    return undefined;
  }
}

/** Rows of unknown shape as a printable table; the usual timing fields get our formatting. */
function redisTable(rows: Record<string, unknown>[]): ExtraTable {
  const timed = rows.every((r) => typeof r.name === 'string' && typeof r.nsPerOp === 'number' && typeof r.opsPerSec === 'number');
  if (timed) {
    return {
      title: 'Redis manager (per call; "100 in flight": batch time ÷ 100)',
      columns: ['task', 'time/op', 'ops/s', '±', 'samples'],
      rows: rows.map((r) => [
        r.name as string,
        formatNs(r.nsPerOp as number),
        formatRate(r.opsPerSec as number),
        typeof r.rme === 'number' ? `${r.rme.toFixed(1)}%` : '',
        String(r.samples ?? ''),
      ]),
    };
  }
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return {
    title: 'Redis manager',
    columns,
    rows: rows.map((r) => columns.map((c) => (typeof r[c] === 'number' ? Number((r[c] as number).toPrecision(4)) : String(r[c] ?? '')))),
  };
}

async function main(): Promise<void> {
  if (flag('--readme-only')) {
    readmeFromLatest();
    return;
  }
  const quick = flag('--quick');
  const files = only === undefined ? FILES : FILES.filter((f) => only.includes(f.id));
  if (only !== undefined && files.length !== only.length) throw new Error(`--only: known files are ${FILES.map((f) => f.id).join(', ')}`);
  const info = machine();
  console.log(`mtproto-authkey benchmarks${quick ? ' (quick smoke run: figures are not representative)' : ''}`);
  console.log(machineLine(info));
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s`;
  const reports: Report[] = [];
  for (const [i, file] of files.entries()) {
    process.stderr.write(`[${elapsed()}] ${i + 1}/${files.length} bench/${file.id}.bench.ts\n`);
    const report = await file.run({ quick, progress: (line) => process.stderr.write(`[${elapsed()}]   ${line}\n`) });
    reports.push(report);
    console.log('\n' + formatReport(report));
  }
  if (only === undefined && !flag('--no-redis')) {
    const redis = await runRedis({ quick, progress: (line) => process.stderr.write(`[${elapsed()}]   ${line}\n`) });
    if (redis !== undefined) {
      reports.push(redis);
      console.log('\n' + formatReport(redis));
    }
  }

  const results: Results = {
    schema: 1,
    date: new Date().toISOString(),
    quick,
    machine: info,
    elapsedMs: Math.round(performance.now() - started),
    reports,
    targets: reports.flatMap((r) => r.targets.map((t) => ({ report: r.id, ...t }))),
  };
  const name = only !== undefined ? 'partial' : quick && !flag('--write-latest') ? 'quick' : 'latest';
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(new URL(`${name}.json`, resultsDir), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(new URL(`${name}.svg`, resultsDir), renderSvg(results));

  console.log(`\n== Targets (${quick ? 'quick run' : 'full run'}, ${(results.elapsedMs / 1000).toFixed(0)} s) ==`);
  console.log(
    textTable(
      ['concern', 'ours vs', 'result'],
      results.targets.map((t) => [t.label, `${t.ours} vs ${t.versus}`, formatTarget(t)]),
    ),
  );
  console.log(`\nwrote bench/results/${name}.json and ${name}.svg (sink ${sink})`);
  if (name === 'latest' && !flag('--no-readme')) readmeFromLatest();
}

await main();
