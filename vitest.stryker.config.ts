import { defineConfig } from 'vitest/config';

/**
 * Stryker's run of the suite, without the tests that run the built `dist/` (the bin, the crash test,
 * the packed package), which mutants never reach, and without the leak check, which only slows each
 * mutant down.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [
      'test/integration/cli.test.ts',
      'test/integration/crash.test.ts',
      'test/package.test.ts',
      'test/exits-by-itself.test.ts',
      'node_modules/**',
    ],
    environment: 'node',
    testTimeout: 20_000,
  },
});
