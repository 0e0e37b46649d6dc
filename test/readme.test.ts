import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const exists = (path: string) => existsSync(new URL(path, root));

/** The guides: every Markdown file of docs/ (docs/api/ is typedoc's output, not a guide). */
const guides = readdirSync(new URL('docs/', root))
  .filter((f) => f.endsWith('.md'))
  .map((f) => `docs/${f}`);

/** Markdown outside fenced code blocks, where `](` and `#` mean links and headings. */
function prose(text: string): string {
  return text.replace(/^[ \t]*```[\s\S]*?^[ \t]*```/gm, '');
}

/** The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function anchors(text: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of prose(text).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = heading!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** The relative link targets of a Markdown file (no scheme, no bare `#anchor`), as written. */
function relativeLinks(text: string): string[] {
  return [...prose(text).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

/**
 * Every broken relative link of `file` (a path from the repository root), one line each: a target
 * file that does not exist, or an anchor that no heading of the target makes. `readFile` returns
 * undefined for a file that does not exist.
 */
function brokenLinks(file: string, text: string, readFile: (path: string) => string | undefined): string[] {
  const out: string[] = [];
  for (const link of relativeLinks(text)) {
    const [path, anchor] = link.split('#', 2) as [string, string | undefined];
    const target = path === '' ? file : posix.normalize(posix.join(posix.dirname(file), path));
    const content = target === file ? text : readFile(target);
    if (content === undefined) {
      out.push(`${file}: ${link} -> ${target} does not exist`);
      continue;
    }
    if (anchor !== undefined && target.endsWith('.md') && !anchors(content).has(anchor))
      out.push(`${file}: ${link} -> no heading of ${target} makes #${anchor}`);
  }
  return out;
}

const readIfExists = (path: string): string | undefined => (exists(path) ? read(path) : undefined);

describe('README', () => {
  it('shows examples/usage.ts verbatim as its usage example (test/examples.test.ts runs it)', () => {
    expect(read('README.md')).toContain('```ts\n' + read('examples/usage.ts') + '```');
  });

  it('names the two commands a newcomer runs', () => {
    const readme = read('README.md');
    expect(readme).toContain('npm ci && npm test');
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    const main = /npm run (\w[\w:-]*)\s+# the main job/.exec(readme)?.[1];
    expect(main, 'README names the main job').toBeDefined();
    expect(pkg.scripts[main!]).toBeDefined();
  });

  it('stays a five-minute read: at most 20 KB, the details in the guides (issue 17)', () => {
    // Regression guard: the README had grown to 57 KB, every guide inlined.
    expect(Buffer.byteLength(read('README.md'))).toBeLessThanOrEqual(20_000);
  });
});

describe('guides in docs/', () => {
  it('docs/message-crypto.md shows examples/message.ts verbatim (test/examples.test.ts runs it)', () => {
    expect(read('docs/message-crypto.md')).toContain('```ts\n' + read('examples/message.ts') + '```');
  });

  it('every relative link of the README and the guides points at an existing file and heading', () => {
    expect(guides.length).toBeGreaterThanOrEqual(7);
    const broken = ['README.md', ...guides].flatMap((file) => brokenLinks(file, read(file), readIfExists));
    expect(broken).toEqual([]);
  });

  it('every guide is reached from the README by relative links', () => {
    const reached = new Set<string>();
    const visit = (file: string): void => {
      if (reached.has(file) || !exists(file) || !file.endsWith('.md')) return;
      reached.add(file);
      for (const link of relativeLinks(read(file))) {
        const path = link.split('#', 1)[0]!;
        if (path !== '') visit(posix.normalize(posix.join(posix.dirname(file), path)));
      }
    };
    visit('README.md');
    expect(guides.filter((g) => !reached.has(g))).toEqual([]);
  });

  it('the link check fails on a missing file, a missing heading and a wrong relative base (made-up files)', () => {
    const files: Record<string, string> = {
      'README.md': '# Title\n\n## Near cache: `peekKey` / `getKey`\n',
      'docs/a.md': '# A\n\n## Same\n\n## Same\n',
    };
    const readFake = (path: string) => files[path];
    const check = (file: string, text: string) => brokenLinks(file, text, readFake);
    expect(check('README.md', '[a](docs/a.md) [b](./docs/a.md#same-1) [w](https://x.y/z.md)')).toEqual([]);
    expect(check('README.md', '## Near cache: `peekKey` / `getKey`\n\n[c](#near-cache-peekkey--getkey)')).toEqual([]);
    expect(check('docs/a.md', `${files['docs/a.md']}\n[r](../README.md#title) [s](#same)`)).toEqual([]);
    expect(check('README.md', '[x](docs/missing.md)')).toEqual(['README.md: docs/missing.md -> docs/missing.md does not exist']);
    expect(check('README.md', '[x](docs/a.md#nowhere)')).toEqual(['README.md: docs/a.md#nowhere -> no heading of docs/a.md makes #nowhere']);
    expect(check('docs/a.md', '[x](docs/a.md)')).toEqual(['docs/a.md: docs/a.md -> docs/docs/a.md does not exist']);
    expect(check('README.md', '```sh\n[x](nowhere.md)\n```\n')).toEqual([]);
  });
});
