// API reference (npm run docs -> docs/api/): one module per public entry point, the same list the
// package ships (package.json "exports", read by scripts/build-dist.mjs). Every exported symbol
// must carry TSDoc, and a warning fails the run, so the reference stays complete.
import { readFileSync } from 'node:fs';
import { entryPoints } from './scripts/build-dist.mjs';

// Source links point at the repository named in package.json, not at whatever git remote the
// checkout has (a clone of a clone has a local path there, which typedoc warns about).
const { repository } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const repositoryUrl = repository.url.replace(/^git\+/, '').replace(/\.git$/, '');

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
  sourceLinkTemplate: `${repositoryUrl}/blob/{gitRevision}/{path}#L{line}`,
};
