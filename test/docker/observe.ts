/** Reading what the fact containers did: their start gaps, the daemon's event gaps, their state. */
import { until } from '../bench/containers/clock.js';
import type { ContainerInspect, DockerEvent } from '../bench/containers/docker-cli.js';
import type { ContainerdEvent } from './containerd-events.js';
import type { Lab, Observation } from './lab.js';

/** The milliseconds between consecutive `event` lines (default: between starts). */
export function gapsMs(observations: readonly Observation[], event = 'start'): number[] {
  const times = observations.filter((o) => o.event === event).map((o) => o.atMs);
  return times.slice(1).map((at, i) => at - (times[i] as number));
}

/**
 * For each `die` of a container, the milliseconds until containerd saw dockerd create it again
 * (`createMs`: the delay dockerd waited, plus its own work before the shim) and until the task
 * started (`startMs`: that plus the shim and runc).
 */
export function restartDelaysMs(
  docker: readonly DockerEvent[],
  containerd: readonly ContainerdEvent[],
): { name: string; createMs: number; startMs: number }[] {
  const delays: { name: string; createMs: number; startMs: number }[] = [];
  for (const die of docker.filter((e) => e.Action === 'die')) {
    const after = (topic: string): ContainerdEvent | undefined =>
      containerd.find((e) => e.id === die.Actor.ID && e.topic === topic && e.timeNano > die.timeNano);
    const create = after('/containers/create');
    const start = after('/tasks/start');
    if (create === undefined || start === undefined) continue;
    delays.push({
      name: die.Actor.Attributes.name ?? die.Actor.ID,
      createMs: Math.round((create.timeNano - die.timeNano) / 1e6),
      startMs: Math.round((start.timeNano - die.timeNano) / 1e6),
    });
  }
  return delays;
}

/** The part of `docker inspect` a fact reports. */
export interface StateSummary {
  status: string;
  restartCount: number;
  exitCode: number;
  pid: number;
  error: string;
  policy: string;
}

/** The state of `name`, in short. */
export async function stateOf(lab: Lab, name: string): Promise<StateSummary> {
  const c: ContainerInspect = await lab.docker.inspect(name);
  const { Name, MaximumRetryCount } = c.HostConfig.RestartPolicy;
  return {
    status: c.State.Status,
    restartCount: c.RestartCount,
    exitCode: c.State.ExitCode,
    pid: c.State.Pid,
    error: c.State.Error,
    policy: MaximumRetryCount > 0 ? `${Name}:${MaximumRetryCount}` : Name,
  };
}

/** Waits until `name` has logged `count` lines of `event`. */
export async function waitForLines(
  lab: Lab,
  name: string,
  event: string,
  count: number,
  timeoutMs: number,
): Promise<void> {
  await until(
    async () => (await lab.observations(name)).filter((o) => o.event === event).length >= count,
    timeoutMs,
    `${count} '${event}' lines from ${name}`,
  );
}

/** Waits until `name`'s status is `status`. */
export async function waitForStatus(lab: Lab, name: string, status: string, timeoutMs: number): Promise<void> {
  await until(
    async () => (await lab.docker.inspect(name)).State.Status === status,
    timeoutMs,
    `${name} to be ${status}`,
  );
}

/** How many `event` lines `name` has logged. */
export async function countLines(lab: Lab, name: string, event = 'start'): Promise<number> {
  return (await lab.observations(name)).filter((o) => o.event === event).length;
}

/** Seconds since the Unix epoch, for `docker events --since/--until`. */
export function unixS(): number {
  return Date.now() / 1_000;
}
