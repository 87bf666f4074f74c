/**
 * The lifecycle as a fast-check model, through the real Supervisor (its table and its interpreter)
 * over fake ports: random calls (start, stop, restart, kill, update, remove, wait, shutdown, close)
 * interleaved with what the world answers (a start held at its gate, failing or released; a run that
 * exits, is lost or whose stop fails; time passing). After every step: the status and phase are
 * ones the SPEC names; no container ever has two live runs; a refused call says why with a code of
 * the package's; and at the end every call has settled and nothing is left running or pending.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CONTAINER_PHASES, CONTAINER_STATUSES, Supervisor } from '../../src/index.js';
import { NUM_RUNS } from '../arbitraries.js';
import { FakeWorkload } from '../support/fake-workload.js';
import { MemoryStore } from '../support/memory-store.js';

type Command =
  | { readonly kind: 'start' | 'stop' | 'restart' | 'kill' | 'remove' | 'force-remove' | 'wait' | 'update' }
  | { readonly kind: 'shutdown' | 'close' }
  | { readonly kind: 'release' | 'fail-starts' | 'good-starts' | 'lose' | 'stuck-stops' | 'good-stops' }
  | { readonly kind: 'exit'; readonly code: number }
  | { readonly kind: 'advance'; readonly ms: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .constantFrom('start', 'stop', 'restart', 'kill', 'remove', 'force-remove', 'wait', 'update')
      .map((kind) => ({ kind })),
  },
  { weight: 1, arbitrary: fc.constantFrom('shutdown', 'close').map((kind) => ({ kind })) },
  {
    weight: 4,
    arbitrary: fc
      .constantFrom('release', 'fail-starts', 'good-starts', 'lose', 'stuck-stops', 'good-stops')
      .map((kind) => ({ kind })),
  },
  { weight: 4, arbitrary: fc.constantFrom(0, 1, 143).map((code) => ({ kind: 'exit' as const, code })) },
  {
    weight: 4,
    arbitrary: fc.constantFrom(0, 100, 1_000, 12_000, 70_000).map((ms) => ({ kind: 'advance' as const, ms })),
  },
);

const CODES = new Set([
  'ERR_CONTAINER_STATE',
  'ERR_NO_SUCH_CONTAINER',
  'ERR_CONTAINER_START_FAILED',
  'ERR_CONTAINER_STOP_FAILED',
  'ERR_CONTAINER_KILL_FAILED',
  'ERR_SUPERVISOR_CLOSED',
]);

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('the lifecycle, as a model over the real interpreter', () => {
  it('keeps its promises after every step', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('always', 'on-failure:2', 'no', 'unless-stopped'),
        fc.boolean(),
        fc.array(command, { minLength: 1, maxLength: 40 }),
        async (policy, gated, commands) => {
          const store = new MemoryStore();
          const supervisor = new Supervisor({ store, startTimeoutMs: 5_000, stopTimeoutMs: 1_000 });
          supervisor.on('error', () => undefined);
          const workload = new FakeWorkload({ gated });
          await supervisor.add('web', { policy, workload });
          let pending = 0;
          const refusals: unknown[] = [];
          const call = (promise: Promise<unknown>): void => {
            pending++;
            void promise
              .catch((error: unknown) => refusals.push(error))
              .finally(() => {
                pending--;
              });
          };
          const live = (): number => workload.runs.filter((run) => !run.ended).length;
          for (const step of commands) {
            switch (step.kind) {
              case 'start':
                call(supervisor.start('web'));
                break;
              case 'stop':
                call(supervisor.stop('web'));
                break;
              case 'restart':
                call(supervisor.restart('web'));
                break;
              case 'kill':
                call(supervisor.kill('web', 'SIGTERM'));
                break;
              case 'remove':
                call(supervisor.remove('web'));
                break;
              case 'force-remove':
                call(supervisor.remove('web', { force: true }));
                break;
              case 'wait':
                call(supervisor.wait('web', 'next-exit'));
                break;
              case 'update':
                call(supervisor.update('web', { policy: 'on-failure:1' }));
                break;
              case 'shutdown':
                call(supervisor.shutdown({ timeoutMs: 500 }));
                break;
              case 'close':
                call(supervisor.close());
                break;
              case 'release':
                if (workload.waiting > 0) workload.release();
                break;
              case 'fail-starts':
                workload.failWith = new Error('cannot start');
                break;
              case 'good-starts':
                workload.failWith = undefined;
                break;
              case 'stuck-stops':
                for (const run of workload.runs) run.stopError = new Error('stuck');
                break;
              case 'good-stops':
                for (const run of workload.runs) run.stopError = undefined;
                break;
              case 'lose':
                workload.runs.at(-1)?.lose();
                break;
              case 'exit':
                workload.runs.findLast((run) => !run.ended)?.end(step.code);
                break;
              case 'advance':
                await vi.advanceTimersByTimeAsync(step.ms);
                break;
            }
            await vi.advanceTimersByTimeAsync(0);
            const info = supervisor.list()[0];
            if (info !== undefined) {
              expect(CONTAINER_STATUSES).toContain(info.status);
              expect(CONTAINER_PHASES).toContain(info.detail);
            }
            // A run of a stop that failed may linger (the GC keeps at it), never beside a new one.
            expect(live(), 'two live runs').toBeLessThanOrEqual(1);
            for (const error of refusals.splice(0)) expect(CODES).toContain((error as { code?: string }).code);
          }
          // The end: every stop works again, the gate opens, and time passes.
          workload.failWith = undefined;
          for (const run of workload.runs) run.stopError = undefined;
          while (workload.waiting > 0) workload.release();
          await vi.advanceTimersByTimeAsync(120_000);
          await supervisor.close();
          while (workload.waiting > 0) workload.release();
          await vi.advanceTimersByTimeAsync(20_000);
          expect(pending, 'calls that never settled').toBe(0);
          for (const error of refusals) expect(CODES).toContain((error as { code?: string }).code);
          expect(vi.getTimerCount(), 'a timer left behind').toBe(0);
        },
      ),
      { numRuns: Math.max(50, Math.round(NUM_RUNS / 10)) },
    );
  });
});
