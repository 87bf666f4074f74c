import { defineConfig } from 'vitest/config';

/**
 * Stryker's run of the unit suite: the integration and package tests run the built `dist/`, which
 * mutants never reach, and the leak check only slows each mutant down.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/integration/**', 'test/package.test.ts', 'node_modules/**'],
    environment: 'node',
    testTimeout: 20_000,
  },
});
