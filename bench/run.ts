/**
 * `npm run bench`: runs every bench file in turn and prints their tables, then writes the results
 * as JSON and an SVG chart to `bench/results/local/` (untracked), or to `--out=DIR`.
 *
 * Flags:
 * - `--save` (`npm run bench:save`): a full run that updates the tracked `bench/results/latest.json`
 *   and `latest.svg` and regenerates the README's performance section from them.
 * - `--quick`: tiny time budgets and smaller data sets (10,000 or 100,000 keys, not 1,000,000).
 * - `--smoke`: the data sets of `--quick` and one timed call per case, to check the files work.
 * - `--out=DIR`: where to write `results.json` and `results.svg` (not with `--save`).
 * - `--readme-only`: only regenerate the README section and latest.svg from latest.json
 *   (`npm run bench:readme`).
 * - `--no-readme`: with `--save`, leave the README alone.
 * - `--no-redis`: skip `bench/redis.bench.ts` and `bench/cache.bench.ts` even where Redis is available.
 * - `--only=sha1-key,batch`: run only these files.
 *
 * A warning goes to stdout and stderr, and `loadWarning` into the JSON, when the 1-minute load
 * average exceeds the core count at the start, or at the end beyond the run's own Redis server:
 * the run then shared the CPUs with other work.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  type Report,
  type RunOptions,
  formatReport,
  formatTarget,
  loadAverage,
  loadWarningLine,
  machine,
  machineLine,
  overloaded,
  sink,
  textTable,
} from './harness.ts';
import { hasProgram } from '../support/redis-server.ts';
import { README_CHART_URL, type Results, renderReadmeSection, renderSvg, updateReadme } from './report.ts';
import { run as authKey } from './auth-key.bench.ts';
import { run as batch } from './batch.bench.ts';
import { run as manager } from './manager.bench.ts';
import { run as message } from './message.bench.ts';
import { run as many } from './many.bench.ts';
import { run as serialize } from './serialize.bench.ts';
import { run as sha1Key } from './sha1-key.bench.ts';
import { run as throughput } from './throughput.bench.ts';

const root = new URL('..', import.meta.url);
const resultsDir = new URL('bench/results/', root);
/** Where runs that are not `--save` write, unless `--out`; in .gitignore. */
const LOCAL_DIR = 'bench/results/local/';
const readmePath = fileURLToPath(new URL('README.md', root));

/** A bench file: `run` measures; an optional file says why it is skipped, or undefined to run it. */
interface BenchFile {
  id: string;
  run: (options: RunOptions) => Promise<Report>;
  skip?: () => string | undefined;
}

const FILES: BenchFile[] = [
  { id: 'sha1-key', run: sha1Key },
  { id: 'auth-key', run: authKey },
  { id: 'batch', run: batch },
  { id: 'many', run: many },
  { id: 'throughput', run: throughput },
  { id: 'manager', run: manager },
  { id: 'serialize', run: serialize },
  { id: 'message', run: message },
  {
    id: 'redis',
    // Imported only when it runs: it needs ioredis and a server, which a run may not have.
    run: async (options) => {
      const mod = (await import(pathToFileURL(fileURLToPath(new URL('bench/redis.bench.ts', root))).href)) as {
        run: (o: RunOptions & { url?: string }) => Promise<unknown>;
      };
      const report = await mod.run({ ...options, ...(process.env.REDIS_URL ? { url: process.env.REDIS_URL } : {}) });
      if (!isReport(report)) throw new Error('run() did not return a report (tables built with measure)');
      return report;
    },
    skip: () =>
      args.includes('--no-redis') ? '--no-redis' : redisAvailable() ? undefined : 'set REDIS_URL or install redis-server to measure the Redis manager',
  },
  {
    id: 'cache',
    // Imported only when it runs, like the Redis file (it also needs bentocache). It starts its
    // own redis-server where one is installed, since it counts the server's commands.
    run: async (options) => {
      const mod = (await import(pathToFileURL(fileURLToPath(new URL('bench/cache.bench.ts', root))).href)) as {
        run: (o: RunOptions) => Promise<unknown>;
      };
      const report = await mod.run(options);
      if (!isReport(report)) throw new Error('run() did not return a report (tables built with measure)');
      return report;
    },
    skip: () => (args.includes('--no-redis') ? '--no-redis' : redisAvailable() ? undefined : 'set REDIS_URL or install redis-server to measure the near cache'),
  },
];

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const value = (name: string) => args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
const only = value('--only')?.split(',');

/** Whether a Redis server can be had: REDIS_URL is set, or redis-server is installed. */
function redisAvailable(): boolean {
  return Boolean(process.env.REDIS_URL) || hasProgram('redis-server');
}

