import { defineConfig } from 'vitest/config';

/**
 * Stryker's run of the suite. Stryker's Vitest runner always runs the tests in worker threads, and
 * a run of `processWorkload` or `ociWorkload` reads its FIFOs through sockets made from raw file
 * descriptors, which a worker thread's descriptor tracking closes a second time when the worker
 * ends (Node aborts the process: SIGABRT, "File descriptor N opened in unmanaged mode twice"; see
 * docs/workloads.md, "Worker threads"). So every test that starts a real run is left out, and the
 * modules only those tests reach are left out of `mutate` (stryker.config.json): their mutants are
 * pinned by `npm test`. Also left out: the tests of the built `dist/` or of other processes of the
 * library (the bin, the crash and survivor rounds, the journal's SIGKILL rounds, the packed
 * package, the example runtime, a program exiting by itself), the docs' and types' type-checks (no
 * behaviour), and the leak check, which only slows each mutant down.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [
      'test/integration/**',
      'test/examples/**',
      'test/types/**',
      'test/cli/run.test.ts',
      'test/docs.test.ts',
      'test/package.test.ts',
      'test/store/journal-crash.test.ts',
      'test/supervisor/exits-by-itself.test.ts',
      'test/workloads/notify-channel.test.ts',
      'test/workloads/oci-options.test.ts',
      'test/workloads/oci-runtime-args.test.ts',
      'test/workloads/oci-runtime-failures.test.ts',
      'test/workloads/oci-stand-in-runs.test.ts',
      'test/workloads/process-groups.test.ts',
      'test/workloads/process-stale-runs.test.ts',
      'node_modules/**',
    ],
    environment: 'node',
    testTimeout: 20_000,
  },
});
