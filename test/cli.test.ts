/**
 * The `mtproto-authkey` command, end to end: `node dist/cli/main.js` (built by `npm test`'s
 * pretest) spawned as a process, against the Redis servers of test/setup/redis.ts (and one of its
 * own, reached through a proxy in this process where a test stalls or cuts the connection at an
 * event). Every byte the command prints is kept, and the last test checks that none of it is key
 * material, a secret or a passphrase used here.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { type AddressInfo, type Socket, createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthKey } from '../src/index.ts';
import { RedisAuthKeyManager } from '../src/redis.ts';
import { clusterNodes, connect, dropPrefix, redisServerAvailable, redisUrl, uniquePrefix } from './redis-helpers.ts';
import { freePort, startRedisServer } from '../support/redis-server.ts';
import { progress } from '../src/cli/progress.ts';
import { Redactor, describeFailure } from '../src/cli/exit.ts';
import { openStore } from '../src/cli/commands/store.ts';
import { main } from '../src/cli/main.ts';
import { exportKeys } from '../src/dump.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(root, 'dist/cli/main.js');
const work = mkdtempSync(join(tmpdir(), 'mtproto-authkey-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Everything the command printed (stdout and stderr as text), for the leak check at the end. */
const printed: string[] = [];
/** Key hex of every key these tests made, and every secret and passphrase given to the command. */
const keyHexes: string[] = [];
const secretTexts: string[] = [];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as bytes (a dump written to `-`). */
  stdoutBytes: Buffer;
}

interface RunOptions {
  env?: Record<string, string>;
  /** Written to stdin, which is then closed (else stdin is empty). */
  input?: string | Buffer;
  /** Called with the child and stderr so far, on each stderr chunk. */
  onStderr?: (child: ChildProcess, stderr: string) => void;
  /** The program to run instead of `node MAIN`. */
  command?: string[];
  /** Closes the read end of stdout at its first bytes, as `| head -c 1` does. */
  closeStdout?: boolean;
}

/** Runs the command with a clean environment (PATH only, plus `env`). */
function cli(args: string[], options: RunOptions = {}): Promise<Result> {
  const [program, ...prefix] = options.command ?? [process.execPath, MAIN];
  const child = spawn(program, [...prefix, ...args], {
    env: { PATH: `${dirname(process.execPath)}:${process.env.PATH}`, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    out.push(chunk);
    if (options.closeStdout) child.stdout!.destroy();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    options.onStderr?.(child, stderr);
  });
  child.stdin!.on('error', () => undefined);
  child.stdin!.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const stdoutBytes = Buffer.concat(out);
      const stdout = stdoutBytes.toString('utf8');
      printed.push(stderr);
      // A dump on stdout is binary (and encrypted); its bytes are checked separately.
      if (!args.includes('export') || !args.includes('-')) printed.push(stdout);
      resolve({ code, stdout, stderr, stdoutBytes });
    });
  });
}

/** `keys` as a dump made by the library (for costs and streams the command does not make). */
async function dumpOf(keys: readonly AuthKey[], secret: { passphrase: string; scrypt: { N: number; r: number; p: number } }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  await exportKeys(
    keys.map((key) => ({ key })),
    sink,
    secret,
  );
  return Buffer.concat(chunks);
}

/** Runs the command in this process with `stdin` (a stream a child process cannot give, one that fails, say). */
async function inProcess(args: string[], stdin: Readable, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (text) => void (stdout += String(text)) },
    stderr: { write: (text) => void (stderr += String(text)) },
    stdin,
    env,
    redactor: new Redactor(),
    signal: new AbortController().signal,
  });
  printed.push(stdout, stderr);
  return { code, stdout, stderr };
}

/** A TCP proxy of this process's in front of a Redis server: a stall or a break only the command's connection sees. */
interface RedisProxy {
  /** `redis://` address of the proxy. */
  url: string;
  /** Forwards nothing more, either way, until `release()`. */
  hold(): void;
  /** Forwards what was held, and everything after it. */
  release(): void;
  /** Closes every connection and refuses new ones: the server is gone, as far as the command can tell. */
  cut(): void;
  close(): Promise<void>;
}

/**
 * A proxy to the Redis server at `target`. The command goes only as fast as this process
 * forwards its commands and replies, so a test that holds the proxy on an event (the command's
 * first progress line) stops the command there however fast or busy the machine is.
 */
