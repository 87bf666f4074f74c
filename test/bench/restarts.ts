/**
 * Figure 4: 10k restarts after 100 ms — wall time and p99 lateness of the start callback — for this
 * package, the floor (setTimeout + Promise), p-retry and cockatiel.
 */
import { ConstantBackoff, handleAll, retry } from 'cockatiel';
import pRetry from 'p-retry';
import { RestartManager, restartInThread } from '../../dist/index.js';
import { medianOf, percentile, sleep } from './measure.js';

const N = 10_000;
const DELAY_MS = 100;

interface Run {
  wallMs: number;
  p99LatenessMs: number;
}

/** Schedules N restarts with `schedule(index, started)` and measures when each start runs. */
async function measure(schedule: (started: () => void) => Promise<unknown>): Promise<Run> {
  await sleep(50);
  const lateness: number[] = [];
  const began = performance.now();
  const all: Promise<unknown>[] = [];
  for (let i = 0; i < N; i++) {
    const due = performance.now() + DELAY_MS;
    all.push(schedule(() => lateness.push(performance.now() - due)));
  }
  await Promise.all(all);
  if (lateness.length !== N) throw new Error(`${lateness.length} of ${N} starts ran`);
  return { wallMs: performance.now() - began, p99LatenessMs: percentile(lateness, 99) };
}

const floor = (started: () => void) =>
  new Promise((resolve) => setTimeout(resolve, DELAY_MS)).then(async () => {
    started();
    await Promise.resolve();
  });

/** Each restart with a new manager: its AbortSignal is made when the restart starts. */
const ours = (started: () => void) =>
  restartInThread(new RestartManager('always'), { exitCode: 1 }, async () => {
    started();
    await Promise.resolve();
  }).done;

/** Managers that restarted before, as a supervisor's do: their AbortSignal already exists. */
function oursSeasoned(): (started: () => void) => Promise<unknown> {
  const managers = Array.from({ length: N }, () => new RestartManager('always'));
  for (const manager of managers) if (manager.signal.aborted) throw new Error('a new manager is canceled');
  let next = 0;
  return (started) =>
    restartInThread(managers[next++] as RestartManager, { exitCode: 1 }, async () => {
      started();
      await Promise.resolve();
    }).done;
}

const withPRetry = (started: () => void) => {
  let attempts = 0;
  return pRetry(
    async () => {
      if (attempts++ === 0) throw new Error('exited');
      started();
      await Promise.resolve();
    },
    { retries: 1, minTimeout: DELAY_MS, factor: 1, randomize: false },
  );
};

const policy = retry(handleAll, { maxAttempts: 1, backoff: new ConstantBackoff(DELAY_MS) });
const withCockatiel = (started: () => void) => {
  let attempts = 0;
  return policy.execute(async () => {
    if (attempts++ === 0) throw new Error('exited');
    started();
    await Promise.resolve();
  });
};

/** The figure, median of several interleaved runs of each contender. */
export async function benchRestarts(): Promise<
  Record<'package' | 'packageSeasoned' | 'floor' | 'pRetry' | 'cockatiel', Run>
> {
  // Each contender makes its schedule function before the clock starts (the seasoned managers).
  const contenders = {
    package: () => ours,
    packageSeasoned: oursSeasoned,
    floor: () => floor,
    pRetry: () => withPRetry,
    cockatiel: () => withCockatiel,
  };
  await measure(ours);
  await measure(floor);
  const results: Partial<Record<keyof typeof contenders, Run>> = {};
  for (const [name, make] of Object.entries(contenders) as [keyof typeof contenders, () => typeof ours][]) {
    results[name] = await medianOf(5, () => measure(make()));
  }
  return results as Record<keyof typeof contenders, Run>;
}
