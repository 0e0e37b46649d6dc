import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthKey } from '../src/index.ts';

// Every runtime the README names runs test/runtimes/check.mjs against the tarball a user installs
// (`npm pack` of dist/, as test/package.test.ts makes it), and its results are compared here with
// published values and with what Node computes. A runtime that is not installed fails its test
// with the command that installs it: none is skipped.

const execFileAsync = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string) => join(root, 'node_modules/.bin', name);

// The README's key (examples/usage.ts), as test/runtimes/check.mjs holds it too.
const README_KEY =
  0x6d9975017ca9c51630d28f74a1b7ac12cd9021b7be10379fbc81d0bdf00fb95086f15b1f2de70130c51dcab2fca8e8f8d06188ba9456e09e7a3fc5cd96bed72659b3ed7816a035bb4727b12eaa3a95f970cbbf9cca25f60add99b594189cc53dbf4c63b431b87c79cefae83919d9788e59ba4db460e154347e9aeed598b86de41b0ddd8d2e5cf5d03537b9001e37101f7fdde46e208c712b8ee753c81776f037cc45deb4875c9ce1460c68bf340e92b10042c1c368a34c43dc948a5aaa8190dfad6a0c2b863b770fe6c0478f3f1462125247bdb7c0e92333cb35ee405ff3cec72c48ce14709731f2db05c9e68bda5953916f5e89071edad84c49502cda2bb17n;
const readmeKeyBytes = Buffer.from(README_KEY.toString(16).padStart(512, '0'), 'hex');

// An MTProto 2.0 plaintext (salt, session_id, msg_id, seq_no, message_data_length, then a
// ping#7abe77ec): Node encrypts it as the client's for each runtime to decrypt, and each
// runtime encrypts it as the server's reply for Node to decrypt.
const plaintext = Buffer.alloc(44);
plaintext.writeBigUInt64LE(0x1122334455667788n, 0);
plaintext.writeBigUInt64LE(0x0102030405060708n, 8);
plaintext.writeBigUInt64LE(0x5f5e100000000004n, 16);
plaintext.writeUInt32LE(1, 24);
plaintext.writeUInt32LE(12, 28);
Buffer.from('ec77be7a0102030405060708', 'hex').copy(plaintext, 32);
const readmeKey = new AuthKey(README_KEY);
const clientPacket = Buffer.from(readmeKey.encryptMessage(plaintext, 'client')).toString('hex');

/** What every runtime must report, from published values and node:crypto. */
const expected = {
  sha1Abc: 'a9993e364706816aba3e25717850c26c9cd0d89d', // FIPS 180-4 example, RFC 3174 TEST1
  sha1Empty: 'da39a3ee5e6b4b0d3255bfef95601890afd80709', // SHA-1 of no bytes
  sha1TwoBlock: '84983e441c3bd26ebaae4aa1f95129e5e54670f1', // FIPS 180-4 example, RFC 3174 TEST2
  sha1Million: '34aa973cd4c4daa4f61eeb2bdbad27316534016f', // one million 'a', RFC 3174 TEST3
  id: '3fed0d7b842de014', // README
  auxHash: '321c4b7404ac1d90', // README
  // auth_key_id on the wire: the last 8 bytes of the key's SHA-1, as node:crypto computes it.
  idBytes: createHash('sha1').update(readmeKeyBytes).digest().subarray(12).toString('hex'),
  usage: { value: true, hash: '321c4b7404ac1d90832daca83fed0d7b842de014', peeked: true, shown: 'AuthKey(id=0x3fed0d7b842de014)' },
  decrypted: plaintext.toString('hex'),
  managerDecrypted: plaintext.toString('hex'),
  tampered: 'MessageRejected',
};

type Report = typeof expected & { runtime: string; reply: string };

/** Checks one runtime's report; its reply must decrypt in Node to the plaintext. */
function expectGood(report: Report, where: string): void {
  const { runtime, reply, ...rest } = report;
  expect(rest, where).toEqual(expected);
  expect(typeof runtime, where).toBe('string');
  expect(Buffer.from(readmeKey.decryptMessage(Buffer.from(reply, 'hex'), 'server')).toString('hex'), `${where}: its reply, decrypted by Node`).toBe(
    plaintext.toString('hex'),
  );
  console.log(`${where}: ${runtime}`);
}

/** The binary of a devDependency, or a failure that says how to get it. */
function devBinary(name: string): string {
  const path = bin(name);
  if (!existsSync(path)) throw new Error(`${name} is not installed: run \`npm ci\` (the ${name} devDependency carries its ${name} binary)`);
  return path;
}

/**
 * Chromium's path ($CHROMIUM when set, else `chromium` or `chromium-browser` on PATH, as
 * scripts/ensure-test-deps.mjs looks for it), or a failure that says how to install it.
 */
function chromiumPath(): string {
  const chosen = process.env.CHROMIUM;
  if (chosen !== undefined && chosen !== '') {
    if (!existsSync(chosen)) throw new Error(`CHROMIUM=${chosen}: no such file`);
    return chosen;
  }
  const found = ['chromium', 'chromium-browser']
    .flatMap((name) => (process.env.PATH ?? '').split(delimiter).map((dir) => (dir === '' ? '' : join(dir, name))))
    .find((p) => p !== '' && existsSync(p));
  if (found === undefined)
    throw new Error(
      "Chromium is not installed: install Debian's chromium (`apt-get install -y chromium`; `npm test` does it when run as root), or set CHROMIUM to its path",
    );
  return found;
}