async function redisProxy(target: string): Promise<RedisProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let held: Array<() => void> | undefined;
  const forward = (from: Socket, to: Socket) =>
    from.on('data', (chunk: Buffer) => {
      if (held === undefined) to.write(chunk);
      else held.push(() => to.write(chunk));
    });
  const server = createServer((client) => {
    const upstream = tcpConnect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cut = () => {
    server.close();
    for (const socket of sockets) socket.destroy();
  };
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold: () => void (held ??= []),
    release: () => {
      const waiting = held ?? [];
      held = undefined;
      for (const send of waiting) send();
    },
    cut,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The one JSON document on stdout. */
function json(result: Result): Record<string, any> {
  return JSON.parse(result.stdout) as Record<string, any>;
}

const hex16 = (id: bigint) => id.toString(16).padStart(16, '0');

/** `n` random keys (a few expiring) stored under `prefix` by a manager with `encryption`. */
async function seed(
  client: Redis | Cluster,
  prefix: string,
  n: number,
  encryption?: { secrets: Record<number, Uint8Array>; current: number },
  expiring = 0,
): Promise<AuthKey[]> {
  const keys = AuthKey.many(Array.from({ length: n }, () => randomBytes(256)));
  for (const k of keys) keyHexes.push(Buffer.from(k.bytes).toString('hex'));
  const manager = new RedisAuthKeyManager({ client, prefix, encryption, timeoutMs: 10_000 });
  const at = Date.now() + 3_600_000;
  await Promise.all(keys.map((k, i) => manager.setKey(k, i < expiring ? { expiresAt: at + i } : undefined)));
  await manager.close();
  return keys;
}

/** At-rest secrets as MTPROTO_AUTHKEY_SECRETS text, remembered for the leak check. */
function secretsEnv(secrets: Record<number, Uint8Array>): string {
  for (const s of Object.values(secrets)) secretTexts.push(Buffer.from(s).toString('hex'));
  return Object.entries(secrets)
    .map(([v, s]) => `${v}:${Buffer.from(s).toString('hex')}`)
    .join(',');
}

function passphrase(): string {
  const p = `pass-${randomBytes(12).toString('base64url')}`;
  secretTexts.push(p);
  return p;
}

// The README's key (examples/usage.ts); its hashes were computed with Python's hashlib.
const README_KEY_HEX =
  '06d9975017ca9c51630d28f74a1b7ac12cd9021b7be10379fbc81d0bdf00fb95086f15b1f2de70130c51dcab2fca8e8f8d06188ba9456e09e7a3fc5cd96bed72659b3ed7816a035bb4727b12eaa3a95f970cbbf9cca25f60add99b594189cc53dbf4c63b431b87c79cefae83919d9788e59ba4db460e154347e9aeed598b86de41b0ddd8d2e5cf5d03537b9001e37101f7fdde46e208c712b8ee753c81776f037cc45deb4875c9ce1460c68bf340e92b10042c1c368a34c43dc948a5aaa8190dfad6a0c2b863b770fe6c0478f3f1462125247bdb7c0e92333cb35ee405ff3cec72c48ce14709731f2db05c9e68bda5953916f5e89071edad84c49502cda2bb17';
keyHexes.push(README_KEY_HEX);
// A key whose id has the top bit set in both byte orders (negative as signed integers): SHA-512 of
// "mtproto-authkey cli vector 0" four times over. Expected values from Python's hashlib:
// id bytes fe3144b0f6dd56f6, big-endian 18316496686339151606 / -130247387370400010, read
// little-endian (the TL long) -696125040793210370 / 17750619032916341246, aux_hash 5cbea488108232f1.
const NEGATIVE_KEY_HEX = createHash('sha512').update('mtproto-authkey cli vector 0').digest('hex').repeat(4);
keyHexes.push(NEGATIVE_KEY_HEX);

describe('cli: help, usage, inspect', () => {
  it('prints the program help with every command, the environment and the exit codes', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['inspect <hex | ->', 'redis stats', 'redis verify', 'redis reseal', 'redis export <file | ->', 'redis import <file | ->'])
      expect(r.stdout).toContain(c);
    for (const v of ['REDIS_URL', 'MTPROTO_AUTHKEY_SECRETS', 'MTPROTO_AUTHKEY_CURRENT', 'MTPROTO_AUTHKEY_PASSPHRASE']) expect(r.stdout).toContain(v);
    expect(r.stdout).toMatch(/^ {2}130 +interrupted/m);
    expect((await cli(['-h'])).stdout).toBe(r.stdout);
    expect((await cli(['help'])).stdout).toBe(r.stdout);
    // No command at all: the help, as a usage error on stderr.
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toBe(r.stdout);
  });

  it('prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const r = await cli(['--version']);
    expect([r.code, r.stdout]).toEqual([0, `${version}\n`]);
  });

  it.each([['inspect'], ['redis', 'stats'], ['redis', 'verify'], ['redis', 'reseal'], ['redis', 'export'], ['redis', 'import']])(
    'prints the help of %s %s',
    async (...name) => {
      const words = name.filter((w) => w !== undefined);
      for (const args of [
        [...words, '--help'],
        [...words, '-h'],
        ['help', ...words],
      ]) {
        const r = await cli(args);
        expect(r.code, args.join(' ')).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`^Usage: mtproto-authkey ${words.join(' ')}`));
        expect(r.stdout).toContain('Exit codes:');
        expect(r.stdout).toContain('--json');
      }
    },
  );

  it.each([
    [['frobnicate'], /unknown command/],
    [['redis'], /'redis' needs a command/],
    [['redis', 'frob'], /unknown command 'redis …'/],
    [['inspect'], /'inspect' expects <hex \| ->; got none/],
    [['inspect', '-', 'x'], /got 2 arguments/],
    [['redis', 'stats', 'extra'], /expects no argument; got 1 arguments/],
    [['redis', 'stats', '--bogus'], /unknown option --bogus for 'redis stats'/],
    [['redis', 'stats', '-x'], /unknown option -x for 'redis stats'/],
    [['redis', 'stats', '--url'], /option --url needs a value <url>/],
    [['redis', 'stats', '--url', '--json'], /option --url needs a value/],
    [['redis', 'stats', '--json=yes'], /option --json takes no value/],
    [['redis', 'stats', '--timeout-ms', '0'], /--timeout-ms: expected a whole number in \[1, 2147483647\]/],
    [['redis', 'stats', '--batch', '100001'], /--batch: expected a whole number in \[1, 100000\]/],
    [['redis', 'stats', '--prefix', 'a', '--prefix', 'b'], /--prefix given more than once/],
    [['redis', 'stats', '--url', 'http://127.0.0.1:1'], /expected a redis:\/\/ or rediss:\/\/ URL/],
    [['redis', 'stats', '--url', 'redis://127.0.0.1:1', '--url', 'redis://127.0.0.1:2'], /add --cluster/],
    [['redis', 'import', 'x.dump', '--on-collision', 'maybe'], /--on-collision: expected skip or fail/],
    [['redis', 'reseal', '--url', 'redis://127.0.0.1:1'], /redis reseal needs the at-rest secrets/],
    [['redis', 'export', '-', '--url', 'redis://127.0.0.1:1'], /a dump is always encrypted/],
  ])('usage error (exit 2): %j', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    // With --json on the line, stdout also carries the error as JSON (tested below).
    if (!args.includes('--json')) expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^mtproto-authkey: .*\(see mtproto-authkey[a-z ]* --help\)\n$/);
  });

  it('refuses secrets given as options, without repeating them', async () => {
    const secret = `s3cr3t-${randomBytes(8).toString('hex')}`;
    secretTexts.push(secret);
    for (const args of [
      ['redis', 'export', 'x.dump', '--passphrase', secret],
      ['redis', 'import', 'x.dump', `--passphrase=${secret}`],
      ['redis', 'verify', '--secrets', `1:${secret}`],
      ['redis', 'verify', `--secret=${secret}`],
      ['redis', 'export', 'x.dump', '--dump-secret', secret],
      ['redis', 'stats', '--password', secret],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/is refused: secrets are never taken from the command line/);
      expect(r.stderr + r.stdout).not.toContain(secret);
    }
  });

  it('with --json, a usage error is also one JSON document on stdout', async () => {
    const r = await cli(['redis', 'stats', '--json', '--bogus']);
    expect(r.code).toBe(2);
    expect(json(r)).toEqual({ error: { name: 'UsageError', message: "unknown option --bogus for 'redis stats'", exitCode: 2 } });
  });

  // Regression (issue 18): a passphrase too short to blank from messages was taken (and blanked
  // inside words): refused now, before Redis is asked, with the minimum.
  it('refuses a dump passphrase shorter than 8 characters (exit 2), from the environment or a file', async () => {
    const short = 'open';
    const file = join(work, 'short.pass');
    writeFileSync(file, `${short}567\n`, { mode: 0o600 });
    for (const [args, env] of [
      [['redis', 'export', 'x.dump', '--url', 'redis://127.0.0.1:1'], { MTPROTO_AUTHKEY_PASSPHRASE: short }],
      [['redis', 'import', 'x.dump', '--url', 'redis://127.0.0.1:1'], { MTPROTO_AUTHKEY_PASSPHRASE: short }],
      [['redis', 'import', 'x.dump', '--url', 'redis://127.0.0.1:1', '--passphrase-file', file], {}],
    ] as const) {
      const r = await cli([...args], { env });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^mtproto-authkey: (?:MTPROTO_AUTHKEY_PASSPHRASE|--passphrase-file \S+): a dump passphrase needs at least 8 characters /);
    }
  });

  it("inspects the README's key from stdin: id in both integer forms and wire bytes, aux_hash; never the key", async () => {
    const r = await cli(['inspect', '--json', '-'], { input: `${README_KEY_HEX}\n` });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(json(r)).toEqual({
      command: 'inspect',
      authKeyId: { hex: '0x3fed0d7b842de014', unsigned: '4606352818019622932', signed: '4606352818019622932', wireBytes: '3fed0d7b842de014' },
      tlLong: { signed: '1504252322565188927', unsigned: '1504252322565188927' },
      auxHash: { hex: '0x321c4b7404ac1d90', unsigned: String(0x321c4b7404ac1d90n), bytes: '321c4b7404ac1d90' },
    });
    // Human form: the same values, labelled.
    const human = await cli(['inspect', '-'], { input: `0x${README_KEY_HEX.toUpperCase()}` });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^auth_key_id +0x3fed0d7b842de014$/m);
    expect(human.stdout).toMatch(/^ {2}signed +4606352818019622932$/m);
    expect(human.stdout).toMatch(/^wire bytes +3f ed 0d 7b 84 2d e0 14$/m);
    expect(human.stdout).toMatch(/^aux_hash +0x321c4b7404ac1d90$/m);
  });

  it('inspects a key whose id is negative as a signed integer, in both byte orders', async () => {
    // Line-wrapped hex, as a key might be pasted.
    const wrapped = NEGATIVE_KEY_HEX.replace(/(.{64})/g, '$1\n');
    const r = await cli(['inspect', '--json', '-'], { input: wrapped });
    expect(r.code).toBe(0);
    expect(json(r).authKeyId).toEqual({
      hex: '0xfe3144b0f6dd56f6',
      unsigned: '18316496686339151606',
      signed: '-130247387370400010',
      wireBytes: 'fe3144b0f6dd56f6',
    });
    expect(json(r).tlLong).toEqual({ signed: '-696125040793210370', unsigned: '17750619032916341246' });
    expect(json(r).auxHash.hex).toBe('0x5cbea488108232f1');
  });

  it('inspects a key given as an argument, with a warning that argv is visible to others', async () => {
    const r = await cli(['inspect', README_KEY_HEX]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/0x3fed0d7b842de014/);
    expect(r.stderr).toMatch(/^warning: a key given as an argument is visible to other users \(ps\)/);
    expect((await cli(['inspect', '--quiet', '-'], { input: README_KEY_HEX })).stderr).toBe('');
  });

  it('reads fewer than 512 digits as a number (with a note) and refuses what is not a key, without quoting it', async () => {
    const short = await cli(['inspect', '--json', '-'], { input: README_KEY_HEX.slice(1) });
    expect(short.code).toBe(0);
    expect(json(short).authKeyId.hex).toBe('0x3fed0d7b842de014');
    expect(short.stderr).toMatch(/^note: 511 hex digits read as a number/);
    const long = await cli(['inspect', '-'], { input: `${README_KEY_HEX}0` });
    expect([long.code, long.stderr]).toEqual([
      2,
      'mtproto-authkey: inspect: expected an auth key as 512 hexadecimal digits, got 513 characters (see mtproto-authkey inspect --help)\n',
    ]);
    const bad = await cli(['inspect', '-'], { input: `${README_KEY_HEX.slice(0, 500)}zz` });
    expect(bad.stderr).toContain('got 502 characters with non-hex ones');
    expect(bad.code).toBe(2);
    expect((await cli(['inspect', '-'], { input: '' })).stderr).toContain('got nothing');
    expect((await cli(['inspect', '-'], { input: '0'.repeat(512) })).stderr).toContain('inspect: the key is zero, which is not an auth key');
  });

  describe('installed without ioredis, and through the bin link', () => {
    let copy: string;
    beforeAll(() => {
      // dist/ and package.json alone, as in a package installed without its optional peer.
      copy = join(work, 'installed');
      cpSync(join(root, 'dist'), join(copy, 'dist'), { recursive: true });
      cpSync(join(root, 'package.json'), join(copy, 'package.json'));
      const { bin } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };
      // As npm links a bin: a symlink to the file, made executable.
      mkdirSync(join(copy, 'bin'));
      symlinkSync(join('..', bin['mtproto-authkey']), join(copy, 'bin', 'mtproto-authkey'));
      chmodSync(join(copy, bin['mtproto-authkey']), 0o755);
    });

    it('runs through the bin link (shebang, and the entry check through a symlink)', async () => {
      expect(readFileSync(MAIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
      const r = await cli(['inspect', '--json', '-'], { command: [join(copy, 'bin', 'mtproto-authkey')], input: README_KEY_HEX });
      expect(r.code).toBe(0);
      expect(json(r).authKeyId.hex).toBe('0x3fed0d7b842de014');
    });

    it('inspects without ioredis; the redis commands say it is needed (exit 3)', async () => {
      expect(existsSync(join(copy, 'node_modules'))).toBe(false);
      const r = await cli(['redis', 'stats', '--url', 'redis://127.0.0.1:1'], { command: [process.execPath, join(copy, 'dist/cli/main.js')] });
      expect(r.code).toBe(3);
      expect(r.stderr).toBe(
        'mtproto-authkey: the redis commands need the ioredis package, an optional peer dependency of mtproto-authkey: npm install ioredis\n',
      );
    });
  });
});

