import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { HEADLINE, quantile, verdictOf } from '../bench/harness.ts';
import { DOCS_END, DOCS_START, README_END, README_START, type Results, renderDocsSection, renderReadmeSection } from '../bench/report.ts';

const root = new URL('..', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const git = (...args: string[]) => promisify(execFile)('git', args, { cwd: root });

/** The bench files bench/run.ts runs with --full; the Redis ones (last) only where Redis can be had. */
const FILES = ['sha1-key', 'auth-key', 'batch', 'many', 'throughput', 'manager', 'serialize', 'message', 'redis', 'cache'];
/** The files of the main job (`npm run bench` without --full). */
const MAIN_FILES = ['sha1-key', 'auth-key', 'batch', 'manager', 'message', 'redis', 'cache'];
/** The files that need Redis: their targets are in latest.json only when the saved run had it. */
const REDIS_FILES = ['redis', 'cache'];

/** The text from `start` to `end`, markers included. */
const between = (text: string, start: string, end: string) => text.slice(text.indexOf(start), text.indexOf(end) + end.length);

/** Runs bench/run.ts with `args` into `out`, with the Redis of the global setup if there is one; resolves to stdout. */
async function bench(out: string, args: string[]): Promise<string> {
  const redisUrl = inject('redisUrl');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'bench/run.ts', ...args, `--out=${out}`, ...(redisUrl ? [] : ['--no-redis'])],
    {
      cwd: root,
      env: { ...process.env, REDIS_URL: redisUrl },
      timeout: 150_000,
      maxBuffer: 16 << 20,
    },
  );
  return stdout;
}

/** Checks what every run's results must hold: a table per report, finite times, a spread and verdict per speed-up. */
function checkResults(results: Results): void {
  for (const report of results.reports) {
    expect(report.tables.length, `${report.id} measured something`).toBeGreaterThan(0);
    for (const table of report.tables) {
      for (const r of table.rows) {
        expect(Number.isFinite(r.nsPerOp) && r.nsPerOp > 0, `${table.title}: ${r.name}`).toBe(true);
        expect(r.rounds.length, `${table.title}: ${r.name} has a time per round`).toBe(2);
        expect(r.ratioIqr[0] <= r.ratio && r.ratio <= r.ratioIqr[1], `${table.title}: ${r.name} ratio within its IQR`).toBe(true);
      }
    }
  }
  for (const t of results.targets) {
    expect(['met', 'missed', 'noise'], t.id).toContain(t.verdict);
    if (t.unit === 'x') {
      expect(t.spread, `${t.id} has a spread`).toBeDefined();
      expect(t.spread!.q1 <= t.measured && t.measured <= t.spread!.q3, `${t.id}: median within its IQR`).toBe(true);
    }
  }
}

describe('benchmarks', () => {
  const out = mkdtempSync(join(tmpdir(), 'authkey-bench-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('the README headline table and docs/performance.md are the ones generated from bench/results/latest.json', () => {
    const latest = JSON.parse(read('bench/results/latest.json')) as Results;
    expect(between(read('README.md'), README_START, README_END)).toBe(renderReadmeSection(latest));
    expect(between(read('docs/performance.md'), DOCS_START, DOCS_END)).toBe(renderDocsSection(latest));
    // Tracked results come from a full run (`npm run bench:save`), never the main job or a quick one.
    expect(latest.quick).toBe(false);
    expect(latest.full).not.toBe(false);
  });

  it('quartiles interpolate between order statistics (type 7, as R and NumPy compute them)', () => {
    // Worked by hand: sorted 1, 2, 4, 8; h = 3q; q1 at h = 0.75 → 1 + 0.75 × (2 − 1); q3 at h = 2.25 → 4 + 0.25 × (8 − 4).
    expect(quantile([8, 1, 4, 2], 0.25)).toBe(1.75);
    expect(quantile([8, 1, 4, 2], 0.5)).toBe(3);
    expect(quantile([8, 1, 4, 2], 0.75)).toBe(5);
    expect(quantile([5], 0.25)).toBe(5);
    expect(() => quantile([], 0.5)).toThrow(RangeError);
  });

  it('a target is met or missed only when the whole IQR is on one side of it', () => {
    expect(verdictOf('min', 1, 1.2, { q1: 1.05, q3: 1.3 })).toBe('met');
    expect(verdictOf('min', 1, 1.2, { q1: 1, q3: 1.3 })).toBe('met');
    expect(verdictOf('min', 1, 1.2, { q1: 0.95, q3: 1.3 })).toBe('noise');
    expect(verdictOf('min', 1, 0.9, { q1: 0.8, q3: 0.99 })).toBe('missed');
    expect(verdictOf('min', 1, 0.9, { q1: 0.8, q3: 1.01 })).toBe('noise');
    expect(verdictOf('max', 10, 3, { q1: 2, q3: 11 })).toBe('noise');
    expect(verdictOf('max', 10, 3, { q1: 2, q3: 10 })).toBe('met');
    expect(verdictOf('max', 1, 2)).toBe('missed');
    expect(verdictOf('max', 0, 0)).toBe('met');
  });

  it('every bench file runs in full (smoke run: one call per case and round, no figures judged), reports every target, and writes nothing into the tree', async () => {
    const before = (await git('status', '--porcelain', '--untracked-files=all')).stdout;
    const dir = join(out, 'full');
    const stdout = await bench(dir, ['--smoke', '--full']);
    const smoke = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Results;
    expect(smoke.smoke).toBe(true);
    expect(smoke.full).toBe(true);
    expect(smoke.reports.map((r) => r.id)).toEqual(inject('redisUrl') ? FILES : FILES.filter((f) => !REDIS_FILES.includes(f)));
    checkResults(smoke);
    // The README's table must cover what the code measures: latest.json has the same targets
    // (outside the optional Redis files). After adding or renaming a target, run `npm run bench:save`.
    const latest = JSON.parse(read('bench/results/latest.json')) as Results;
    const ids = (r: Results) => r.targets.filter((t) => !REDIS_FILES.includes(t.report)).map((t) => t.id);
    expect(ids(smoke)).toEqual(ids(latest));
    expect(stdout).toContain('== Targets (smoke run');
    expect((await git('status', '--porcelain', '--untracked-files=all')).stdout).toBe(before);
  }, 160_000);

  it('the main job measures the headline comparisons only, each with its spread, and prints the versions and Redis commands per unknown id', async () => {
    const dir = join(out, 'main');
    const stdout = await bench(dir, ['--smoke']);
    const main = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Results;
    const redis = Boolean(inject('redisUrl'));
    expect(main.full).toBe(false);
    expect(main.machine.v8).toBe(process.versions.v8);
    expect(main.reports.map((r) => r.id)).toEqual(redis ? MAIN_FILES : MAIN_FILES.filter((f) => !REDIS_FILES.includes(f)));
    // Every headline comparison, in order (the files may report a few more figures they got on the way).
    const headline = main.targets.map((t) => t.id).filter((id) => HEADLINE.includes(id));
    expect(headline).toEqual(redis ? HEADLINE : HEADLINE.filter((id) => !/^(redis|cache)-/.test(id)));
    checkResults(main);
    expect(stdout).toContain(`Node ${process.version}, V8 ${process.versions.v8}`);
    expect(stdout).toContain('== Headline (smoke run');
    if (redis) expect(stdout).toMatch(/Redis commands per unknown id .*: \d+\.\d\d commands\/id/);
  }, 160_000);
});
