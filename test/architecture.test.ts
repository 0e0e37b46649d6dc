// The architecture of src/ as rules over its imports (dependency-cruiser's idea in a few dozen
// lines): which folder may import which, where ioredis and `WebAssembly` may appear, and no cycles.
// The rules are checked twice: on the real tree, and on small made-up trees that break each rule
// once, so a rule that could never fail shows up as a failing test here.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '../src');

/** The public entry points: the only files of src/ that the CLI may import from outside cli/. */
const ENTRIES = ['index.ts', 'redis.ts', 'dump.ts'];

/**
 * The one module that talks to the WebAssembly core (compiles and instantiates it, reads its
 * memory). core/engine.ts chooses which core and when, through it; core/sizes.ts is plain numbers.
 */
const WASM_BOUNDARY = ['core/wasm.ts'];

/** For each folder of src/, the folders its modules may import from (its own is always allowed). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  core: [],
  managers: ['core'],
  dump: ['core', 'managers'],
  redis: ['core', 'managers', 'dump'],
  exchange: ['core', 'managers'],
  cli: [], // and the public entry points, see ENTRIES
};

interface Module {
  /** Path relative to src/, with forward slashes. */
  path: string;
  /** The text with comments and string contents outside import specifiers left as they are. */
  text: string;
}

/** Every import or re-export specifier of a module (static, type-only, dynamic), as TypeScript reads them. */
function specifiers(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/**
 * Whether the code names the `WebAssembly` global (as a value or a type), as TypeScript parses
 * it: comments and strings (an error message about the WebAssembly core, say) may name it.
 */
function usesWebAssembly(path: string, text: string): boolean {
  const visit = (node: ts.Node): boolean => (ts.isIdentifier(node) && node.text === 'WebAssembly') || ts.forEachChild(node, visit) === true;
  return visit(ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false));
}

/** Everything the rules forbid in a tree of modules, one line each; empty when the tree keeps them. */
function violations(modules: readonly Module[]): string[] {
  const out: string[] = [];
  const paths = new Set(modules.map((m) => m.path));
  const edges = new Map<string, string[]>();
  for (const { path, text } of modules) {
    const folder = path.includes('/') ? path.slice(0, path.indexOf('/')) : '';
    const local: string[] = [];
    for (const spec of specifiers(text)) {
      if (spec === 'ioredis' || spec.startsWith('ioredis/')) {
        if (folder !== 'redis') out.push(`${path}: imports ioredis (only redis/ may)`);
        continue;
      }
      if (!spec.startsWith('.')) {
        if (!spec.startsWith('node:')) out.push(`${path}: imports the package ${spec} (src/ has no runtime dependencies but ioredis in redis/)`);
        continue;
      }
      const target = posix.normalize(posix.join(posix.dirname(path), spec)).replace(/\.js$/, '.ts');
      if (target.startsWith('..')) {
        out.push(`${path}: imports ${spec}, outside src/`);
        continue;
      }
      if (!paths.has(target)) {
        out.push(`${path}: imports ${spec}, which is not a module of src/`);
        continue;
      }
      local.push(target);
      if (folder === '') continue; // the entry points gather the public API from everywhere
      const targetFolder = target.includes('/') ? target.slice(0, target.indexOf('/')) : '';
      if (targetFolder === folder) continue;
      if (folder === 'cli' && ENTRIES.includes(target)) continue;
      const allowed = MAY_IMPORT[folder];
      if (allowed === undefined) out.push(`${path}: in a folder the rules do not know (add it to MAY_IMPORT)`);
      else if (!allowed.includes(targetFolder)) {
        const what = targetFolder === '' ? `the entry point ${target}` : `${targetFolder}/ (${target})`;
        const may = [...allowed.map((f) => `${f}/`), ...(folder === 'cli' ? ENTRIES : [])];
        out.push(`${path}: imports ${what}; ${folder}/ may import ${may.length ? may.join(', ') : 'nothing outside it'}`);
      }
    }
    edges.set(path, local);
    if (!WASM_BOUNDARY.includes(path) && usesWebAssembly(path, text)) out.push(`${path}: uses WebAssembly (only ${WASM_BOUNDARY.join(', ')} may)`);
  }
  // Cycles: a depth-first walk that reports each back edge once, as the loop it closes.
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const walk = (m: string): void => {
    state.set(m, 'open');
    stack.push(m);
    for (const d of edges.get(m) ?? []) {
      if (state.get(d) === 'open') out.push(`import cycle: ${[...stack.slice(stack.indexOf(d)), d].join(' -> ')}`);
      else if (!state.has(d)) walk(d);
    }
    stack.pop();
    state.set(m, 'done');
  };
  for (const m of [...edges.keys()].sort()) if (!state.has(m)) walk(m);
  return out;
}

function readTree(): Module[] {
  return readdirSync(SRC, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => ({ path: f.split('\\').join('/'), text: readFileSync(join(SRC, f), 'utf8') }));
}

