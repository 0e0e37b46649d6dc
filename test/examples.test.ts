import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { clusterNodes, redisUrl } from './redis-helpers.ts';

const run = promisify(execFile);
const root = new URL('..', import.meta.url);

// The README points at these examples: they must run as written, against real servers.
async function example(file: string, env: Record<string, string>): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: root, env: { ...process.env, ...env }, timeout: 60_000 });
  return stdout;
}

describe('runnable examples', () => {
  it('examples/usage.ts, the README usage example, runs as written (through the package name, so on dist/) and prints only the id', async () => {
    // Regression guard: the README example must stay true when pasted.
    expect((await example('examples/usage.ts', {})).trim()).toMatch(/^AuthKey\(id=0x[0-9a-f]{16}\)$/);
  });

  it('examples/message.ts encrypts and decrypts in both directions', async () => {
    expect(await example('examples/message.ts', {})).toMatch(/decrypted 44 bytes from the client and 328-byte reply for AuthKey\(id=0x[0-9a-f]{16}\)/);
  });

  it.skipIf(!redisUrl)('examples/redis.ts against the standalone server', async () => {
    expect(await example('examples/redis.ts', { REDIS_URL: redisUrl })).toMatch(/stored, found and removed AuthKey\(id=0x[0-9a-f]{16}\) in Redis/);
  });

  it.skipIf(!clusterNodes)('examples/redis-cluster.ts against the 3-master cluster', async () => {
    expect(await example('examples/redis-cluster.ts', { REDIS_CLUSTER_NODES: clusterNodes })).toMatch(
      /stored, read back and removed 10 sealed keys on 3 seed node\(s\)/,
    );
  });
});