describe('cli: progress rendering (fake clock)', () => {
  function render(isTTY: boolean, steps: Array<[at: number, done: number, total?: number]>, endAt: number): string {
    let now = 0;
    let text = '';
    const p = progress({ write: (t) => (text += t), isTTY, columns: 200 }, 'verify', 'keys', () => now);
    for (const [at, done, total] of steps) {
      now = at;
      p.update(done, total);
    }
    now = endAt;
    p.end('done');
    return text;
  }

  it('not a terminal: a first line, then one at each tenth of the total or after a second, never the 100% line, then the end line', () => {
    const text = render(
      false,
      [
        [100, 50, 1000],
        [200, 90, 1000],
        [300, 100, 1000],
        [400, 150, 1000],
        [1500, 160, 1000],
        [1600, 170, 1000],
        [2000, 1000, 1000],
      ],
      2000,
    );
    expect(text.split('\n')).toEqual([
      'verify: 50/1,000 keys  500/s  ETA 1.9 s (5%)',
      'verify: 100/1,000 keys  333/s  ETA 2.7 s (10%)',
      'verify: 160/1,000 keys  107/s  ETA 7.9 s (16%)',
      'verify: done 1,000 keys in 2.0 s (500/s)',
      '',
    ]);
  });

  it('not a terminal, total unknown (or passed): counts and rate only', () => {
    expect(
      render(
        false,
        [
          [1000, 500],
          [2000, 1200, 1000],
        ],
        4000,
      ),
    ).toBe('verify: 500 keys  500/s\nverify: 1,200 keys  600/s\nverify: done 1,200 keys in 4.0 s (300/s)\n');
  });

  it('a terminal: one line redrawn in place (at most every 100 ms) with a bar, then erased for the end line', () => {
    // 50 ms after the first draw is too soon to redraw; 110 ms is not. 60/100 in 160 ms: 375/s, ETA 40/375 s.
    const text = render(
      true,
      [
        [50, 10, 100],
        [100, 50, 100],
        [160, 60, 100],
      ],
      200,
    );
    expect(text).toBe(
      '\rverify [##----------------------]  10%  10/100 keys  200/s  ETA 450 ms\x1b[K' +
        '\rverify [##############----------]  60%  60/100 keys  375/s  ETA 107 ms\x1b[K' +
        '\r\x1b[Kverify: done 60 keys in 200 ms (300/s)\n',
    );
  });
});

