/**
 * The container part of `npm run bench`: the library against the bare-runc floor on real containers
 * (scenario A with 1, 20 and 60 containers, 3 rounds; B, a daemon restart with 60 running, 2 rounds
 * of each kind; C, memory with 1 and 60), as rows of the performance table. dockerd is not run here:
 * `npx tsx test/bench/containers/run.ts --library --floor --dockerd` adds it (Debian's docker.io).
 * Where the containers cannot run (not root, no runc, no busybox-static, no build), one row says why.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type BenchResults, runContainerBench } from './bench.js';
import type { ContainerDriver } from './driver.js';
import { type Goal, goalsOf } from './goals.js';
import { libraryDriver } from './library-driver.js';
import { BUSYBOX } from './rootfs.js';
import { runcFloorDriver } from './runc-floor.js';
import { summarize } from './summary.js';
import { findTool } from './tools.js';

/** A row of the performance table (test/bench/run.ts), whatever its figure. */
export interface ContainerRow {
  figure: string;
  ours: string;
  floor: string;
  peers: string;
  target: string;
  met: boolean;
}

/** The command that adds dockerd, for the rows that compare with it. */
export const DOCKERD_COMMAND = 'npx tsx test/bench/containers/run.ts --library --floor --dockerd';

/** Why the container bench cannot run here, or `undefined` when it can. */
export function whyNotRunnable(): string | undefined {
  if (process.platform !== 'linux') return `containers need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'it needs root (runc creates namespaces and mounts)';
  if (findTool('runc') === undefined) return 'runc is not installed (apt-get install -y runc)';
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} is missing (apt-get install -y busybox-static)`;
  if (!existsSync(new URL('../../../dist/index.js', import.meta.url)))
    return 'the library is not built (npm run build)';
  return undefined;
}

const shown = (value: number | undefined, unit: Goal['unit']): string =>
  value === undefined ? '–' : unit === 'ms' ? `${Math.round(value)} ms` : `${value.toFixed(2)} MiB`;

/** The performance table's rows for these results: each goal's figures, and whether it was met in this run. */
export function rowsOf(results: BenchResults): ContainerRow[] {
  const goals = goalsOf(results);
  const storms = goals.filter((g) => g.figure.startsWith('A: ') && g.figure.endsWith('all running again'));
  const rest = goals.filter((g) => !storms.includes(g));
  const largest = storms.at(-1);
  const stormRow: ContainerRow[] =
    largest === undefined
      ? []
      : [
          {
            figure: `real containers: N crashed \`ociWorkload\`s all running again (N = ${storms.map((g) => g.figure.split(' ')[1]).join(', ')})`,
            ours: storms.map((g) => `${shown(g.library, g.unit)} (${g.ratio?.toFixed(2) ?? '–'}×)`).join(', '),
            floor: `${storms.map((g) => shown(g.floor, g.unit)).join(', ')} (bare \`runc run\` loop)`,
            peers: `dockerd not run; its goal (≥ 8× faster at N = 60) is checked by \`${DOCKERD_COMMAND}\``,
            target: `≤ 1.1× the floor at N = ${largest.figure.split(' ')[1]}`,
            met: largest.ratio !== undefined && largest.ratio <= 1.1,
          },
        ];
  return [
    ...stormRow,
    ...rest.map((g) => ({
      figure: `real containers: ${g.figure.replace(/^[ABC]: /, '')}`,
      ours: `${shown(g.library, g.unit)}${g.ratio === undefined ? '' : ` (${g.ratio.toFixed(2)}×)`}`,
      floor: g.floor === undefined ? '—' : shown(g.floor, g.unit),
      peers: 'dockerd not run (opt-in, as above)',
      target: g.goal === '—' ? 'none set (reported)' : g.met === undefined ? `${g.goal}: not checked here` : g.goal,
      // A goal against dockerd cannot be checked without it: not shown met in this run.
      met: g.goal === '—' ? true : g.met === true,
    })),
  ];
}

/**
 * Runs the container bench (library and floor) and returns its rows; writes the full tables to
 * `resultsDir/containers.md` and the raw results to `containers.json`. About 2 minutes.
 */
export async function benchContainers(
  resultsDir: URL,
  progress: (line: string) => void = () => undefined,
): Promise<ContainerRow[]> {
  const why = whyNotRunnable();
  if (why !== undefined)
    return [
      {
        figure: 'real containers (`ociWorkload` against bare runc)',
        ours: `not measured: ${why}`,
        floor: '—',
        peers: '—',
        target: '≤ 1.1× the floor at N = 60, ≥ 8× faster than dockerd',
        met: false,
      },
    ];
  const workDir = await mkdtemp('/tmp/rmw-');
  const drivers: ContainerDriver[] = [];
  try {
    drivers.push(await libraryDriver(), await runcFloorDriver());
    const results = await runContainerBench(drivers, {
      workDir,
      sizes: [1, 20, 60],
      rounds: 3,
      runningCount: 60,
      daemonRounds: 2,
      progress,
    });
    await mkdir(resultsDir, { recursive: true });
    await writeFile(new URL('containers.json', resultsDir), `${JSON.stringify(results, null, 2)}\n`);
    await writeFile(new URL('containers.md', resultsDir), `${summarize(results)}\n`);
    return rowsOf(results);
  } finally {
    for (const driver of drivers) await driver.close();
    await rm(workDir, { recursive: true, force: true });
  }
}
