// API reference (npm run docs -> docs/api/): one module per public entry point, the same list the
// package ships (package.json "exports", read by scripts/build-dist.mjs). Every exported symbol
// must carry TSDoc, and a warning fails the run, so the reference stays complete.
import { entryPoints } from './scripts/build-dist.mjs';

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  entryPoints: entryPoints().map((name) => `src/${name}.ts`),
  tsconfig: 'tsconfig.build.json',
  out: 'docs/api',
  readme: 'none',
  excludePrivate: true,
  excludeInternal: true,
  validation: { notExported: true, invalidLink: true, notDocumented: true },
  treatWarningsAsErrors: true,
};
