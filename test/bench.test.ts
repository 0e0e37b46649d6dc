import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { README_END, README_START, type Results, renderReadmeSection } from '../bench/report.ts';

const root = new URL('..', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

describe('benchmarks', () => {
  it('the README performance table is the one generated from bench/results/latest.json', () => {
    const latest = JSON.parse(read('bench/results/latest.json')) as Results;
    const readme = read('README.md');
    const section = readme.slice(readme.indexOf(README_START), readme.indexOf(README_END) + README_END.length);
    expect(section).toBe(renderReadmeSection(latest, 'bench/results/latest.svg'));
    expect(latest.quick).toBe(false);
  });

  it('every bench file runs (quick smoke run: no figures are judged) and reports every target', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--no-redis', '--no-readme'], {
      cwd: root,
      timeout: 120_000,
      maxBuffer: 16 << 20,
    });
    const quick = JSON.parse(read('bench/results/quick.json')) as Results;
    expect(quick.quick).toBe(true);
    expect(quick.reports.length).toBeGreaterThanOrEqual(6);
    const latest = JSON.parse(read('bench/results/latest.json')) as Results;
    expect(quick.targets.map((t) => t.id)).toEqual(latest.targets.map((t) => t.id));
    expect(stdout).toContain('SHA-1');
  }, 150_000);
});
