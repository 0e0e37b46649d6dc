import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
/** A command's exit status and everything it printed (a failing check shows its own report). */
function attempt(cmd: string, args: string[], cwd: string): { status: number; output: string } {
  try {
    return { status: 0, output: run(cmd, args, cwd) };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { status: err.status, output: `${err.stdout}${err.stderr}` };
  }
}
const bin = (pkg: string, path: string) => join(root, 'node_modules', pkg, path);

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string }>;
  typesVersions: Record<string, Record<string, string[]>>;
  bin?: string | Record<string, string>;
  repository: { url: string };
  homepage: string;
  bugs: { url: string };
};
/** The public entry points as package.json's "exports" lists them: subpath, JavaScript, types. */
const entries = Object.entries(pkg.exports).flatMap(([subpath, t]) =>
  typeof t === 'object' ? [{ subpath, js: t.types.slice(2).replace(/\.d\.ts$/, '.js'), types: t.types.slice(2) }] : [],
);
const specifier = (subpath: string) => `mtproto-authkey${subpath.slice(1)}`;

/** The names a module exports, as TypeScript sees them (values and types). */
function exportsOf(program: ts.Program, file: string): string[] {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  if (source === undefined) throw new Error(`${file}: not in the program`);
  const symbol = checker.getSymbolAtLocation(source);
  if (symbol === undefined) throw new Error(`${file}: not a module`);
  return checker
    .getExportsOfModule(symbol)
    .map((s) => s.name)
    .sort();
}

/**
 * Names of class and interface members that src/ marks `@internal`, except names that a public
 * member has too (KeyTable's internal `stats()` and RedisAuthKeyManager's public one): the check
 * below goes by name only.
 */
