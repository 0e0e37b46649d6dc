import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

// The tarball a user installs: `npm pack` of dist/ (built by `npm test`'s pretest), installed into
// a separate project that imports the package by name, with types checked by tsc.
describe('npm pack tarball', () => {
  let dir: string;
  let consumer: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mtproto-authkey-pack-'));
    run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], root);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    consumer = join(dir, 'consumer');
    run('mkdir', ['-p', consumer], dir);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, tarball)], consumer);
    // ioredis is an optional peer dependency: the consumer brings its own (here, ours, linked).
    symlinkSync(join(root, 'node_modules/ioredis'), join(consumer, 'node_modules/ioredis'), 'dir');
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds dist/ and no sources, tests or generated TypeScript', () => {
    const files = run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], root);
    const paths = (JSON.parse(files) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path);
    expect(paths).toContain('dist/index.js');
    expect(paths).toContain('dist/index.d.ts');
    expect(paths.filter((p) => !p.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE'].includes(p))).toEqual([]);
    expect(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([]);
  });

  it('imports by name at run time (ESM and require) and works', () => {
    writeFileSync(
      join(consumer, 'main.mjs'),
      `import { AuthKey, AuthKeyManager, sha1 } from 'mtproto-authkey';
const key = new AuthKey(123456789n);
const m = new AuthKeyManager();
await m.setKey(key);
const got = await m.getKey(key.idBytes);
console.log(got.equals(key), Buffer.from(sha1(new TextEncoder().encode('abc'))).toString('hex'));`,
    );
    expect(run(process.execPath, ['main.mjs'], consumer).trim()).toBe('true a9993e364706816aba3e25717850c26c9cd0d89d');
    writeFileSync(join(consumer, 'main.cjs'), `const { AuthKey } = require('mtproto-authkey'); console.log(String(new AuthKey(5n)).startsWith('AuthKey(id=0x'));`);
    expect(run(process.execPath, ['main.cjs'], consumer).trim()).toBe('true');
  });

  it('imports the Redis manager from the mtproto-authkey/redis subpath, and the core without ioredis', () => {
    writeFileSync(
      join(consumer, 'redis.mjs'),
      `import { RedisAuthKeyManager, AuthKeyStoreUnavailable } from 'mtproto-authkey/redis';
try { new RedisAuthKeyManager({}); } catch (e) { console.log(e.constructor.name, typeof AuthKeyStoreUnavailable); }`,
    );
    expect(run(process.execPath, ['redis.mjs'], consumer).trim()).toBe('TypeError function');
    // The root entry point never loads ioredis.
    writeFileSync(
      join(consumer, 'core-only.mjs'),
      `import { createRequire } from 'node:module';
await import('mtproto-authkey');
const loaded = Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes('ioredis'));
console.log(loaded);`,
    );
    expect(run(process.execPath, ['core-only.mjs'], consumer).trim()).toBe('false');
  });

  it('type-checks a consumer against the shipped declarations', () => {
    writeFileSync(
      join(consumer, 'check.ts'),
      `import { AuthKey, AuthKeyManager, AuthKeyDoesNotExist, type AuthKeyManagerProtocol, type AuthKeyId } from 'mtproto-authkey';
const m: AuthKeyManagerProtocol = new AuthKeyManager();
const id: AuthKeyId = new AuthKey(5n).idBytes;
const p: Promise<AuthKey> = m.getKey(id);
const n: bigint = new AuthKey(7n).auxHash;
void p; void n; void AuthKeyDoesNotExist;
import { RedisAuthKeyManager } from 'mtproto-authkey/redis';
const r: AuthKeyManagerProtocol = new RedisAuthKeyManager({ url: 'redis://127.0.0.1:1', prefix: 'k:', encryption: { secrets: { 1: new Uint8Array(32) }, current: 1 } });
void r;
// @ts-expect-error a number id is not an AuthKeyId
void m.getKey(5);
`,
    );
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, lib: ['ES2022'], types: [] }, files: ['check.ts'] }),
    );
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    expect(() => run(process.execPath, [tsc, '-p', 'tsconfig.json'], consumer)).not.toThrow();
  });
});
