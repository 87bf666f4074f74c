/**
 * The container bench: scenario A (a crash storm of 1, 20 and 60 containers), B (a daemon restart
 * with 60 running, for drivers that have a daemon) and C (the runtime's memory with 1 and with 60
 * running), with the sides interleaved round by round (each round led by another side) so that the
 * machine's load drifts over all of them alike.
 */
import { execFileSync } from 'node:child_process';
import { loadavg, cpus, release } from 'node:os';
import { join } from 'node:path';
import { sleep } from './clock.js';
import type { BenchContainer, ContainerDriver, RestartableDriver } from './driver.js';
import { type Memory, memoryByProgram } from './procfs.js';
import {
  crashStorm,
  type DaemonRestartResult,
  daemonRestart,
  runtimeMemory,
  startSleepers,
  type StormResult,
} from './scenarios.js';

/** How much to run. */
export interface BenchOptions {
  /** Where each run's observation directory goes (a fresh one per run). */
  workDir: string;
  /** Scenario A's container counts. @defaultValue [1, 20, 60] */
  sizes?: readonly number[];
  /** Scenario A's rounds (each runs every size on every driver). @defaultValue 3 */
  rounds?: number;
  /** Containers running for scenarios B and C (C also measures 1). @defaultValue 60 */
  runningCount?: number;
  /** Daemon restarts of each kind (`kill`, `stop`) in scenario B. @defaultValue 3 */
  daemonRounds?: number;
  /** Called with a line of progress. @defaultValue console.error */
  progress?: (line: string) => void;
}

/** Everything one bench measured, raw. */
export interface BenchResults {
  machine: { nproc: number; kernel: string; node: string; loadAverageBefore: number[]; loadAverageAfter: number[] };
  storms: ({ driver: string; round: number } & StormResult)[];
  daemonRestarts: ({ driver: string; round: number } & DaemonRestartResult)[];
  memory: { driver: string; containers: number; total: Memory; byProgram: Record<string, Memory> }[];
}

/** `items` starting from the `by`-th: each round starts with another side, so that none always follows the same one. */
const rotated = <T>(items: readonly T[], by: number): T[] => {
  const start = items.length === 0 ? 0 : by % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
};

const isRestartable = (driver: ContainerDriver): driver is RestartableDriver => 'restartDaemon' in driver;

/** Runs the scenarios on every driver. */
export async function runContainerBench(
  drivers: readonly ContainerDriver[],
  options: BenchOptions,
): Promise<BenchResults> {
  const {
    workDir,
    sizes = [1, 20, 60],
    rounds = 3,
    runningCount = 60,
    daemonRounds = 3,
    progress = console.error,
  } = options;
  const results: BenchResults = {
    machine: {
      nproc: cpus().length,
      kernel: release(),
      node: process.version,
      loadAverageBefore: loadavg(),
      loadAverageAfter: [],
    },
    storms: [],
    daemonRestarts: [],
    memory: [],
  };
  let runNumber = 0;
  const obsDir = (): string => join(workDir, `obs-${++runNumber}`);
  for (let round = 1; round <= rounds; round++)
    for (const size of sizes)
      for (const driver of rotated(drivers, round - 1)) {
        const storm = await crashStorm(driver, size, obsDir());
        progress(`A round ${round} ${driver.name} ${size}: all running again after ${storm.allRunningAgainMs} ms`);
        results.storms.push({ driver: driver.name, round, ...storm });
      }
  const measureMemory = async (driver: ContainerDriver, containers: number): Promise<void> => {
    // Let the start-up work settle (Go's and V8's heaps grow, then level) before reading memory.
    await sleep(3_000);
    const memory = {
      driver: driver.name,
      containers,
      total: runtimeMemory(driver),
      byProgram: memoryByProgram(driver.runtimePids()),
    };
    progress(`C ${driver.name} ${containers}: ${(memory.total.rssKiB / 1024).toFixed(1)} MiB RSS`);
    results.memory.push(memory);
  };
  // C: memory with 1 and with `runningCount` running, each side alone (PSS splits the pages that
  // runc's processes share among all of them, whoever started them); the difference is what each
  // more container costs.
  for (const driver of drivers)
    for (const count of [1, runningCount]) {
      await startSleepers(driver, count, obsDir());
      await measureMemory(driver, count);
      await driver.removeAll();
    }
  // B: the daemons keep their containers running (idle sleepers: no load on the others' rounds).
  const running: { driver: RestartableDriver; sleepers: BenchContainer[]; dir: string }[] = [];
  for (const driver of drivers.filter(isRestartable)) {
    const dir = obsDir();
    running.push({ driver, sleepers: await startSleepers(driver, runningCount, dir), dir });
  }
  for (let round = 1; round <= daemonRounds; round++)
    for (const { driver, sleepers, dir } of rotated(running, round - 1))
      for (const how of ['kill', 'stop'] as const) {
        const restart = await daemonRestart(driver, sleepers, dir, how);
        progress(`B ${driver.name} ${how} ${round}: all running again after ${restart.allRunningAgainMs} ms`);
        results.daemonRestarts.push({ driver: driver.name, round, ...restart });
      }
  for (const { driver } of running) await driver.removeAll();
  results.machine.loadAverageAfter = loadavg();
  return results;
}

/** `runc --version`, `docker version`, … first line, for the record; `undefined` when it fails. */
export function versionOf(command: string, args: readonly string[]): string | undefined {
  try {
    return execFileSync(command, args, { encoding: 'utf8' }).split('\n')[0];
  } catch {
    return undefined;
  }
}