function internalMembers(): string[] {
  const names = new Set<string>();
  const publicNames = new Set<string>();
  const srcDir = join(root, 'src');
  for (const f of readdirSync(srcDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.includes('generated'))) {
    const source = ts.createSourceFile(f, readFileSync(join(srcDir, f), 'utf8'), ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node) => {
      if ((ts.isClassElement(node) || ts.isTypeElement(node)) && node.name !== undefined && ts.isIdentifier(node.name)) {
        if (ts.getJSDocTags(node).some((t) => t.tagName.text === 'internal')) names.add(node.name.text);
        else if (!(ts.getCombinedModifierFlags(node as ts.Declaration) & ts.ModifierFlags.Private) && !ts.isPrivateIdentifier(node.name))
          publicNames.add(node.name.text);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return [...names].filter((name) => !publicNames.has(name));
}

// The tarball a user installs: `npm pack` of dist/ (built by `npm test`'s pretest), installed into
// a separate project that imports the package by name, with types checked by tsc.
describe('npm pack tarball', () => {
  let dir: string;
  let consumer: string;
  let tarball: string;
  let paths: string[];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mtproto-authkey-pack-'));
    // --ignore-scripts: pretest has built dist/ already; prepack would build it a second time.
    const packed = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], root)) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    tarball = join(dir, packed[0].filename);
    paths = packed[0].files.map((f) => f.path);
    consumer = join(dir, 'consumer');
    mkdirSync(consumer);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', tarball], consumer);
    // ioredis is an optional peer dependency: the consumer brings its own (here, ours, linked).
    symlinkSync(join(root, 'node_modules/ioredis'), join(consumer, 'node_modules/ioredis'), 'dir');
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names its repository, home page and issue tracker', () => {
    expect(pkg.repository.url).toMatch(/^git\+https:\/\/github\.com\/[\w-]+\/[\w-]+\.git$/);
    const repo = pkg.repository.url.slice('git+'.length, -'.git'.length);
    expect(pkg.homepage).toBe(`${repo}#readme`);
    expect(pkg.bugs.url).toBe(`${repo}/issues`);
  });

  it('holds the JavaScript of dist/, one declaration file per entry point, and the docs: no sources, tests or internal declarations', () => {
    const binFiles = Object.values(typeof pkg.bin === 'string' ? { bin: pkg.bin } : (pkg.bin ?? {})).map((p) => p.replace(/^\.\//, ''));
    const docs = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'];
    for (const p of [...docs, ...entries.flatMap((e) => [e.js, e.types])]) expect(paths).toContain(p);
    expect(paths.filter((p) => !docs.includes(p) && !binFiles.includes(p) && !/^dist\/.+\.js$/.test(p))).toEqual(entries.map((e) => e.types).sort());
    expect(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([]);
  });

  it('declarations: no @internal member or text, the embedded cores typed as string, no long literal', () => {
    const shipped = entries.map((e) => readFileSync(join(root, e.types), 'utf8')).join('\n');
    expect(shipped).not.toContain('@internal');
    expect(shipped).not.toMatch(/SIMD_WASM|SCALAR_WASM/);
    expect(shipped).not.toMatch(/['"][^'"\n]{200,}['"]/);
    const internal = internalMembers();
    // The oracle finds what it should: AuthKey's record plumbing is marked @internal in src/core/auth-key.ts.
    expect(internal).toEqual(expect.arrayContaining(['relocate', 'recordOf', 'idHalvesOf', 'isAuthKey']));
    for (const name of internal) expect(shipped, name).not.toMatch(new RegExp(`^\\s+(static\\s+)?(readonly\\s+)?${name}\\b`, 'm'));
    // The generator's declaration is one line per core whatever their size (they ship only as .js).
    const generated = readFileSync(join(root, 'build/types/core/generated/wasm-bytes.d.ts'), 'utf8');
    expect(generated).toMatch(/export declare const SIMD_WASM: string;/);
    expect(generated).toMatch(/export declare const SCALAR_WASM: string;/);
  });

  it('each entry point declares exactly what its source module exports', { timeout: 120_000 }, () => {
    const files = entries.flatMap((e) => [join(root, 'src', e.js.replace(/^dist\//, '').replace(/\.js$/, '.ts')), join(root, e.types)]);
    const program = ts.createProgram(files, {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      allowImportingTsExtensions: true,
    });
    for (let i = 0; i < files.length; i += 2) {
      const fromSource = exportsOf(program, files[i]);
      expect(fromSource.length).toBeGreaterThan(0);
      expect(exportsOf(program, files[i + 1]), files[i + 1]).toEqual(fromSource);
    }
  });

  it('lists every subpath entry point in typesVersions (moduleResolution node10 reads no "exports")', () => {
    const mapped = Object.fromEntries(entries.filter((e) => e.subpath !== '.').map((e) => [e.subpath.slice(2), [`./${e.types}`]]));
    expect(pkg.typesVersions).toEqual({ '*': mapped });
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
    writeFileSync(
      join(consumer, 'main.cjs'),
      `const { AuthKey } = require('mtproto-authkey'); console.log(String(new AuthKey(5n)).startsWith('AuthKey(id=0x'));`,
    );
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

  // One consumer file, checked under each moduleResolution a TypeScript user may have. The Redis
  // entry's AuthKey must be the root's (a class with #private is nominal: a second declaration of
  // it in redis.d.ts would make `const k: AuthKey = await redis.getKey(id)` an error).
  const check = `import { AuthKey, AuthKeyManager, AuthKeyDoesNotExist, AuthKeyStoreUnavailable, type AuthKeyManagerProtocol, type AuthKeyId } from 'mtproto-authkey';
import { RedisAuthKeyManager, AuthKeyStoreUnavailable as FromRedis, type RedisAuthKeyManagerOptions } from 'mtproto-authkey/redis';
const m: AuthKeyManagerProtocol = new AuthKeyManager();
const id: AuthKeyId = new AuthKey(5n).idBytes;
const p: Promise<AuthKey> = m.getKey(id);
const n: bigint = new AuthKey(7n).auxHash;
void p; void n; void AuthKeyDoesNotExist;
const options: RedisAuthKeyManagerOptions = { url: 'redis://127.0.0.1:1', prefix: 'k:', encryption: { secrets: { 1: new Uint8Array(32) }, current: 1 } };
const r = new RedisAuthKeyManager(options);
const asProtocol: AuthKeyManagerProtocol = r;
const fromRedis: Promise<AuthKey> = r.getKey(id);
const sameClass: typeof AuthKeyStoreUnavailable = FromRedis;
void asProtocol; void fromRedis; void sameClass;
// @ts-expect-error a number id is not an AuthKeyId
void m.getKey(5);
// @ts-expect-error the embedded cores are internal: no such subpath
import type {} from 'mtproto-authkey/generated/wasm-bytes';
`;
  // The first also checks the shipped declarations themselves (skipLibCheck off: slower, once).
  const settings: Array<[string, Record<string, unknown>]> = [
    ['nodenext', { module: 'NodeNext', moduleResolution: 'NodeNext', skipLibCheck: false }],
    ['node16', { module: 'Node16', moduleResolution: 'Node16', skipLibCheck: true }],
    ['bundler', { module: 'ESNext', moduleResolution: 'Bundler', skipLibCheck: true }],
    ['node10', { module: 'CommonJS', moduleResolution: 'Node10', skipLibCheck: true }],
  ];
  it.each(settings)('type-checks a consumer under moduleResolution %s', { timeout: 120_000 }, (name, resolution) => {
    const sub = join(consumer, `types-${name}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, 'check.ts'), check);
    writeFileSync(
      join(sub, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { ...resolution, target: 'ES2022', strict: true, noEmit: true, lib: ['ES2022'], types: [], typeRoots: [] },
        files: ['check.ts'],
      }),
    );
    const { status, output } = attempt(process.execPath, [bin('typescript', 'bin/tsc'), '-p', 'tsconfig.json'], sub);
    expect(output).toBe('');
    expect(status).toBe(0);
  });

  it('type-checks a CommonJS consumer that requires the package (module node20: require of ESM)', () => {
    const sub = join(consumer, 'types-cjs');
    mkdirSync(sub, { recursive: true });
    writeFileSync(
      join(sub, 'check.cts'),
      `import core = require('mtproto-authkey');
import redis = require('mtproto-authkey/redis');
const key: core.AuthKey = new core.AuthKey(5n);
const cls: typeof core.AuthKeyCorrupted = redis.AuthKeyCorrupted;
void key; void cls;
`,
    );
    writeFileSync(
      join(sub, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'Node20', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, lib: ['ES2022'], types: [], typeRoots: [] },
        files: ['check.cts'],
      }),
    );
    const { status, output } = attempt(process.execPath, [bin('typescript', 'bin/tsc'), '-p', 'tsconfig.json'], sub);
    expect(output).toBe('');
    expect(status).toBe(0);
  }, 120_000);

  it('passes publint (strict: warnings fail)', () => {
    const { status, output } = attempt(process.execPath, [bin('publint', 'src/cli.js'), 'run', tarball, '--strict'], root);
    expect(output).toContain('All good!');
    expect(status).toBe(0);
  }, 60_000);

  it('passes arethetypeswrong for every entry point and resolution (.attw.json: require of ESM is allowed, engines ^20.19.0 || >=22.12.0)', () => {
    const { status, output } = attempt(process.execPath, [bin('@arethetypeswrong/cli', 'dist/index.js'), tarball, '--format', 'table-flipped'], root);
    expect(status, output).toBe(0);
    for (const e of entries) expect(output).toContain(`"${specifier(e.subpath)}"`);
    expect(output).not.toMatch(/❌|⚠️|💀|🐛|❗️/u);
  }, 60_000);
});

describe('API reference', () => {
  it('npm run docs: typedoc documents every public export without a warning', () => {
    const out = mkdtempSync(join(tmpdir(), 'mtproto-authkey-docs-'));
    try {
      // The project's typedoc.config.mjs (warnings are errors, notDocumented on), output elsewhere.
      const { status, output } = attempt(process.execPath, [bin('typedoc', 'bin/typedoc'), '--out', out], root);
      expect(output).not.toMatch(/warning|error/i);
      expect(status).toBe(0);
      for (const e of entries) expect(readdirSync(join(out, 'modules')).join()).toContain(e.js.replace(/^dist\//, '').replace(/\.js$/, ''));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
