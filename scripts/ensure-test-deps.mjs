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

/** What is missing: the programs' names, the Debian packages that bring them, and a $CHROMIUM that names no executable. */
function missing() {
  const programs = [];
  const packages = [];
  // REDIS_URL and REDIS_CLUSTER_NODES point the Redis suites at existing servers: then only the
  // fault tests need redis-server, and test/setup/redis.ts reports them as skipped, by name (under
  // CI=true, where nothing may be skipped, that is a failure, so there the programs are needed).
  const external = Boolean(process.env.REDIS_URL && process.env.REDIS_CLUSTER_NODES) && process.env.CI !== 'true';
  for (const program of external ? [] : ['redis-server', 'redis-cli']) {
    if (!runs(program)) {
      programs.push(program);
      if (!packages.includes('redis-server')) packages.push('redis-server');
    }
  }
  const chosen = process.env.CHROMIUM;
  let badChromium;
  if (chosen !== undefined && chosen !== '') {
    // Installing Debian's chromium would not fix a wrong $CHROMIUM: that is the user's to change.
    try {
      accessSync(chosen, constants.X_OK);
    } catch {
      badChromium = chosen;
    }
  } else if (onPath('chromium') === undefined && onPath('chromium-browser') === undefined) {
    programs.push('chromium');
    packages.push('chromium');
  }
  return { programs, packages, badChromium };
}

function install(packages) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // apt-get's progress goes nowhere; its errors (stderr) stay visible.
  const quiet = { stdio: ['ignore', 'ignore', 'inherit'], env };
  console.log(`ensure-test-deps: installing ${packages.join(' ')} with apt-get (running as root)`);
  const update = spawnSync('apt-get', ['update', '-qq'], quiet);
  if (update.status !== 0) return false;
  // --no-upgrade: a package that is installed already (its program broken or off PATH) is left as it is.
  return spawnSync('apt-get', ['install', '-y', '-qq', '--no-upgrade', ...packages], quiet).status === 0;
}

/** The one line for someone who has to install the programs themselves. */
function instructions({ programs, packages, badChromium }) {
  const parts = [];
  if (programs.length > 0) {
    const names = programs.length > 1 ? `${programs.slice(0, -1).join(', ')} and ${programs.at(-1)}` : programs[0];
    const elsewhere = packages.map((p) => (p === 'chromium' ? 'Chromium or Chrome with CHROMIUM=/path/to/it' : 'Redis 7')).join(', and ');
    parts.push(`npm test needs ${names}, not found: install with \`sudo apt-get install -y ${packages.join(' ')}\` (elsewhere: ${elsewhere})`);
  }
  if (badChromium !== undefined) parts.push(`CHROMIUM=${badChromium} is not an executable: point it at Chromium or Chrome, or unset it`);
  const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts ?? {};
  if (scripts['test:unit']) parts.push('`npm run test:unit` runs the tests that need neither');
  return parts.join('; ');
}

let need = missing();
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (need.packages.length > 0 && asRoot && onPath('apt-get') !== undefined) {
  const packages = need.packages.join(' ');
  if (!install(need.packages)) {
    console.error(`npm test needs ${packages}: \`apt-get install -y ${packages}\` failed (its errors are above)`);
    process.exit(1);
  }
  need = missing();
  if (need.programs.length > 0) {
    console.error(`npm test needs ${need.programs.join(', ')}: apt-get installed ${packages}, but they are still not found on PATH (${process.env.PATH})`);
    process.exit(1);
  }
}
if (need.programs.length > 0 || need.badChromium !== undefined) {
  console.error(instructions(need));
  process.exit(1);
}
