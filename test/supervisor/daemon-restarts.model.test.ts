/**
 * Daemon restarts as a fast-check model (issue 22, SPEC §14): random sequences of exits, manual
 * starts and stops, the passing of time, and daemon restarts (`close`, the daemon vanishing, and
 * `shutdown`, a clean stop; with and without `liveRestore`) drive real Supervisors (the real
 * lifecycle and interpreter) over fake runs that outlive their daemon. After every step: no container
 * ever has two live runs; a daemon restart changes no count and loses no container whose policy
 * restarts it; counts change only at real exits and manual starts.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ContainerInfo, type RunHandle, Supervisor, type Workload } from '../../src/index.js';
import { NUM_RUNS } from '../arbitraries.js';
import { FakeRun } from '../support/fake-workload.js';
import { MemoryStore } from '../support/memory-store.js';

const IDS = ['a', 'b', 'c'] as const;
const POLICIES = ['always', 'unless-stopped', 'on-failure', 'on-failure:2', 'no', 'on-reboot'];
const RESTARTING = new Set(['always', 'unless-stopped', 'on-failure']);
const RESTORE_DELAY_MS = 1_000;

type Command =
  | { readonly kind: 'exit'; readonly id: (typeof IDS)[number]; readonly code: number }
  | { readonly kind: 'start'; readonly id: (typeof IDS)[number] }
  | { readonly kind: 'stop'; readonly id: (typeof IDS)[number] }
  | { readonly kind: 'wait'; readonly ms: number }
  | { readonly kind: 'daemon'; readonly how: 'close' | 'shutdown'; readonly live: boolean };

const id = fc.constantFrom(...IDS);
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('exit' as const), id, code: fc.constantFrom(0, 1, 129, 137) }),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.record({ kind: fc.constant('start' as const), id }),
      fc.record({ kind: fc.constant('stop' as const), id }),
    ),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.constantFrom(0, 50, 150, 1_000, 5_000) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('daemon' as const),
      how: fc.constantFrom('close' as const, 'shutdown' as const),
      live: fc.boolean(),
    }),
  },
);

/** The machine: every run ever started, alive until it ends, whichever daemon started it. */
class Machine {
  readonly runs = new Map<number, { id: string; run: FakeRun }>();
  #pid = 100;

  workload(id: string): Workload {
    return {
      start: () => {
        const run = new FakeRun(this.#pid++);
        this.runs.set(run.pid, { id, run });
        return run;
      },
      recover: (handle: RunHandle) => {
        const found = this.runs.get((handle as { fake: number }).fake)?.run;
        return found === undefined || found.ended ? undefined : found;
      },
    };
  }

  alive(id: string): FakeRun[] {
    return [...this.runs.values()].filter((entry) => entry.id === id && !entry.run.ended).map((entry) => entry.run);
  }
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('daemon restarts, as a model', () => {
  it('never run a container twice, never cost one a count, never lose one its policy restarts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(fc.constantFrom(...POLICIES), fc.constantFrom(...POLICIES), fc.constantFrom(...POLICIES)),
        fc.array(command, { minLength: 1, maxLength: 25 }),
        async (policies, commands) => {
          const store = new MemoryStore();
          const machine = new Machine();
          let daemon = new Supervisor({ store, restoreDelayMs: RESTORE_DELAY_MS, backoff: { initialMs: 100 } });
          const quiet = (supervisor: Supervisor): void => {
            supervisor.on('error', () => undefined);
          };
          quiet(daemon);
          for (const [index, policy] of policies.entries()) {
            const name = IDS[index] as string;
            await daemon.add(name, { policy, workload: machine.workload(name) });
            await daemon.start(name);
          }
          const infos = (): Map<string, ContainerInfo> => new Map(daemon.list().map((info) => [info.id, info]));
          try {
            for (const step of commands) {
              const before = infos();
              if (step.kind === 'exit') machine.alive(step.id)[0]?.end(step.code);
              else if (step.kind === 'start') void daemon.start(step.id).catch(() => undefined);
              else if (step.kind === 'stop') void daemon.stop(step.id).catch(() => undefined);
              else if (step.kind === 'wait') await vi.advanceTimersByTimeAsync(step.ms);
              else {
                if (step.how === 'close') await daemon.close();
                else {
                  const down = daemon.shutdown();
                  await vi.advanceTimersByTimeAsync(0);
                  await down;
                }
                daemon = new Supervisor({
                  store,
                  restoreDelayMs: RESTORE_DELAY_MS,
                  liveRestore: step.live,
                  backoff: { initialMs: 100 },
                });
                quiet(daemon);
                const restoring = daemon.restore((name) => machine.workload(name));
                await vi.advanceTimersByTimeAsync(0);
                await restoring;
                await vi.advanceTimersByTimeAsync(RESTORE_DELAY_MS);
              }
              await vi.advanceTimersByTimeAsync(0);
              const after = infos();
              for (const name of IDS) {
                const [was, is] = [before.get(name), after.get(name)];
                expect(machine.alive(name).length, `${name} runs twice`).toBeLessThanOrEqual(1);
                if (was === undefined || is === undefined) continue;
                if (step.kind === 'daemon' || step.kind === 'stop' || (step.kind === 'exit' && step.id !== name)) {
                  // Nothing of its own happened: its count is what it was (a wait may see a restart's run fail, so not for waits).
                  expect(is.failureCount, `${name}'s count after ${step.kind}`).toBe(was.failureCount);
                }
                if (step.kind === 'daemon' && (was.status === 'running' || was.status === 'restarting')) {
                  const restarts = RESTARTING.has(was.policy.name) && !was.hasBeenManuallyStopped;
                  if (restarts)
                    expect(['running', 'restarting'], `${name} lost to a daemon restart`).toContain(is.status);
                }
              }
            }
          } finally {
            await daemon.close();
            for (const { run } of machine.runs.values()) if (!run.ended) run.end(0);
          }
        },
      ),
      { numRuns: Math.max(30, Math.round(NUM_RUNS / 20)) },
    );
  });
});