describe('architecture of src/', () => {
  it('keeps every import rule (folders, ioredis, WebAssembly, no cycles)', () => {
    const tree = readTree();
    expect(tree.length).toBeGreaterThan(20);
    expect(violations(tree)).toEqual([]);
  });

  it('has the folders the rules name, and nothing at the root but the entry points', () => {
    const tree = readTree();
    const root = tree
      .filter((m) => !m.path.includes('/'))
      .map((m) => m.path)
      .sort();
    expect(root).toEqual([...ENTRIES].sort());
    for (const folder of ['core', 'managers', 'redis', 'dump', 'cli'])
      expect(
        tree.some((m) => m.path.startsWith(`${folder}/`)),
        folder,
      ).toBe(true);
    for (const m of tree) {
      const folder = m.path.slice(0, m.path.indexOf('/'));
      if (m.path.includes('/')) expect(MAY_IMPORT, m.path).toHaveProperty(folder);
    }
    for (const b of WASM_BOUNDARY)
      expect(
        tree.some((m) => m.path === b),
        b,
      ).toBe(true);
  });

  it('sees the imports it checks: every module of the tree is reached from an entry point', () => {
    const tree = readTree();
    const byPath = new Map(tree.map((m) => [m.path, m]));
    const seen = new Set<string>();
    const visit = (p: string): void => {
      if (seen.has(p) || !byPath.has(p)) return;
      seen.add(p);
      for (const s of specifiers(byPath.get(p)!.text)) if (s.startsWith('.')) visit(posix.normalize(posix.join(posix.dirname(p), s)).replace(/\.js$/, '.ts'));
    };
    for (const e of [...ENTRIES, 'cli/main.ts']) visit(e);
    expect(tree.map((m) => m.path).filter((p) => !seen.has(p))).toEqual([]);
  });
});

describe('the rules fail when broken (made-up trees)', () => {
  const ok: Module[] = [
    { path: 'index.ts', text: "export { a } from './core/a.js';\nexport { m } from './managers/m.js';" },
    { path: 'core/a.ts', text: "import { b } from './b.js';\nimport { createHash } from 'node:crypto';\nexport const a = b;" },
    { path: 'core/b.ts', text: '// prose may say WebAssembly\nexport const b = 1;\nexport const m = `the WebAssembly core ${b}`;' },
    { path: 'core/wasm.ts', text: 'export const w = WebAssembly.validate;' },
    { path: 'managers/m.ts', text: "import type { a } from '../core/a.js';\nexport const m = 1;" },
    { path: 'redis/r.ts', text: "import { Redis } from 'ioredis';\nimport { m } from '../managers/m.js';" },
    { path: 'redis.ts', text: "export * from './redis/r.js';" },
    { path: 'dump.ts', text: '' },
    { path: 'cli/c.ts', text: "import { a } from '../index.js';\nconst m = await import('../redis.js');" },
  ];
  const broken = (path: string, text: string): string[] => violations([...ok.filter((m) => m.path !== path), { path, text }]);

  it('accepts the tree that keeps them', () => {
    expect(violations(ok)).toEqual([]);
  });
  it.each([
    ['core/b.ts', "import { m } from '../managers/m.js';", /core\/b\.ts: imports managers\/ \(managers\/m\.ts\); core\/ may import nothing outside it/],
    ['core/b.ts', "import type { R } from '../redis/r.js';", /core\/b\.ts: imports redis\//],
    ['managers/m.ts', "import { r } from '../redis/r.js';", /managers\/m\.ts: imports redis\/ \(redis\/r\.ts\); managers\/ may import core\//],
    ['managers/m.ts', "export { x } from '../index.js';", /managers\/m\.ts: imports the entry point index\.ts/],
    ['core/b.ts', "import type { Redis } from 'ioredis';", /core\/b\.ts: imports ioredis \(only redis\/ may\)/],
    ['cli/c.ts', "import { Redis } from 'ioredis';", /cli\/c\.ts: imports ioredis/],
    ['cli/c.ts', "import { a } from '../core/a.js';", /cli\/c\.ts: imports core\/ \(core\/a\.ts\); cli\/ may import index\.ts, redis\.ts, dump\.ts/],
    ['cli/c.ts', "const x = await import('../managers/m.js');", /cli\/c\.ts: imports managers\//],
    ['core/b.ts', 'export const i = new WebAssembly.Memory({ initial: 1 });', /core\/b\.ts: uses WebAssembly \(only core\/wasm\.ts may\)/],
    ['core/b.ts', 'export let i: WebAssembly.Instance | undefined;', /core\/b\.ts: uses WebAssembly/],
    ['core/b.ts', 'export const v = globalThis.WebAssembly.validate;', /core\/b\.ts: uses WebAssembly/],
    ['core/b.ts', "import './a.js';\nexport const b = 1;", /import cycle: core\/a\.ts -> core\/b\.ts -> core\/a\.ts/],
    ['core/b.ts', "import { x } from 'left-pad';", /core\/b\.ts: imports the package left-pad/],
    ['core/b.ts', "import { x } from './missing.js';", /core\/b\.ts: imports \.\/missing\.js, which is not a module of src\//],
    ['extra/e.ts', "import { a } from '../core/a.js';", /extra\/e\.ts: in a folder the rules do not know/],
  ])('%s with %j is reported', (path, text, message) => {
    const found = broken(path, text);
    expect(
      found.some((line) => message.test(line)),
      found.join('\n'),
    ).toBe(true);
  });
});
