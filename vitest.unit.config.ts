import { defineConfig } from 'vitest/config';

/**
 * `npm run test:unit`: the fast loop while editing. Every test file but the ones that need a Redis
 * server, a browser, a packed tarball, typedoc, Bun or Deno, or that spawn the CLI or the benches;
 * no global setup, so no redis-server is started. A file listed here that imports
 * test/redis-helpers.ts fails at once (it needs the setup), rather than skipping its Redis tests.
 * `npm test` (vitest.config.ts) runs everything.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [
      // Redis: the suite's servers (test/setup/redis.ts) or servers of their own.
      'test/redis-standalone.test.ts',
      'test/redis-cluster.test.ts',
      'test/redis-manager.test.ts',
      'test/redis-operations.test.ts',
      'test/redis-cache.test.ts',
      'test/redis-cache-cluster.test.ts',
      'test/redis-fault.test.ts',
      'test/redis-connect.test.ts',
      'test/dump-redis.test.ts',
      'test/message-redis.test.ts',
      // The CLI against Redis, the examples against Redis, the bench smoke run (Redis included).
      'test/cli.test.ts',
      'test/examples.test.ts',
      'test/bench.test.ts',
      // npm pack, typedoc, Bun, Deno, Chromium.
      'test/package.test.ts',
      'test/runtimes.test.ts',
    ],
    testTimeout: 30_000,
  },
});
