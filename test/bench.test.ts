import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { README_CHART_URL, README_END, README_START, type Results, renderReadmeSection } from '../bench/report.ts';

const root = new URL('..', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const git = (...args: string[]) => promisify(execFile)('git', args, { cwd: root });

/** The bench files bench/run.ts runs; the Redis ones (last) only where Redis can be had. */
const FILES = ['sha1-key', 'auth-key', 'batch', 'many', 'throughput', 'manager', 'serialize', 'message', 'redis', 'cache'];
/** The files that need Redis: their targets are in latest.json only when the saved run had it. */
const REDIS_FILES = ['redis', 'cache'];

describe('benchmarks', () => {
  const out = mkdtempSync(join(tmpdir(), 'authkey-bench-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('the README performance table is the one generated from bench/results/latest.json', () => {
    const latest = JSON.parse(read('bench/results/latest.json')) as Results;
    const readme = read('README.md');
    const section = readme.slice(readme.indexOf(README_START), readme.indexOf(README_END) + README_END.length);
    expect(section).toBe(renderReadmeSection(latest, README_CHART_URL));
    expect(latest.quick).toBe(false);
  });

  it('every bench file runs (smoke run: one call per case, no figures judged), reports every target, and writes nothing into the tree', async () => {
    const before = (await git('status', '--porcelain', '--untracked-files=all')).stdout;
    // The Redis file measures against the server the global setup started, if any.
    const redisUrl = inject('redisUrl');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--smoke', `--out=${out}`, ...(redisUrl ? [] : ['--no-redis'])],
      {
        cwd: root,
        env: { ...process.env, REDIS_URL: redisUrl },
        timeout: 90_000,
        maxBuffer: 16 << 20,
      },
    );
    const smoke = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
    expect(smoke.smoke).toBe(true);
    expect(smoke.reports.map((r) => r.id)).toEqual(redisUrl ? FILES : FILES.filter((f) => !REDIS_FILES.includes(f)));
    for (const report of smoke.reports) {
      expect(report.tables.length, `${report.id} measured something`).toBeGreaterThan(0);
      for (const table of report.tables)
        expect(
          table.rows.every((r) => Number.isFinite(r.nsPerOp) && r.nsPerOp > 0),
          table.title,
        ).toBe(true);
    }
    // The README's table must cover what the code measures: latest.json has the same targets
    // (outside the optional Redis files). After adding or renaming a target, run `npm run bench:save`.
    const latest = JSON.parse(read('bench/results/latest.json')) as Results;
    const ids = (r: Results) => r.targets.filter((t) => !REDIS_FILES.includes(t.report)).map((t) => t.id);
    expect(ids(smoke)).toEqual(ids(latest));
    expect(stdout).toContain('== Targets (smoke run');
    expect((await git('status', '--porcelain', '--untracked-files=all')).stdout).toBe(before);
  }, 120_000);
});