describe('cli: messages (in process)', () => {
  // Regression (issue 18): a passphrase was blanked wherever its characters appeared, so "open"
  // turned "cannot open the dump" into "cannot *** the dump".
  it('blanks a secret only as a whole token, and not at all when shorter than 8 characters', () => {
    const redactor = new Redactor();
    redactor.add('passphras');
    redactor.add('open');
    expect(redactor.clean('cannot open the dump: wrong passphrase or secret')).toBe('cannot open the dump: wrong passphrase or secret');
    expect(redactor.clean('passphras')).toBe('***');
    expect(redactor.clean('got "passphras", then passphras.')).toBe('got "***", then ***.');
    expect(redactor.clean('xpassphras passphras_ passphras9 passphrasé')).toBe('xpassphras passphras_ passphras9 passphrasé');
    // The URL form is blanked whatever the password's length.
    expect(redactor.clean('cannot connect to redis://user:pw@host:1')).toBe('cannot connect to redis://***@host:1');
  });

  // Regression (issue 18): ioredis's sentences, which name its options ("enableOfflineQueue"),
  // reached the user as they were. The errors are ioredis's own, made without a server.
  it("words ioredis's failures as the command's own: exit 3, no option names of ioredis", async () => {
    const { Cluster, Redis } = await import('ioredis');
    const port = await freePort();
    const offline = new Redis({ port, lazyConnect: true, enableOfflineQueue: false });
    const closed = new Redis({ port, lazyConnect: true });
    closed.disconnect();
    const cluster = new Cluster([{ host: '127.0.0.1', port }], { lazyConnect: true, enableOfflineQueue: false });
    const errors = await Promise.all(
      [offline.get('x'), closed.get('x'), cluster.get('x')].map((p) =>
        p.then(
          () => new Error('answered'),
          (e: Error) => e,
        ),
      ),
    );
    offline.disconnect();
    cluster.disconnect();
    expect(errors.map((e) => e.message)).toEqual([
      "Stream isn't writeable and enableOfflineQueue options is false",
      'Connection is closed.',
      "Cluster isn't ready and enableOfflineQueue options is false",
    ]);
    const signal = new AbortController().signal;
    for (const error of errors) {
      // As it reaches the command: itself, or inside the manager's error.
      const wrapped = Object.assign(new Error(`auth key store unavailable: getKey: ${error.message}`), { name: 'AuthKeyStoreUnavailable' });
      for (const failure of [describeFailure(error, signal), describeFailure(wrapped, signal)]) {
        expect(failure.exitCode).toBe(3);
        expect(failure.message).toMatch(/the connection to (?:Redis|the Redis Cluster) /);
        expect(failure.message).not.toMatch(/enableOfflineQueue|isn't writeable|Connection is closed/);
      }
    }
  });
});

describe('cli: Redis unreachable', () => {
  it('exits 3 with one line naming the server, its password blanked', async () => {
    const port = await freePort();
    const password = `pw-${randomBytes(6).toString('hex')}`;
    secretTexts.push(password);
    const r = await cli(['redis', 'stats', '--url', `redis://user:${password}@127.0.0.1:${port}`]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(`mtproto-authkey: cannot connect to redis://***@127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`);
    const viaEnv = await cli(['redis', 'verify', '--json'], { env: { REDIS_URL: `redis://:${password}@127.0.0.1:${port}` } });
    expect(viaEnv.code).toBe(3);
    expect(json(viaEnv).error.exitCode).toBe(3);
    expect(viaEnv.stderr + viaEnv.stdout).not.toContain(password);
  });

  it('a URL whose user name or password is not valid percent-encoding is a usage error (exit 2), the password not repeated', async () => {
    const password = `%zz${randomBytes(6).toString('hex')}`;
    secretTexts.push(password);
    const r = await cli(['redis', 'stats', '--url', `redis://user:${password}@127.0.0.1:1`]);
    expect([r.code, r.stderr]).toEqual([
      2,
      'mtproto-authkey: --url: the password is not valid percent-encoding (write % as %25) (see mtproto-authkey redis stats --help)\n',
    ]);
    const cluster = await cli(['redis', 'verify', '--cluster', '--url', 'redis://%zz@127.0.0.1:1']);
    expect([cluster.code, cluster.stderr]).toEqual([
      2,
      'mtproto-authkey: --url: the user name is not valid percent-encoding (write % as %25) (see mtproto-authkey redis verify --help)\n',
    ]);
  });

  it('the at-rest secrets read for the store are wiped when it cannot be reached', async () => {
    const port = await freePort();
    const secrets = { 1: new Uint8Array(randomBytes(32)), 2: new Uint8Array(randomBytes(32)) };
    const address = { urls: [`redis://127.0.0.1:${port}`], cluster: false, prefix: 'authkey:', timeoutMs: 1000, batch: undefined };
    await expect(openStore(address, { secrets, current: 2 })).rejects.toMatchObject({ name: 'CliError', exitCode: 3 });
    expect(Object.values(secrets).every((s) => s.every((b) => b === 0))).toBe(true);
  });
});

describe.skipIf(!redisUrl)('cli: Redis standalone', () => {
  let client: Redis | Cluster;
  const prefixes: string[] = [];
  const fresh = () => {
    const p = uniquePrefix();
    prefixes.push(p);
    return p;
  };
  const base = () => ['--url', redisUrl];
  beforeAll(() => {
    client = connect('standalone');
  });
  afterAll(async () => {
    for (const p of prefixes) await dropPrefix(client, p);
    await client.quit();
  });

  it('stats: counts keys, expiring, raw and sealed by version, and others; opens nothing, needs no secret', async () => {
    const prefix = fresh();
    const s1 = randomBytes(32);
    const s2 = randomBytes(32);
    secretsEnv({ 1: s1, 2: s2 });
    await seed(client, prefix, 30, undefined, 5);
    await seed(client, prefix, 20, { secrets: { 1: s1 }, current: 1 }, 3);
    await seed(client, prefix, 10, { secrets: { 1: s1, 2: s2 }, current: 2 });
    // Not keys: a short value, a hash, and a name that is not prefix + 16 hex digits (not counted).
    await client.set(`${prefix}00000000000000aa`, 'short');
    await client.hset(`${prefix}00000000000000bb`, 'f', 'v');
    await client.set(`${prefix}not-an-id`, randomBytes(256));
    const r = await cli(['redis', 'stats', ...base(), '--prefix', prefix, '--json']);
    expect(r.code).toBe(0);
    expect(json(r)).toEqual({ command: 'redis stats', prefix, keys: 62, expiring: 8, raw: 30, sealed: { 1: 20, 2: 10 }, other: 2 });
    const human = await cli(['redis', 'stats', ...base(), '--prefix', prefix, '--quiet']);
    expect(human.stdout).toMatch(/^sealed \(285 bytes\) +30 \(version 1: 20, version 2: 10\)$/m);
    expect(human.stderr).toBe('');
  });

  it('verify: finds exactly the tampered values (exit 1), with plain progress lines on stderr when not a terminal', async () => {
    const prefix = fresh();
    const secret = randomBytes(32);
    const env = { MTPROTO_AUTHKEY_SECRETS: secretsEnv({ 7: secret }) };
    const keys = await seed(client, prefix, 2000, { secrets: { 7: secret }, current: 7 }, 100);
    const clean = await cli(['redis', 'verify', ...base(), '--prefix', prefix, '--json', '--batch', '100'], { env });
    expect(clean.code).toBe(0);
    expect(json(clean)).toEqual({
      command: 'redis verify',
      prefix,
      scanned: 2000,
      ok: 2000,
      corrupted: 0,
      corruptedIds: [],
      raw: 0,
      sealed: { 7: 2000 },
      expiring: 100,
    });
    // Plain lines at each tenth (the total is an estimate: DBSIZE of the whole server), then the end line.
    expect(clean.stderr).toMatch(/^verify: [\d,]+(?:\/[\d,]+)? keys {2}[\d,]+\/s/m);
    expect(clean.stderr).toMatch(/^verify: done 2,000 keys in [^\n]+ \([\d,]+\/s\)\n$/m);
    expect(clean.stderr).not.toContain('\r');

    // Tamper with 7 values: a flipped bit, truncated, another id's sealed value, raw bytes of another key, a list.
    const tampered = keys.slice(0, 7).map((k) => k.id);
    const name = (id: bigint) => `${prefix}${hex16(id)}`;
    const v0 = (await client.getBuffer(name(tampered[0])))!;
    v0[100] ^= 1;
    await client.set(name(tampered[0]), v0);
    await client.set(name(tampered[1]), v0.subarray(0, 200));
    await client.set(name(tampered[2]), (await client.getBuffer(name(keys[10].id)))!);
    await client.set(name(tampered[3]), Buffer.from(keys[11].bytes));
    await client.set(name(tampered[4]), randomBytes(285));
    await client.set(name(tampered[5]), '');
    await client.del(name(tampered[6]));
    await client.rpush(name(tampered[6]), 'x');
    const found = await cli(['redis', 'verify', ...base(), '--prefix', prefix, '--json', '--quiet'], { env });
    expect(found.code).toBe(1);
    const report = json(found);
    expect([...report.corruptedIds].sort()).toEqual(tampered.map(hex16).sort());
    expect([report.scanned, report.ok, report.corrupted]).toEqual([2000, 1993, 7]);
    const human = await cli(['redis', 'verify', ...base(), '--prefix', prefix, '--quiet'], { env });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^corrupted +7$/m);
    for (const id of tampered) expect(human.stdout).toContain(`    ${hex16(id)}\n`);
    // Without the secrets every sealed value counts as corrupted, and the report says why.
    const noSecrets = await cli(['redis', 'verify', ...base(), '--prefix', prefix, '--quiet']);
    expect(noSecrets.code).toBe(1);
    expect(noSecrets.stdout).toMatch(/^corrupted +2,000$/m);
    expect(noSecrets.stdout).toContain('note: no at-rest secrets were given');
  });

  it('reseal: after a rotation every value is on the current version (sealed or raw before), expiry kept; a second run has nothing to do', async () => {
    const prefix = fresh();
    const s1 = randomBytes(32);
    const s2 = randomBytes(32);
    const keys = [...(await seed(client, prefix, 300, { secrets: { 1: s1 }, current: 1 }, 50)), ...(await seed(client, prefix, 100))];
    const expiryBefore = await client.pexpiretime(`${prefix}${hex16(keys[0].id)}`);
    const env = { MTPROTO_AUTHKEY_SECRETS: secretsEnv({ 1: s1, 2: s2 }), MTPROTO_AUTHKEY_CURRENT: '2' };
    const r = await cli(['redis', 'reseal', ...base(), '--prefix', prefix, '--json', '--quiet'], { env });
    expect(r.code).toBe(0);
    expect(json(r)).toEqual({
      command: 'redis reseal',
      prefix,
      current: 2,
      scanned: 400,
      resealed: 400,
      alreadyCurrent: 0,
      changed: 0,
      corrupted: 0,
      corruptedIds: [],
    });
    expect(await client.pexpiretime(`${prefix}${hex16(keys[0].id)}`)).toBe(expiryBefore);
    const verified = await cli(['redis', 'verify', ...base(), '--prefix', prefix, '--json', '--quiet'], { env });
    expect([verified.code, json(verified).sealed, json(verified).expiring]).toEqual([0, { 2: 400 }, 50]);
    const again = await cli(['redis', 'reseal', ...base(), '--prefix', prefix, '--json', '--quiet'], { env });
    expect([again.code, json(again).resealed, json(again).alreadyCurrent]).toEqual([0, 0, 400]);
    // Every key still reads back as itself, with only the current secret.
    const manager = new RedisAuthKeyManager({ client, prefix, encryption: { secrets: { 2: s2 }, current: 2 } });
    for (const k of keys.slice(0, 20)) expect((await manager.getKey(k.id)).equals(k)).toBe(true);
    await manager.close();
    // --current names the version instead of the environment.
    const flag = await cli(['redis', 'reseal', ...base(), '--prefix', prefix, '--json', '--quiet', '--current', '1'], {
      env: { MTPROTO_AUTHKEY_SECRETS: env.MTPROTO_AUTHKEY_SECRETS },
    });
    expect([flag.code, json(flag).resealed]).toEqual([0, 400]);
  });

  it('reads at-rest secrets from --secrets-file (text or JSON), warns when others may read it, refuses malformed ones without quoting them', async () => {
    const prefix = fresh();
    const secret = randomBytes(32);
    const hex = secretsEnv({ 3: secret }).slice(2);
    await seed(client, prefix, 10, { secrets: { 3: secret }, current: 3 });
    const text = join(work, 'secrets.txt');
    writeFileSync(text, `# at-rest secrets\n3:${hex}\n`, { mode: 0o600 });
    const ok = await cli(['redis', 'verify', ...base(), '--prefix', prefix, '--json', '--secrets-file', text]);
    expect([ok.code, json(ok).sealed, ok.stderr.includes('warning')]).toEqual([0, { 3: 10 }, false]);
    const file = join(work, 'secrets.json');
    writeFileSync(file, JSON.stringify({ secrets: { 3: hex }, current: 3 }), { mode: 0o644 });
    chmodSync(file, 0o644);
    const open = await cli(['redis', 'verify', ...base(), '--prefix', prefix, '--json', '--secrets-file', file]);
    expect([open.code, json(open).sealed]).toEqual([0, { 3: 10 }]);
    expect(open.stderr).toContain(`warning: ${file} can be read by other users (mode 644); chmod 600 it`);
    for (const [content, message] of [
      [`3:${hex.slice(1)}`, 'entry 1: expected 64 hexadecimal digits (32 bytes) after the version, got 63 characters'],
      [`3:${hex}\n4:${hex.slice(0, 60)}zzzz`, 'entry 2: expected 64 hexadecimal digits (32 bytes) after the version, got 64 characters with non-hex ones'],
      [`1:${hex},2:${hex}`, 'lists versions 1, 2: say which one seals'],
      [`{"secrets": {"3": "${hex}"}, `, 'not valid JSON'],
      [`x${hex}`, 'entry 1: expected <version>:<64 hex digits>'],
    ]) {
      writeFileSync(text, content);
      const bad = await cli(['redis', 'verify', ...base(), '--prefix', prefix, '--secrets-file', text]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(message);
    }
    const missing = await cli(['redis', 'verify', ...base(), '--secrets-file', join(work, 'no-such-file')]);
    expect([missing.code, missing.stderr]).toEqual([
      2,
      `mtproto-authkey: cannot read ${join(work, 'no-such-file')}: ENOENT (see mtproto-authkey redis verify --help)\n`,
    ]);
  });

  it('export → import: every key with its expiry, into another prefix; again: unchanged; a wrong passphrase imports nothing (exit 4)', async () => {
    const from = fresh();
    const to = fresh();
    const keys = await seed(client, from, 1500, undefined, 200);
    const pass = passphrase();
    const file = join(work, 'keys.dump');
    const exported = await cli(['redis', 'export', file, ...base(), '--prefix', from, '--json'], { env: { MTPROTO_AUTHKEY_PASSPHRASE: pass } });
    expect(exported.code).toBe(0);
    expect(json(exported)).toEqual({ command: 'redis export', prefix: from, file, exported: 1500, skipped: 0, skippedIds: [] });
    expect(exported.stderr).toMatch(/^export: done 1,500 keys/m);
    expect(exported.stderr).not.toContain('warning');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const dump = readFileSync(file);
    for (const k of keys.slice(0, 50)) expect(dump.includes(Buffer.from(k.bytes).subarray(0, 16))).toBe(false);
    // An existing file is kept unless --force.
    const kept = await cli(['redis', 'export', file, ...base(), '--prefix', from], { env: { MTPROTO_AUTHKEY_PASSPHRASE: pass } });
    expect([kept.code, kept.stderr]).toEqual([
      2,
      `mtproto-authkey: redis export: ${file} exists; add --force to replace it (see mtproto-authkey redis export --help)\n`,
    ]);

    const wrong = await cli(['redis', 'import', file, ...base(), '--prefix', to, '--json'], { env: { MTPROTO_AUTHKEY_PASSPHRASE: passphrase() } });
    expect(wrong.code).toBe(4);
    expect(json(wrong).error).toMatchObject({ name: 'DumpDecryptionFailed', exitCode: 4 });
    expect(wrong.stderr).toMatch(/^mtproto-authkey: cannot open the dump: wrong passphrase or secret/);
    expect(await client.exists(...keys.slice(0, 10).map((k) => `${to}${hex16(k.id)}`))).toBe(0);

    const imported = await cli(['redis', 'import', file, ...base(), '--prefix', to, '--json'], { env: { MTPROTO_AUTHKEY_PASSPHRASE: pass } });
    expect(imported.code).toBe(0);
    expect(json(imported)).toEqual({
      command: 'redis import',
      prefix: to,
      file,
      records: 1500,
      imported: 1500,
      unchanged: 0,
      expired: 0,
      collisions: 0,
      collisionIds: [],
      collisionReasons: [],
      corrupted: 0,
    });
    for (const k of keys.slice(0, 250)) {
      const [a, b] = await Promise.all([client.pexpiretime(`${from}${hex16(k.id)}`), client.pexpiretime(`${to}${hex16(k.id)}`)]);
      expect(b).toBe(a);
    }
    const verified = await cli(['redis', 'verify', ...base(), '--prefix', to, '--json', '--quiet']);
    expect([verified.code, json(verified).ok, json(verified).expiring]).toEqual([0, 1500, 200]);
    const again = await cli(['redis', 'import', file, ...base(), '--prefix', to, '--json', '--quiet'], { env: { MTPROTO_AUTHKEY_PASSPHRASE: pass } });
    expect([again.code, json(again).unchanged, json(again).imported]).toEqual([0, 1500, 0]);
  });

  it('export to stdout and import from stdin, sealed at rest on both sides, with a 32-byte dump secret from a file', async () => {
    const from = fresh();
    const to = fresh();
    const s1 = randomBytes(32);
    const s2 = randomBytes(32);
    await seed(client, from, 300, { secrets: { 1: s1 }, current: 1 });
    const dumpSecret = join(work, 'dump.secret');
    const secretHex = randomBytes(32).toString('hex');
    secretTexts.push(secretHex);
    writeFileSync(dumpSecret, `${secretHex}\n`, { mode: 0o600 });
    const out = await cli(['redis', 'export', '-', ...base(), '--prefix', from, '--dump-secret-file', dumpSecret, '--json'], {
      env: { MTPROTO_AUTHKEY_SECRETS: secretsEnv({ 1: s1 }) },
    });
    expect(out.code).toBe(0);
    // The report goes to stderr: stdout is the dump.
    const report = JSON.parse(
      out.stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .pop()!,
    ) as Record<string, unknown>;
    expect(report).toMatchObject({ command: 'redis export', file: '-', exported: 300, skipped: 0 });
    expect(out.stdoutBytes.length).toBeGreaterThan(300 * 256);
    const back = await cli(['redis', 'import', '-', ...base(), '--prefix', to, '--dump-secret-file', dumpSecret, '--json', '--quiet'], {
      env: { MTPROTO_AUTHKEY_SECRETS: secretsEnv({ 2: s2 }) },
      input: out.stdoutBytes,
    });
    expect([back.code, json(back).imported]).toEqual([0, 300]);
    const verified = await cli(['redis', 'verify', ...base(), '--prefix', to, '--json', '--quiet'], {
      env: { MTPROTO_AUTHKEY_SECRETS: secretsEnv({ 2: s2 }) },
    });
    expect([verified.code, json(verified).sealed]).toEqual([0, { 2: 300 }]);
    // The same dump, the secret as 32 raw bytes.
    writeFileSync(dumpSecret, Buffer.from(secretHex, 'hex'));
    const raw = await cli(['redis', 'import', '-', ...base(), '--prefix', to, '--dump-secret-file', dumpSecret, '--json', '--quiet'], {
      env: { MTPROTO_AUTHKEY_SECRETS: secretsEnv({ 2: s2 }) },
      input: out.stdoutBytes,
    });
    expect([raw.code, json(raw).unchanged]).toEqual([0, 300]);
  });

  it('import reports damaged records (exit 1) and a truncated dump (exit 4, with what was imported)', async () => {
    const from = fresh();
    await seed(client, from, 400);
    const pass = passphrase();
    const passFile = join(work, 'pass.txt');
    writeFileSync(passFile, `${pass}\n`, { mode: 0o600 });
    const file = join(work, 'damaged.dump');
    const exported = await cli(['redis', 'export', file, ...base(), '--prefix', from, '--passphrase-file', passFile, '--quiet']);
    expect(exported.code).toBe(0);
    const dump = readFileSync(file);
    // A byte in the middle of the dump: inside one record.
    const damaged = Buffer.from(dump);
    damaged[Math.floor(damaged.length / 2)] ^= 0x40;
    writeFileSync(file, damaged);
    const one = await cli(['redis', 'import', file, ...base(), '--prefix', fresh(), '--passphrase-file', passFile, '--json', '--quiet']);
    expect(one.code).toBe(1);
    expect(json(one)).toMatchObject({ records: 400, imported: 399, corrupted: 1 });
    writeFileSync(file, dump.subarray(0, Math.floor(dump.length * 0.7)));
    const cut = await cli(['redis', 'import', file, ...base(), '--prefix', fresh(), '--passphrase-file', passFile, '--json', '--quiet']);
    expect(cut.code).toBe(4);
    expect(json(cut).error).toMatchObject({ name: 'DumpFormatError', kind: 'truncated' });
    expect(json(cut).error.report.imported).toBeGreaterThan(0);
    expect(cut.stderr).toMatch(/^mtproto-authkey: not a complete dump: .*; of the [\d,]+ records before that, [\d,]+ were imported and stay\n$/);
    writeFileSync(file, 'not a dump at all, just some text that is long enough to hold a header of some kind');
    const junk = await cli(['redis', 'import', file, ...base(), '--prefix', fresh(), '--passphrase-file', passFile]);
    expect(junk.code).toBe(4);
  });

  // Regression (issue 18): every collision was printed as "a different key is stored under the id",
  // also where the id holds a value this store cannot use (the key stored unsealed in a sealed store,
  // values sealed under a secret that was not given), which could lead an operator to delete good
  // keys. Each collision now shows its own reason, in the human output and in --json.
  it('import says why each collision is one: a key stored unsealed in a sealed store, or sealed values and no secrets given', async () => {
    const from = fresh();
    const to = fresh();
    const s1 = randomBytes(32);
    const keys = await seed(client, from, 6);
    const pass = passphrase();
    const file = join(work, 'reasons.dump');
    const exported = await cli(['redis', 'export', file, ...base(), '--prefix', from, '--quiet'], { env: { MTPROTO_AUTHKEY_PASSPHRASE: pass } });
    expect(exported.code).toBe(0);
    // The target: five of the keys sealed under version 1, the sixth stored unsealed (as before encryption was configured).
    const sealed = new RedisAuthKeyManager({ client, prefix: to, encryption: { secrets: { 1: s1 }, current: 1 }, timeoutMs: 10_000 });
    await Promise.all(keys.slice(0, 5).map((k) => sealed.setKey(k)));
    await sealed.close();
    const plain = new RedisAuthKeyManager({ client, prefix: to, timeoutMs: 10_000 });
    await plain.setKey(keys[5]);
    await plain.close();
    const env = { MTPROTO_AUTHKEY_PASSPHRASE: pass, MTPROTO_AUTHKEY_SECRETS: secretsEnv({ 1: s1 }) };
    const unsealedId = hex16(keys[5].id);

    const withSecrets = await cli(['redis', 'import', file, ...base(), '--prefix', to, '--json', '--quiet'], { env });
    expect(withSecrets.code).toBe(1);
    expect(json(withSecrets)).toMatchObject({ records: 6, imported: 0, unchanged: 5, collisions: 1, collisionIds: [unsealedId] });
    expect(json(withSecrets).collisionReasons).toHaveLength(1);
    expect(json(withSecrets).collisionReasons[0]).toMatch(/^the stored value cannot be used: .*unsealed/);
    const human = await cli(['redis', 'import', file, ...base(), '--prefix', to, '--quiet'], { env });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(new RegExp(`^ {4}${unsealedId} {2}the stored value cannot be used: .*unsealed`, 'm'));
    expect(human.stdout).not.toContain('a different key');

    const noSecrets = await cli(['redis', 'import', file, ...base(), '--prefix', to, '--json', '--quiet'], { env: { MTPROTO_AUTHKEY_PASSPHRASE: pass } });
    expect(noSecrets.code).toBe(1);
    // Without secrets the unsealed key is readable (the same key: unchanged); the sealed ones are not.
    expect(json(noSecrets)).toMatchObject({ records: 6, imported: 0, unchanged: 1, collisions: 5 });
    expect([...json(noSecrets).collisionIds].sort()).toEqual(
      keys
        .slice(0, 5)
        .map((k) => hex16(k.id))
        .sort(),
    );
    for (const reason of json(noSecrets).collisionReasons) expect(reason).toMatch(/^the stored value cannot be used: sealed under secret version 1\b/);
    const humanNoSecrets = await cli(['redis', 'import', file, ...base(), '--prefix', to, '--quiet'], { env: { MTPROTO_AUTHKEY_PASSPHRASE: pass } });
    expect(humanNoSecrets.stdout).toMatch(/^ +5 {2}the stored value cannot be used: sealed under secret version 1\b/m);
    expect(humanNoSecrets.stdout).not.toContain('a different key');
    // Nothing was touched: every value is still there, as stored.
    expect(await client.exists(...keys.map((k) => `${to}${hex16(k.id)}`))).toBe(6);
  });

  it('a file of random bytes is not a dump (exit 4, kind not-a-dump), not "not a complete dump"', async () => {
    const file = join(work, 'random.bin');
    for (const size of [4096, 10]) {
      writeFileSync(file, randomBytes(size));
      const r = await cli(['redis', 'import', file, ...base(), '--prefix', fresh(), '--json', '--quiet'], {
        env: { MTPROTO_AUTHKEY_PASSPHRASE: passphrase() },
      });
      expect(r.code).toBe(4);
      expect(json(r).error).toMatchObject({ name: 'DumpFormatError', kind: 'not-a-dump', exitCode: 4 });
      expect(r.stderr).toMatch(/^mtproto-authkey: not a mtproto-authkey dump\b/);
      expect(r.stderr).not.toContain('not a complete dump');
    }
  });

  it('a dump whose scrypt cost is over the default limit is refused (exit 4, naming --max-scrypt) unless --max-scrypt allows it', async () => {
    const keys = AuthKey.many(Array.from({ length: 20 }, () => randomBytes(256)));
    for (const k of keys) keyHexes.push(Buffer.from(k.bytes).toString('hex'));
    const pass = passphrase();
    // N * r * p = 2**21, twice the default limit of 2**20, in 16 MiB (128 * N * r): the cheapest kind of over.
    const costly = await dumpOf(keys, { passphrase: pass, scrypt: { N: 2 ** 14, r: 8, p: 16 } });
    const file = join(work, 'costly.dump');
    writeFileSync(file, costly);
    const to = fresh();
    const env = { MTPROTO_AUTHKEY_PASSPHRASE: pass };
    const refused = await cli(['redis', 'import', file, ...base(), '--prefix', to, '--json', '--quiet'], { env });
    expect(refused.code).toBe(4);
    expect(json(refused).error).toMatchObject({ name: 'DumpFormatError', kind: 'scrypt-over-limit', exitCode: 4 });
    expect(refused.stderr).toMatch(/^mtproto-authkey: scrypt cost over the limit: .*; if the dump is trusted, allow its cost with --max-scrypt 16384,8,16\n$/);
    expect(await client.exists(...keys.map((k) => `${to}${hex16(k.id)}`))).toBe(0);
    expect((await cli(['redis', 'import', '--help'])).stdout).toMatch(/^ +--max-scrypt <N,r,p> +the most scrypt work/m);
    const bad = await cli(['redis', 'import', file, ...base(), '--prefix', to, '--max-scrypt', '16384,8'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('option --max-scrypt: expected N,r,p');
    const allowed = await cli(['redis', 'import', file, ...base(), '--prefix', to, '--json', '--quiet', '--max-scrypt', '2**14,8,16'], { env });
    expect([allowed.code, json(allowed).imported]).toEqual([0, 20]);
    expect(await client.exists(...keys.map((k) => `${to}${hex16(k.id)}`))).toBe(20);
  });

  it('a dump stream that fails midway: exit 4 with what was imported, not an internal error (in process, stdin fails at a set byte)', async () => {
    const keys = AuthKey.many(Array.from({ length: 300 }, () => randomBytes(256)));
    for (const k of keys) keyHexes.push(Buffer.from(k.bytes).toString('hex'));
    const pass = passphrase();
    const dump = await dumpOf(keys, { passphrase: pass, scrypt: { N: 2 ** 10, r: 1, p: 1 } });
    // The first half of the dump, then a read error, as a disk or a network file system gives one.
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield dump.subarray(0, Math.floor(dump.length / 2));
      throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO', syscall: 'read' });
    }
    const to = fresh();
    const run = await inProcess(['redis', 'import', '-', ...base(), '--prefix', to, '--json', '--quiet'], Readable.from(failing()), {
      MTPROTO_AUTHKEY_PASSPHRASE: pass,
    });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(
      /^mtproto-authkey: cannot read the dump \(stdin\) to its end: EIO: i\/o error, read; of the [\d,]+ records before that, [\d,]+ were imported and stay\n$/,
    );
    const error = (JSON.parse(run.stdout) as { error: Record<string, any> }).error;
    expect(error).toMatchObject({ name: 'DumpStreamFailed', exitCode: 4 });
    expect(error.report.imported).toBeGreaterThan(0);
    expect(error.report.imported).toBeLessThan(300);
    const stored = await client.exists(...keys.map((k) => `${to}${hex16(k.id)}`));
    expect(stored).toBe(error.report.imported);
  });

  // Regression (issue 18): `redis export - | head` ended with exit 70 and "internal error ...
  // EPIPE" when the reader of stdout went away; now quietly, with 141 (128 + SIGPIPE).
  it('export to a stdout whose reader goes away ends quietly, with exit 141', async () => {
    const from = fresh();
    // Far more than a pipe holds (64 KiB): the export is still writing when the reader leaves.
    await seed(client, from, 2000);
    const r = await cli(['redis', 'export', '-', ...base(), '--prefix', from, '--quiet'], {
      env: { MTPROTO_AUTHKEY_PASSPHRASE: passphrase() },
      closeStdout: true,
    });
    expect([r.code, r.stderr]).toEqual([141, '']);
    const shown = await cli(['redis', 'export', '-', ...base(), '--prefix', from], { env: { MTPROTO_AUTHKEY_PASSPHRASE: passphrase() }, closeStdout: true });
    expect(shown.code).toBe(141);
    // Progress lines, if the export got that far; no error line.
    expect(shown.stderr).not.toMatch(/mtproto-authkey:|EPIPE/);
  });

  // Regression (issue 18): the passphrase was blanked inside words: "passphras" made "wrong
  // passphrase" read "wrong ***e".
  it('a wrong passphrase that is part of a word of the message leaves the message whole', async () => {
    const from = fresh();
    await seed(client, from, 5);
    const file = join(work, 'small.dump');
    const exported = await cli(['redis', 'export', file, ...base(), '--prefix', from, '--quiet', '--force'], {
      env: { MTPROTO_AUTHKEY_PASSPHRASE: passphrase() },
    });
    expect(exported.code).toBe(0);
    // Not in secretTexts: "passphrase" is in many messages, which is the point here.
    const r = await cli(['redis', 'import', file, ...base(), '--prefix', fresh()], { env: { MTPROTO_AUTHKEY_PASSPHRASE: 'passphras' } });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^mtproto-authkey: cannot open the dump: wrong passphrase or secret/);
  });

  it('shows a redrawn progress bar on a terminal', async () => {
    const prefix = fresh();
    await seed(client, prefix, 3000);
    // script(1) runs the command on a pseudo-terminal (util-linux: -q quiet, -e exit code, -c command).
    const command = [process.execPath, MAIN, 'redis', 'verify', '--url', redisUrl, '--prefix', prefix, '--batch', '50'].map((a) => `'${a}'`).join(' ');
    const r = await cli(['-qec', command, '/dev/null'], { command: ['script'] });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\rverify \[[#-]{24}\] +\d+% {2}[\d,]+\/[\d,]+ keys/);
    expect(r.stdout).toContain('\x1b[K');
    expect(r.stdout).toMatch(/verify: done 3,000 keys in /);
    expect(r.stdout).toMatch(/^ok +3,000 \(raw 3,000; expiring 0\)/m);
  });
});

describe.skipIf(!redisServerAvailable)('cli: a server of its own, stalled', () => {
  it('a server that accepts but never answers: exit 3 after --timeout-ms, not a hang', async () => {
    const server = await startRedisServer();
    process.kill(server.pid, 'SIGSTOP');
    try {
      const r = await cli(['redis', 'stats', '--url', server.url, '--timeout-ms', '500']);
      expect([r.code, r.stderr]).toEqual([3, `mtproto-authkey: cannot connect to ${server.url}: no answer within 500 ms\n`]);
    } finally {
      process.kill(server.pid, 'SIGCONT');
      await server.stop();
      rmSync(server.dir, { recursive: true, force: true });
    }
  });

  describe('stalled or cut mid-run (through a proxy): interrupted (SIGINT), raced by a file made at its name, timed out', () => {
    // A server of its own, with 3000 keys; each test reaches it through a proxy of its own, which
    // it holds or cuts at the command's first progress line.
    let server: Awaited<ReturnType<typeof startRedisServer>>;
    let own: Redis;
    const prefix = uniquePrefix();
    const proxies: RedisProxy[] = [];
    const proxy = async () => {
      const p = await redisProxy(server.url);
      proxies.push(p);
      return p;
    };
    beforeAll(async () => {
      server = await startRedisServer();
      own = new (await import('ioredis')).Redis(server.url);
      await seed(own, prefix, 3000);
    });
    afterAll(async () => {
      for (const p of proxies) await p.close();
      await own.quit();
      await server.stop();
      rmSync(server.dir, { recursive: true, force: true });
    });

    /**
     * Runs the command; at its first progress line, holds its connection (so it cannot finish)
     * and sends SIGINT; once it says it is stopping, lets the connection go, so that the command
     * in flight completes. No step depends on how long anything takes.
     */
    async function interrupted(args: string[], label: string, options: { env?: Record<string, string>; prefix?: string } = {}): Promise<Result> {
      const p = await proxy();
      let state: 'running' | 'held' | 'released' = 'running';
      const r = await cli([...args, '--url', p.url, '--prefix', options.prefix ?? prefix, '--json'], {
        env: options.env,
        onStderr: (child, stderr) => {
          if (state === 'running' && new RegExp(`^${label}: `, 'm').test(stderr)) {
            state = 'held';
            p.hold();
            child.kill('SIGINT');
          } else if (state === 'held' && stderr.includes('mtproto-authkey: interrupted; stopping')) {
            state = 'released';
            p.release();
          }
        },
      });
      expect(state).toBe('released');
      return r;
    }

    /** How many names are stored under `p`. */
    async function stored(p: string): Promise<number> {
      let n = 0;
      let cursor = '0';
      do {
        const [next, names] = await own.scan(cursor, 'MATCH', `${p}*`, 'COUNT', 1000);
        n += names.length;
        cursor = next;
      } while (cursor !== '0');
      return n;
    }

    it('verify stops after the command in flight: exit 130, with how far it got', async () => {
      const r = await interrupted(['redis', 'verify', '--batch', '10'], 'verify');
      expect(r.code).toBe(130);
      expect(r.stderr).toContain('mtproto-authkey: interrupted; stopping after the command in flight');
      expect(r.stderr).toMatch(/^verify: stopped after [\d,]+ keys in /m);
      const report = json(r);
      expect(report).toMatchObject({ command: 'redis verify', interrupted: true });
      expect(report.done).toBeGreaterThan(0);
      expect(report.done).toBeLessThan(3000);
    });

    it('export leaves no dump (and no partial file) behind', async () => {
      const dir = mkdtempSync(join(work, 'interrupted-'));
      const r = await interrupted(['redis', 'export', join(dir, 'keys.dump')], 'export', { env: { MTPROTO_AUTHKEY_PASSPHRASE: passphrase() } });
      expect(r.code).toBe(130);
      expect(json(r)).toMatchObject({ command: 'redis export', interrupted: true });
      expect(r.stdout).toContain('no dump was written');
      expect(readdirSync(dir)).toEqual([]);
    });

    // Regression (issue 18): an interrupted import printed the records of its last progress report
    // (every 1000: "15,000") as how far it got, not the keys it had stored (15,172).
    it('an interrupted import reports exactly the keys it stored', async () => {
      const pass = passphrase();
      const file = join(work, 'interrupted-import.dump');
      const exported = await cli(['redis', 'export', file, '--url', server.url, '--prefix', prefix, '--quiet'], { env: { MTPROTO_AUTHKEY_PASSPHRASE: pass } });
      expect(exported.code).toBe(0);
      const into = uniquePrefix();
      const r = await interrupted(['redis', 'import', file], 'import', { env: { MTPROTO_AUTHKEY_PASSPHRASE: pass }, prefix: into });
      expect(r.code).toBe(130);
      const keys = await stored(into);
      // The first progress line comes at record 1000, and the record in flight then completes.
      expect(keys).toBeGreaterThan(1000);
      expect(keys).toBeLessThan(3000);
      expect(json(r)).toMatchObject({ command: 'redis import', interrupted: true, done: keys });
      expect(r.stderr).toMatch(new RegExp(`^import: stopped after ${keys.toLocaleString('en-US')} keys imported in `, 'm'));
    });

    // Regression: the finished dump was renamed into place, replacing a file made at its name
    // while the export ran (the check for an existing file is made only at the start).
    it('export without --force keeps a file made at its name while it ran: exit 2, no partial file', async () => {
      const dir = mkdtempSync(join(work, 'raced-'));
      const file = join(dir, 'keys.dump');
      const p = await proxy();
      let made = false;
      const r = await cli(['redis', 'export', file, '--url', p.url, '--prefix', prefix], {
        env: { MTPROTO_AUTHKEY_PASSPHRASE: passphrase() },
        onStderr: (_child, stderr) => {
          if (made || !/^export: /m.test(stderr)) return;
          made = true;
          // Held while the file is made: the export has more of the store to read, so it ends after.
          p.hold();
          writeFileSync(file, 'made meanwhile');
          p.release();
        },
      });
      expect(made).toBe(true);
      expect([r.code, r.stderr]).toEqual([2, expect.stringContaining(`redis export: ${file} exists; add --force to replace it`)]);
      expect(readFileSync(file, 'utf8')).toBe('made meanwhile');
      expect(readdirSync(dir)).toEqual(['keys.dump']);
    });

    // Each step of `redis stats` is bounded: the SCANs and PEXPIRETIMEs by the manager, the
    // STRLEN/GETRANGE/EXISTS reads of each batch by the command itself (they had no deadline
    // before). Which of them the stall catches is not the point (issue 18: a test that expected
    // a SCAN failed when it caught a PEXPIRETIME): the command ends, saying what it waited for.
    it('stats on a server that stalls mid-run: exit 3 after --timeout-ms, not a hang', async () => {
      const p = await proxy();
      let held = false;
      const r = await cli(['redis', 'stats', '--url', p.url, '--prefix', prefix, '--batch', '10', '--timeout-ms', '500'], {
        onStderr: (_child, stderr) => {
          if (held || !/^stats: [1-9]/m.test(stderr)) return;
          held = true;
          p.hold();
        },
      });
      expect(held).toBe(true);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/^mtproto-authkey: .*(?:did not answer|no answer) within 500 ms\n$/m);
    });

    // Regression (issue 18): ioredis's own sentences ("Stream isn't writeable and
    // enableOfflineQueue options is false", "Connection is closed.") reached the user as they were.
    it('a connection cut mid-run: exit 3, in the words of the command, not of ioredis', async () => {
      const p = await proxy();
      let cut = false;
      const r = await cli(['redis', 'verify', '--url', p.url, '--prefix', prefix, '--batch', '10', '--timeout-ms', '2000'], {
        onStderr: (_child, stderr) => {
          if (cut || !/^verify: /m.test(stderr)) return;
          cut = true;
          p.cut();
        },
      });
      expect(cut).toBe(true);
      expect(r.code).toBe(3);
      const last = r.stderr.trimEnd().split('\n').pop()!;
      expect(last).toMatch(/^mtproto-authkey: auth key store unavailable: verify: .*the connection to Redis (?:was lost|is down|is closed)/);
      for (const raw of ['enableOfflineQueue', "isn't writeable", 'Connection is closed', 'maxRetriesPerRequest']) expect(r.stderr).not.toContain(raw);
    });
  });
});

describe.skipIf(!clusterNodes)('cli: Redis Cluster', () => {
  let client: Redis | Cluster;
  let prefix: string;
  const seeds = () => clusterNodes.split(',').flatMap((address) => ['--url', `redis://${address.trim()}`]);
  beforeAll(async () => {
    client = connect('cluster');
    prefix = uniquePrefix();
  });
  afterAll(async () => {
    await dropPrefix(client, prefix);
    await client.quit();
  });

  it('stats and verify scan every master (one seed node is enough)', async () => {
    const secret = randomBytes(32);
    const keys = await seed(client, prefix, 600, { secrets: { 1: secret }, current: 1 }, 60);
    await client.set(`${prefix}${hex16(keys[100].id)}`, randomBytes(285));
    const stats = await cli(['redis', 'stats', '--cluster', ...seeds().slice(0, 2), '--prefix', prefix, '--json', '--quiet']);
    expect(stats.code).toBe(0);
    expect(json(stats)).toMatchObject({ keys: 600, expiring: 60, raw: 0, other: 0 });
    const verify = await cli(['redis', 'verify', '--cluster', ...seeds(), '--prefix', prefix, '--json', '--quiet'], {
      env: { MTPROTO_AUTHKEY_SECRETS: secretsEnv({ 1: secret }) },
    });
    expect(verify.code).toBe(1);
    expect(json(verify)).toMatchObject({ scanned: 600, ok: 599, corrupted: 1, corruptedIds: [hex16(keys[100].id)], sealed: { 1: 599 } });
  });

  it('refuses a Cluster node given without --cluster (it would see only its own keys)', async () => {
    const r = await cli(['redis', 'stats', ...seeds().slice(0, 2), '--prefix', prefix]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is a node of a Redis Cluster: add --cluster/);
  });
});

// Last: everything printed above, searched for key material.
describe('cli: no key material in any output', () => {
  it('no output holds a key (or 32 hex digits of one), a secret or a passphrase', () => {
    expect(printed.length).toBeGreaterThan(40);
    const text = printed.join('\n');
    const keys = keyHexes.join('|');
    // Every run of 32 or more hex digits printed, each of its 32-digit windows looked up in the keys.
    for (const run of text.match(/[0-9a-fA-F]{32,}/g) ?? []) {
      for (let i = 0; i + 32 <= run.length; i++) expect(keys.includes(run.slice(i, i + 32).toLowerCase()), `printed hex run ${run.slice(0, 8)}…`).toBe(false);
    }
    for (const secret of secretTexts) {
      expect(text.includes(secret), 'a secret or passphrase was printed').toBe(false);
      expect(text.toLowerCase().includes(secret.toLowerCase())).toBe(false);
    }
    // Nor a key as a decimal number (a 2048-bit key has about 617 digits).
    expect(text).not.toMatch(/\d{40,}/);
  });
});
