/**
 * The container bench's scenarios, for any {@link ContainerDriver}: every container logs
 * `EVENT UPTIME` lines to `/obs/ID.log` on the host's own clock, so that each side is timed by the
 * same clock from inside its containers.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UPTIME_SH, until, uptimeMs } from './clock.js';
import type { BenchContainer, ContainerDriver, RestartableDriver } from './driver.js';
import { type Memory, memoryOf } from './procfs.js';

const log = (id: string): string => `L=/obs/${id}.log; U() { ${UPTIME_SH}; }; echo start $(U) >> $L; `;

/** The uptimes (ms) of `id`'s `event` lines in `obsDir`. */
export function linesOf(obsDir: string, id: string, event: string): number[] {
  let text: string;
  try {
    text = readFileSync(join(obsDir, `${id}.log`), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${event} `))
    .map((line) => Math.round(Number(line.split(' ')[1]) * 1_000));
}

/** A storm's figures, in ms after the host let every container crash. */
export interface StormResult {
  containers: number;
  /** The last container running again: the scenario's figure. */
  allRunningAgainMs: number;
  /** The median container running again. */
  medianRunningAgainMs: number;
  /** The first container running again. */
  firstRunningAgainMs: number;
  /** The last container to see the trigger and crash (the same for every driver: a floor under the figure). */
  lastCrashMs: number;
}

/**
 * Scenario A: `count` containers wait on a FIFO, the host writes one line per container, each
 * reads one, exits 1 and is restarted by the driver; its second run logs `start`. The FIFO is held
 * open read-write by every container, so a line written before a container reads it waits for it.
 */
export async function crashStorm(driver: ContainerDriver, count: number, obsDir: string): Promise<StormResult> {
  mkdirSync(obsDir, { recursive: true });
  const fifo = join(obsDir, 'go');
  execFileSync('mkfifo', [fifo]);
  const containers: BenchContainer[] = Array.from({ length: count }, (_, i) => {
    const id = `${driver.name}-a${i}`;
    const crashed = `/obs/${id}.crashed`;
    const script =
      log(id) +
      `if [ -e ${crashed} ]; then trap 'exit 143' TERM; sleep 100000 & wait $!; exit 0; fi; ` +
      `exec 3<>/obs/go; echo ready $(U) >> $L; read x <&3; touch ${crashed}; echo crash $(U) >> $L; exit 1`;
    return { id, script };
  });
  try {
    await driver.start(containers, obsDir);
    await until(() => containers.every(({ id }) => linesOf(obsDir, id, 'ready').length > 0), 300_000, `${count} ready`);
    const fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    const triggeredAtMs = uptimeMs();
    writeSync(fd, '\n'.repeat(count));
    closeSync(fd);
    await until(
      () => containers.every(({ id }) => linesOf(obsDir, id, 'start').length >= 2),
      120_000,
      `${count} containers running again`,
    );
    const again = containers
      .map(({ id }) => (linesOf(obsDir, id, 'start')[1] as number) - triggeredAtMs)
      .sort((a, b) => a - b);
    const crashes = containers.map(({ id }) => (linesOf(obsDir, id, 'crash')[0] as number) - triggeredAtMs);
    return {
      containers: count,
      allRunningAgainMs: again.at(-1) as number,
      medianRunningAgainMs: again[Math.floor(again.length / 2)] as number,
      firstRunningAgainMs: again[0] as number,
      lastCrashMs: Math.max(...crashes),
    };
  } finally {
    await driver.removeAll();
  }
}

/** Scenario B's figures for one daemon restart, in ms after the new daemon was spawned. */
export interface DaemonRestartResult {
  how: 'stop' | 'kill';
  containers: number;
  readyMs: number;
  allRunningAgainMs: number;
  medianRunningAgainMs: number;
  /** When the containers were SIGTERMed (by the old daemon on a stop: negative; by the new one after a kill). */
  firstTermMs: number | null;
  lastTermMs: number | null;
}

/** Starts `count` containers that run until SIGTERMed (logging `term`), for {@link daemonRestart} and the memory figure. */
export async function startSleepers(driver: ContainerDriver, count: number, obsDir: string): Promise<BenchContainer[]> {
  mkdirSync(obsDir, { recursive: true });
  const containers = Array.from({ length: count }, (_, i) => {
    const id = `${driver.name}-b${i}`;
    return { id, script: log(id) + "trap 'echo term $(U) >> $L; exit 143' TERM; sleep 100000 & wait $!" };
  });
  await driver.start(containers, obsDir);
  await until(() => containers.every(({ id }) => linesOf(obsDir, id, 'start').length > 0), 300_000, `${count} started`);
  return containers;
}

/** Scenario B: with the sleepers running, restart the daemon; time until each runs again. */
export async function daemonRestart(
  driver: RestartableDriver,
  sleepers: readonly BenchContainer[],
  obsDir: string,
  how: 'stop' | 'kill',
): Promise<DaemonRestartResult> {
  const startsBefore = new Map(sleepers.map(({ id }) => [id, linesOf(obsDir, id, 'start').length]));
  const endedAtMs = uptimeMs();
  const { spawnedAtMs, readyAtMs } = await driver.restartDaemon(how);
  await until(
    () => sleepers.every(({ id }) => linesOf(obsDir, id, 'start').length > (startsBefore.get(id) ?? 0)),
    300_000,
    `${sleepers.length} containers running again`,
  );
  const again = sleepers
    .map(({ id }) => (linesOf(obsDir, id, 'start').at(-1) as number) - spawnedAtMs)
    .sort((a, b) => a - b);
  const terms = sleepers.flatMap(({ id }) =>
    linesOf(obsDir, id, 'term')
      .filter((at) => at >= endedAtMs)
      .map((at) => at - spawnedAtMs),
  );
  return {
    how,
    containers: sleepers.length,
    readyMs: readyAtMs - spawnedAtMs,
    allRunningAgainMs: again.at(-1) as number,
    medianRunningAgainMs: again[Math.floor(again.length / 2)] as number,
    firstTermMs: terms.length > 0 ? Math.min(...terms) : null,
    lastTermMs: terms.length > 0 ? Math.max(...terms) : null,
  };
}

/** Scenario C: the runtime's own memory with the given containers running. */
export function runtimeMemory(driver: ContainerDriver): Memory {
  return memoryOf(driver.runtimePids());
}
