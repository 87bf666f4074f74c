import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    setupFiles: ['test/support/leak-check.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // One more worker than cores: the integration tests spend most of their time waiting on real
    // processes and containers (npm test: 151 s of vitest with 2 workers, 92 s with 3, on 2 cores).
    maxWorkers: 3,
  },
});
