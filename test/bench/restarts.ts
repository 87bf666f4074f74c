/**
 * Figure 4: 10k restarts after 100 ms — wall time and p99 lateness of the start callback — for this
 * package, its floor (setTimeout + Promise), p-retry and cockatiel. A restart is a decision, a
 * 100 ms delay and an async start callback; lateness = when the callback ran − (when the restart
 * was scheduled + 100 ms).
 */
import { ConstantBackoff, handleAll, retry } from 'cockatiel';
import pRetry from 'p-retry';
import { RestartManager, restartInThread } from '../../dist/index.js';
import { type Spread, activeTimers, heapUsed, medianOf, percentile, sleep } from './measure.js';

const N = 10_000;
const DELAY_MS = 100;
const ROUNDS = 5;

interface Run {
  wallMs: number;
  p99LatenessMs: number;
}

type Schedule = (started: () => void) => Promise<unknown>;

/** Schedules N restarts in one tick and measures when each start callback runs. */
async function measure(schedule: Schedule): Promise<Run> {
  heapUsed(); // collect the previous contender's garbage now, not during this one
  await sleep(20);
  const lateness: number[] = [];
  const all = new Array<Promise<unknown>>(N);
  const began = performance.now();
  for (let i = 0; i < N; i++) {
    const due = performance.now() + DELAY_MS;
    all[i] = schedule(() => lateness.push(performance.now() - due));
  }
  await Promise.all(all);
  const wallMs = performance.now() - began;
  if (lateness.length !== N) throw new Error(`${lateness.length} of ${N} starts ran`);
  if (activeTimers() !== 0) throw new Error('timers left behind');
  return { wallMs, p99LatenessMs: percentile(lateness, 99) };
}

/** The floor: a timer and a promise by hand, then the async start. */
const floor: Schedule = (started) =>
  new Promise((resolve) => setTimeout(resolve, DELAY_MS)).then(async () => {
    started();
    await Promise.resolve();
  });

/** The package's restart of one exit on `manager`, with an async start callback. */
const restart = (manager: RestartManager, started: () => void): Promise<unknown> =>
  restartInThread(manager, { exitCode: 1 }, async () => {
    started();
    await Promise.resolve();
  }).done;

/**
 * The containers' managers exist before they exit (made off the clock, as a runtime has one per
 * container); each has yet to hand out its AbortSignal, which its first restart makes.
 */
function ours(): Schedule {
  const managers = Array.from({ length: N }, () => new RestartManager('always'));
  let next = 0;
  return (started) => restart(managers[next++] as RestartManager, started);
}

/** Managers that already handed out their signal, as a supervisor's running containers have. */
function oursSeasoned(): Schedule {
  const managers = Array.from({ length: N }, () => new RestartManager('always'));
  for (const manager of managers) if (manager.signal.aborted) throw new Error('a new manager is canceled');
  let next = 0;
  return (started) => restart(managers[next++] as RestartManager, started);
}

/** Each restart with a manager made on the spot, on the clock: the most work per restart. */
const oursOnTheSpot: Schedule = (started) => restart(new RestartManager('always'), started);

/** p-retry: a function that fails once (the exit), retried once after 100 ms (the restart). */
const withPRetry: Schedule = (started) => {
  let attempts = 0;
  return pRetry(
    async () => {
      if (attempts++ === 0) throw new Error('exited');
      started();
      await Promise.resolve();
    },
    { retries: 1, minTimeout: DELAY_MS, maxTimeout: DELAY_MS, factor: 1, randomize: false },
  );
};

/** cockatiel: the same with one retry after a constant 100 ms backoff. */
const policy = retry(handleAll, { maxAttempts: 1, backoff: new ConstantBackoff(DELAY_MS) });
const withCockatiel: Schedule = (started) => {
  let attempts = 0;
  return policy.execute(async () => {
    if (attempts++ === 0) throw new Error('exited');
    started();
    await Promise.resolve();
  });
};

const contenders = {
  package: ours,
  packageSeasoned: oursSeasoned,
  packageOnTheSpot: () => oursOnTheSpot,
  floor: () => floor,
  pRetry: () => withPRetry,
  cockatiel: () => withCockatiel,
};
type Contender = keyof typeof contenders;

export type RestartsResult = Record<Contender, Run & { spread: Record<keyof Run, Spread> }>;

/** The figure: the median of ROUNDS rounds, each running every contender once (in a rotating order). */
export async function benchRestarts(): Promise<RestartsResult> {
  const names = Object.keys(contenders) as Contender[];
  for (const name of names) await measure(contenders[name]()); // warm-up
  const samples = Object.fromEntries(names.map((name) => [name, [] as Run[]])) as Record<Contender, Run[]>;
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length] as Contender;
      // Each contender makes its schedule function (the seasoned managers) before the clock starts.
      samples[name].push(await measure(contenders[name]()));
    }
  }
  const result: Partial<RestartsResult> = {};
  for (const name of names) {
    const runs = samples[name];
    let next = 0;
    result[name] = await medianOf(runs.length, () => runs[next++] as Run);
  }
  return result as RestartsResult;
}
