import { defineConfig } from 'vitest/config';

/**
 * Stryker's run of the suite, without the tests that run the built `dist/` or other processes of
 * the library (the bin, the crash and survivor rounds, the journal's SIGKILL rounds, the packed
 * package, a program exiting by itself), which mutants never reach, without the docs' type-check
 * (no behaviour), and without the leak check, which only slows each mutant down. The Supervisor's
 * own integration tests over real processes and containers wait seconds of real time each, and
 * would run for every mutant of the Supervisor: they are left to `npm test`, where the fake-time
 * tests pin the same behaviour; the workloads' integration tests stay (their mutants need them).
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [
      'test/integration/cli.test.ts',
      'test/integration/crash.test.ts',
      'test/integration/survivors.test.ts',
      'test/integration/oci-supervisor.test.ts',
      'test/integration/supervisor-processes.test.ts',
      'test/integration/health.test.ts',
      'test/store/journal-crash.test.ts',
      'test/docs.test.ts',
      'test/package.test.ts',
      'test/supervisor/exits-by-itself.test.ts',
      'node_modules/**',
    ],
    environment: 'node',
    testTimeout: 20_000,
  },
});
