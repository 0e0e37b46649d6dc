import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    // Starts redis-server processes for the Redis suites (or skips them); see the file.
    globalSetup: ['test/setup/redis.ts'],
  },
});
