// Builds dist/ from src/ (run after scripts/build-wasm.mjs, which writes src/core/generated/):
//   1. tsc: the JavaScript of every module into dist/, its declarations into build/types/;
//   2. rollup-plugin-dts: one declaration file per public entry point, dist/<name>.d.ts, so the
//      package ships no declarations of internal modules (and, with stripInternal, no @internal
//      member). The entry points are read from package.json's "exports": a new entry point is a
//      subpath there with "types": "./dist/<name>.d.ts", and its line in "typesVersions" (which
//      this script checks); typedoc.config.mjs reads the same list.
// Every module the root entry point reaches is kept in dist/index.d.ts, and the other entry points
// import those types from it: a class such as AuthKey (nominal, it has #private) is declared once,
// so `mtproto-authkey/redis`'s getKey returns the same AuthKey type as `mtproto-authkey` names.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rollup } from 'rollup';
import { dts } from 'rollup-plugin-dts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const types = join(root, 'build/types');
const dist = join(root, 'dist');

/**
 * The public entry points, from package.json's "exports": each subpath's name (the `<name>` of
 * ./dist/<name>.js), in order; "." is `index`. Also checks that every subpath but "." is in
 * "typesVersions" (for TypeScript's `moduleResolution: node10`, which does not read "exports").
 */
export function entryPoints() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const names = [];
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (subpath === './package.json') continue;
    const m = typeof target === 'object' ? /^\.\/dist\/([\w-]+)\.d\.ts$/.exec(target.types ?? '') : null;
    if (!m || subpath !== (m[1] === 'index' ? '.' : `./${m[1]}`)) {
      throw new Error(
        `package.json exports["${subpath}"]: expected { "types": "./dist/<name>.d.ts", … } with the subpath "./<name>" ("." for index), got ${JSON.stringify(target)}`,
      );
    }
    const mapped = pkg.typesVersions?.['*']?.[m[1]];
    if (m[1] !== 'index' && (mapped?.length !== 1 || mapped[0] !== `./dist/${m[1]}.d.ts`)) {
      throw new Error(
        `package.json typesVersions["*"]["${m[1]}"]: expected ["./dist/${m[1]}.d.ts"] (for moduleResolution node10), got ${JSON.stringify(mapped)}`,
      );
    }
    names.push(m[1]);
  }
  if (!names.includes('index')) throw new Error('package.json exports["."]: missing');
  return names;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const entries = Object.fromEntries(entryPoints().map((name) => [name, join(types, `${name}.d.ts`)]));
  // A module removed from src/ must not linger in dist/ (nor in the package) from an older build.
  rmSync(dist, { recursive: true, force: true });
  rmSync(types, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });

  const rootInput = entries.index;
  let rootGraph;
  const bundle = await rollup({
    input: entries,
    plugins: [dts({ tsconfig: join(root, 'tsconfig.build.json') })],
    onwarn(warning) {
      throw new Error(`rollup: ${warning.message}`);
    },
  });
  const { output } = await bundle.write({
    dir: dist,
    format: 'es',
    entryFileNames: '[name].d.ts',
    chunkFileNames: '[name]-chunk.d.ts',
    minifyInternalExports: false,
    manualChunks(id, { getModuleInfo }) {
      if (rootGraph === undefined) {
        rootGraph = new Set();
        const walk = (m) => {
          if (rootGraph.has(m)) return;
          rootGraph.add(m);
          for (const d of getModuleInfo(m)?.importedIds ?? []) walk(d);
        };
        walk(rootInput);
      }
      return rootGraph.has(id) ? 'index' : undefined;
    },
  });
  await bundle.close();
  const written = output.map((o) => o.fileName).sort();
  const expected = Object.keys(entries)
    .map((n) => `${n}.d.ts`)
    .sort();
  if (written.join() !== expected.join()) throw new Error(`declaration rollup: expected ${expected.join(', ')}, wrote ${written.join(', ')}`);
  const shipped = readdirSync(dist, { recursive: true }).filter((f) => f.endsWith('.d.ts'));
  console.log(`types: ${shipped.map((f) => relative(root, join(dist, f))).join(', ')}`);
}
