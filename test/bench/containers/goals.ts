/**
 * The goals for the library's side of the container bench, checked against the floor and
 * dockerd measured in the same run: each figure is the median of its rounds.
 */
import type { BenchResults } from './bench.js';

/** The median of `values` (`undefined` when there are none). */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** One figure of the library's side beside the floor's and dockerd's, with its goal. */
export interface Goal {
  figure: string;
  unit: 'ms' | 'MiB';
  library: number | undefined;
  floor: number | undefined;
  dockerd: number | undefined;
  /** library ÷ floor. */
  ratio: number | undefined;
  /** dockerd ÷ library. */
  speedUp: number | undefined;
  /** The goal in words, `—` when the issue sets none. */
  goal: string;
  /** Whether it was met; `undefined` when there is no goal, or what it compares with did not run. */
  met: boolean | undefined;
}

const LIBRARY = 'library';
const FLOOR = 'runc-floor';
const DOCKERD = 'dockerd';

const divide = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b;

/** Both checks, when both sides ran; one that could not be checked leaves the goal unknown. */
const all = (...checks: (boolean | undefined)[]): boolean | undefined =>
  checks.includes(false) ? false : checks.includes(undefined) ? undefined : true;

/**
 * The memory (KiB) each more running container costs a side (or one `program` of it): the slope
 * between the two counts measured.
 */
export function perContainerKiB(
  results: BenchResults,
  driver: string,
  kind: 'pssKiB' | 'privateKiB',
  program?: string,
): number | undefined {
  const points = results.memory
    .filter((m) => m.driver === driver)
    .map((m) => ({
      containers: m.containers,
      kiB: program === undefined ? m.total[kind] : (m.byProgram[program]?.[kind] ?? 0),
    }))
    .sort((a, b) => a.containers - b.containers);
  const [low, high] = [points[0], points.at(-1)];
  if (low === undefined || high === undefined || high.containers === low.containers) return undefined;
  return (high.kiB - low.kiB) / (high.containers - low.containers);
}

/** The goals table's rows, from the library's, the floor's and dockerd's figures in `results`. */
export function goalsOf(results: BenchResults): Goal[] {
  const sizes = [...new Set(results.storms.map((s) => s.containers))].sort((a, b) => a - b);
  const largest = sizes.at(-1);
  const storm = (driver: string, size: number, key: 'allRunningAgainMs' | 'firstRunningAgainMs'): number | undefined =>
    median(results.storms.filter((s) => s.driver === driver && s.containers === size).map((s) => s[key]));
  const goals: Goal[] = [];
  for (const size of sizes) {
    const [library, floor, dockerd] = [LIBRARY, FLOOR, DOCKERD].map((d) => storm(d, size, 'allRunningAgainMs'));
    const ratio = divide(library, floor);
    const speedUp = divide(dockerd, library);
    const isGoal = size === largest && size >= 60;
    goals.push({
      figure: `A: ${size} crashed, all running again`,
      unit: 'ms',
      library,
      floor,
      dockerd,
      ratio,
      speedUp,
      goal: isGoal ? '≤ 1.1× the floor, ≥ 8× faster than dockerd' : '—',
      met: isGoal
        ? all(ratio === undefined ? undefined : ratio <= 1.1, speedUp === undefined ? undefined : speedUp >= 8)
        : undefined,
    });
  }
  if (largest !== undefined) {
    const [library, floor, dockerd] = [LIBRARY, FLOOR, DOCKERD].map((d) => storm(d, largest, 'firstRunningAgainMs'));
    goals.push({
      figure: `A: ${largest} crashed, the first running again`,
      unit: 'ms',
      library,
      floor,
      dockerd,
      ratio: divide(library, floor),
      speedUp: divide(dockerd, library),
      goal: 'sooner than the floor',
      met: library === undefined || floor === undefined ? undefined : library < floor,
    });
  }
  for (const how of ['kill', 'stop'] as const) {
    const restart = (driver: string): number | undefined =>
      median(
        results.daemonRestarts.filter((r) => r.driver === driver && r.how === how).map((r) => r.allRunningAgainMs),
      );
    const [library, dockerd] = [restart(LIBRARY), restart(DOCKERD)];
    if (library === undefined) continue;
    const running = results.daemonRestarts.find((r) => r.driver === LIBRARY)?.containers;
    const speedUp = divide(dockerd, library);
    goals.push({
      figure: `B: daemon ${how === 'kill' ? 'SIGKILLed' : 'stopped (SIGTERM)'}, ${running} running again`,
      unit: 'ms',
      library,
      floor: undefined,
      dockerd,
      ratio: undefined,
      speedUp,
      goal: '≥ 5× faster than dockerd',
      met: speedUp === undefined ? undefined : speedUp >= 5,
    });
  }
  const mib = (kib: number | undefined): number | undefined => (kib === undefined ? undefined : kib / 1024);
  const [library, floor, dockerd] = [LIBRARY, FLOOR, DOCKERD].map((d) => mib(perContainerKiB(results, d, 'pssKiB')));
  if (library !== undefined)
    goals.push({
      figure: 'C: each more running container, the runtime’s PSS',
      unit: 'MiB',
      library,
      floor,
      dockerd,
      ratio: divide(library, floor),
      speedUp: divide(dockerd, library),
      goal: '—',
      met: undefined,
    });
  const [supervisor, loop] = [LIBRARY, FLOOR].map((d) => mib(perContainerKiB(results, d, 'privateKiB', 'node')));
  if (supervisor !== undefined)
    goals.push({
      figure: 'C: each more running container, the Supervisor’s node process alone (private memory)',
      unit: 'MiB',
      library: supervisor,
      floor: loop,
      dockerd: undefined,
      ratio: divide(supervisor, loop),
      speedUp: undefined,
      goal: '—',
      met: undefined,
    });
  return goals;
}
