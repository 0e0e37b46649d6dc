import { defineConfig } from 'vitest/config';

// Interim, until `npm run test:unit` lands: the test files that need neither Redis nor a browser
// nor a child runtime, for .ci/run's loop on the older Node versions. No globalSetup, so no
// redis-server is started. Not scalar-core: it imports message.test.ts, whose Redis part would be
// reported as skipped here. Delete this file once package.json has a test:unit script.
export default defineConfig({
  test: {
    include: [
      'test/sha1.test.ts',
      'test/sha256.test.ts',
      'test/aes.test.ts',
      'test/auth-key.test.ts',
      'test/hostile.test.ts',
      'test/engine.test.ts',
      'test/init.test.ts',
      'test/memory-manager.test.ts',
      'test/key-table-model.test.ts',
      'test/negative-cache.test.ts',
      'test/architecture.test.ts',
    ],
    testTimeout: 30_000,
  },
});
