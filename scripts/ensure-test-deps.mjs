// `npm test`'s first step (pretest): makes sure the programs the suite needs and npm does not
// bring are installed. The Redis suites start redis-server and use redis-cli to form a cluster;
// test/runtimes.test.ts runs the packed package in headless Chromium. When one is missing and
// this runs as root on a machine with apt-get (a fresh CI machine, a container), it installs
// Debian's packages; otherwise it prints one line saying what to install and exits 1, so that
// `npm test` stops before running anything: a suite that cannot run is never reported as passed.
//
// Chromium is found as test/runtimes.test.ts finds it: $CHROMIUM when set, else `chromium` or
// `chromium-browser` on PATH.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The path of an executable `name` on PATH, or undefined. */
function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Whether `command --version` runs: installed and working (a broken redis-server fails here, not in the suite). */
function runs(command) {
  const r = spawnSync(command, ['--version'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

function chromiumFound() {
  const chosen = process.env.CHROMIUM;
  if (chosen !== undefined && chosen !== '') {
    try {
      accessSync(chosen, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }
  return onPath('chromium') !== undefined || onPath('chromium-browser') !== undefined;
}

/** What is missing, as the programs' names and the Debian packages that bring them. */
function missing() {
  const programs = [];
  const packages = [];
  for (const program of ['redis-server', 'redis-cli']) {
    if (!runs(program)) {
      programs.push(program);
      if (!packages.includes('redis-server')) packages.push('redis-server');
    }
  }
  if (!chromiumFound()) {
    programs.push(process.env.CHROMIUM ? `chromium (CHROMIUM=${process.env.CHROMIUM} is not an executable)` : 'chromium');
    packages.push('chromium');
  }
  return { programs, packages };
}

function install(packages) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // apt-get's progress goes nowhere; its errors (stderr) stay visible.
  const quiet = { stdio: ['ignore', 'ignore', 'inherit'], env };
  console.log(`ensure-test-deps: installing ${packages.join(' ')} with apt-get (running as root)`);
  const update = spawnSync('apt-get', ['update', '-qq'], quiet);
  if (update.status !== 0) return false;
  return spawnSync('apt-get', ['install', '-y', '-qq', ...packages], quiet).status === 0;
}

/** The one line for someone who has to install the programs themselves. */
function instructions({ programs, packages }) {
  const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts ?? {};
  const unit = scripts['test:unit'] ? '; `npm run test:unit` runs the tests that need neither' : '';
  const names = programs.length > 1 ? `${programs.slice(0, -1).join(', ')} and ${programs.at(-1)}` : programs[0];
  return (
    `npm test needs ${names}, not found: install with \`sudo apt-get install -y ${packages.join(' ')}\` ` +
    `(elsewhere: Redis 7, and Chromium or Chrome with CHROMIUM=/path/to/it)${unit}`
  );
}

let need = missing();
if (need.programs.length > 0) {
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (asRoot && onPath('apt-get') !== undefined && install(need.packages)) need = missing();
  if (need.programs.length > 0) {
    console.error(instructions(need));
    process.exit(1);
  }
}