function isReport(x: unknown): x is Report {
  const r = x as Partial<Report> | null;
  return r !== null && typeof r === 'object' && typeof r.id === 'string' && Array.isArray(r.tables) && Array.isArray(r.targets);
}

function readmeFromLatest(): void {
  const latest = new URL('latest.json', resultsDir);
  if (!existsSync(latest)) throw new Error('bench/results/latest.json is missing: run `npm run bench:save` first');
  const results = JSON.parse(readFileSync(latest, 'utf8')) as Results;
  updateReadme(readmePath, renderReadmeSection(results, README_CHART_URL));
  writeFileSync(new URL('latest.svg', resultsDir), renderSvg(results));
  console.log(`README.md performance section and latest.svg regenerated from bench/results/latest.json (${results.date})`);
}

/** Prints `line` to stdout (part of the output) and to stderr (seen even when stdout is kept). */
function warn(line: string): void {
  console.log(line);
  process.stderr.write(line + '\n');
}

async function main(): Promise<void> {
  if (flag('--readme-only')) {
    readmeFromLatest();
    return;
  }
  const smoke = flag('--smoke');
  const quick = flag('--quick') || smoke;
  const save = flag('--save');
  if (save && (quick || only !== undefined || value('--out') !== undefined)) {
    throw new Error('--save records a full run of every file in bench/results/latest.*: drop --quick, --smoke, --only and --out');
  }
  const files = only === undefined ? FILES : FILES.filter((f) => only.includes(f.id));
  if (only !== undefined && files.length !== only.length) throw new Error(`--only: known files are ${FILES.map((f) => f.id).join(', ')}`);
  const outDir = save ? resultsDir : pathToFileURL(resolve(value('--out') ?? fileURLToPath(new URL(LOCAL_DIR, root))) + '/');
  const name = save ? 'latest' : 'results';

  const info = machine();
  console.log(
    `mtproto-authkey benchmarks${smoke ? ' (smoke run: one call per case, figures are meaningless)' : quick ? ' (quick run: figures are not representative)' : ''}`,
  );
  console.log(machineLine(info));
  if (info.loadWarning) warn(loadWarningLine(info));
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s`;
  const options: RunOptions = { quick, smoke, progress: (line) => process.stderr.write(`[${elapsed()}]   ${line}\n`) };
  const reports: Report[] = [];
  for (const [i, file] of files.entries()) {
    const skip = file.skip?.();
    if (skip !== undefined) {
      console.log(`\n== bench/${file.id}.bench.ts ==\nskipped: ${skip}`);
      continue;
    }
    process.stderr.write(`[${elapsed()}] ${i + 1}/${files.length} bench/${file.id}.bench.ts\n`);
    let report: Report;
    try {
      report = await file.run(options);
    } catch (e) {
      // Only an optional file (one that can be skipped) may fail without failing the run.
      if (file.skip === undefined) throw e;
      console.log(`\n== bench/${file.id}.bench.ts ==\nskipped: ${(e as Error).message}`);
      continue;
    }
    reports.push(report);
    console.log('\n' + formatReport(report));
  }

  info.loadAverageEnd = loadAverage();
  // The last minute's average counts the bench's own redis-server when a Redis file (the Redis
  // manager's or the near cache's) ran last: one more busy process that is part of the run, not
  // other work sharing the CPUs.
  const last = reports.at(-1);
  const ownServers = (last?.id === 'redis' || last?.id === 'cache') && last.tables.length > 0 ? 1 : 0;
  if (overloaded(info.loadAverageEnd - ownServers) && !info.loadWarning) {
    info.loadWarning = true;
    warn(loadWarningLine(info));
  }
  info.loadWarning = info.loadWarning === true;
  const results: Results = {
    schema: 1,
    date: new Date().toISOString(),
    quick,
    ...(smoke ? { smoke } : {}),
    machine: info,
    elapsedMs: Math.round(performance.now() - started),
    reports,
    targets: reports.flatMap((r) => r.targets.map((t) => ({ report: r.id, ...t }))),
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(new URL(`${name}.json`, outDir), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(new URL(`${name}.svg`, outDir), renderSvg(results));

  console.log(`\n== Targets (${smoke ? 'smoke run' : quick ? 'quick run' : 'full run'}, ${(results.elapsedMs / 1000).toFixed(0)} s) ==`);
  console.log(
    textTable(
      ['concern', 'ours vs', 'result'],
      results.targets.map((t) => [t.label, `${t.ours} vs ${t.versus}`, formatTarget(t)]),
    ),
  );
  if (info.loadWarning) console.log(loadWarningLine(info));
  console.log(`\nwrote ${fileURLToPath(new URL(`${name}.json`, outDir))} and ${name}.svg (sink ${sink})`);
  if (save && !flag('--no-readme')) readmeFromLatest();
}

await main();
