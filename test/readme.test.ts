import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

describe('README', () => {
  it('shows examples/usage.ts verbatim as its usage example', () => {
    expect(read('README.md')).toContain('```ts\n' + read('examples/usage.ts') + '```');
  });

  it('shows examples/message.ts verbatim in "Encrypting messages" (test/examples.test.ts runs it)', () => {
    expect(read('README.md')).toContain('```ts\n' + read('examples/message.ts') + '```');
  });

  it('the usage example runs as written (through the package name) and prints only the id', () => {
    // Regression guard: the README example must stay true when pasted.
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'examples/usage.ts'], { cwd: root, encoding: 'utf8' });
    expect(out.trim()).toMatch(/^AuthKey\(id=0x[0-9a-f]{16}\)$/);
  });

  it('names the two commands a newcomer runs', () => {
    const readme = read('README.md');
    expect(readme).toContain('npm ci && npm test');
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    const main = /npm run (\w[\w:-]*)\s+# the main job/.exec(readme)?.[1];
    expect(main, 'README names the main job').toBeDefined();
    expect(pkg.scripts[main!]).toBeDefined();
  });
});