/** Runs a script in the consumer project and parses the JSON line it prints. */
async function runScript(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Report> {
  const { stdout } = await execFileAsync(cmd, args, { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 60_000, maxBuffer: 1 << 20 });
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Report;
}

describe('the packed package in every runtime', () => {
  let dir: string;
  let consumer: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mtproto-authkey-runtimes-'));
    await execFileAsync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: root });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    consumer = join(dir, 'consumer');
    mkdirSync(consumer);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    await execFileAsync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, tarball)], { cwd: consumer });
    cpSync(join(root, 'test/runtimes'), consumer, { recursive: true });
    writeFileSync(join(consumer, 'input.mjs'), `export const input = ${JSON.stringify({ packet: clientPacket, data: plaintext.toString('hex') })};\n`);
  }, 120_000);

  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('Node, as an ES module', async () => {
    expectGood(await runScript(process.execPath, ['main.mjs'], consumer), 'node (import)');
  });

  it('Node, through require()', async () => {
    expectGood(await runScript(process.execPath, ['main.cjs'], consumer), 'node (require)');
  });

  it('Bun, as an ES module and through require()', async () => {
    const bun = devBinary('bun');
    // DO_NOT_TRACK: no crash reports or usage data leave the machine.
    const env = { DO_NOT_TRACK: '1', BUN_INSTALL_CACHE_DIR: join(dir, 'bun-cache') };
    expectGood(await runScript(bun, ['main.mjs'], consumer, env), 'bun (import)');
    expectGood(await runScript(bun, ['main.cjs'], consumer, env), 'bun (require)');
  });

  it('Deno, as an ES module from node_modules', async () => {
    const deno = devBinary('deno');
    // The package comes from the consumer's node_modules; Deno fetches nothing and asks nothing.
    const env = { DENO_DIR: join(dir, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1' };
    expectGood(await runScript(deno, ['run', '--no-prompt', '--cached-only', 'main.mjs'], consumer, env), 'deno');
  });

  it('headless Chromium: a page bundled with esbuild (init(), synchronous first use, a refused synchronous compile) and a Web Worker', async () => {
    const chromium = chromiumPath();
    const site = join(consumer, 'site');
    mkdirSync(site);
    await build({
      entryPoints: { frame: join(consumer, 'browser/frame.mjs'), worker: join(consumer, 'browser/worker.mjs') },
      absWorkingDir: consumer,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      outdir: site,
      logLevel: 'silent',
    });
    for (const page of ['index.html', 'frame.html']) cpSync(join(consumer, 'browser', page), join(site, page));

    let deliver!: (body: string) => void;
    const posted = new Promise<string>((resolve) => (deliver = resolve));
    const server = createServer((req, res) => {
      if (req.method === 'POST' && req.url === '/results') {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          res.end('ok');
          deliver(body);
        });
        return;
      }
      const name = (req.url ?? '/').split('?')[0].replace(/^\/+/, '') || 'index.html';
      const path = join(site, name);
      if (!/^[a-z]+\.(html|js)$/.test(name) || !existsSync(path)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': extname(name) === '.html' ? 'text/html; charset=utf-8' : 'text/javascript' }).end(readFileSync(path));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

    // Its own process group, so that the browser and every helper process it starts end together.
    const browser = spawn(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${join(dir, 'chromium-profile')}`,
        url,
      ],
      { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    browser.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const exited = new Promise<void>((resolve) => browser.on('exit', () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    let body: string;
    try {
      body = await Promise.race([
        posted,
        exited.then(() => Promise.reject(new Error(`Chromium exited before the page reported:\n${stderr}`))),
        new Promise<never>(
          (_, reject) => (timer = setTimeout(() => reject(new Error(`no report from the page within 45 s; Chromium said:\n${stderr}`)), 45_000)),
        ),
      ]);
    } finally {
      clearTimeout(timer);
      try {
        process.kill(-browser.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      await exited;
      await new Promise((resolve) => server.close(resolve));
    }

    const reports = JSON.parse(body) as Array<{
      mode: string;
      error?: string;
      result?: Report;
      refusal?: { name: string; message: string; cause: string | null } | null;
      wasRefused?: number;
    }>;
    expect(reports.map((r) => r.mode)).toEqual(['init', 'sync', 'refused', 'worker']);
    for (const report of reports) {
      expect(report.error, `${report.mode}: no error`).toBeUndefined();
      expectGood(report.result!, `chromium ${report.mode === 'worker' ? 'Web Worker' : `main thread (${report.mode})`}`);
    }
    // Where synchronous compilation is refused, the first call says what to do, with the
    // browser's own error as the cause, and init() then loads the core all the same.
    const refused = reports[2];
    expect(refused.wasRefused).toBeGreaterThan(0);
    expect(refused.refusal).toEqual({
      name: 'Error',
      message: expect.stringContaining('call `await init()`'),
      cause: expect.stringMatching(/^RangeError: WebAssembly\.Compile is disallowed on the main thread/),
    });
  }, 60_000);
});
