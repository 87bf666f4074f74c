/**
 * containerd's own event stream (`ctr events`), read beside Docker's: its `/containers/create` comes
 * when dockerd begins to start a container (after the restart delay, before the shim and runc), so
 * `die` → `/containers/create` is the delay dockerd waited, without the ~1 s a start takes here.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { dockerdPaths } from '../bench/containers/dockerd.js';

/** One containerd event: its topic (`/containers/create`, `/tasks/start`, …), the container id, and its wall time in ns. */
export interface ContainerdEvent {
  topic: string;
  id: string;
  timeNano: number;
}

/** A running `ctr events`; `stop` ends it and returns what it saw. */
export interface ContainerdEventStream {
  stop(): Promise<ContainerdEvent[]>;
}

/** Parses `2026-11-30 18:18:16.123456789 +0000 UTC moby /tasks/start {"container_id":"…",…}`. */
export function parseCtrEvent(line: string): ContainerdEvent | undefined {
  const match = /^(\S+) (\d\d:\d\d:\d\d)(\.\d+)? \+0000 UTC \S+ (\S+) (\{.*\})$/.exec(line);
  if (match === null) return undefined;
  const [, date, time, fraction = '.0', topic = '', json = '{}'] = match;
  const seconds = Date.parse(`${date}T${time}Z`) / 1_000;
  const body = JSON.parse(json) as { id?: string; container_id?: string };
  return { topic, id: body.container_id ?? body.id ?? '', timeNano: seconds * 1e9 + Number(fraction) * 1e9 };
}

/**
 * Starts `ctr events` on the containerd of the private daemon under `baseDir`.
 *
 * @throws when `ctr` (Debian's containerd package) is missing.
 */
export function containerdEvents(ctr: string, baseDir: string): ContainerdEventStream {
  const address = join(dockerdPaths(baseDir).exec, 'containerd', 'containerd.sock');
  const child = spawn(ctr, ['--address', address, 'events'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const events: ContainerdEvent[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const event = parseCtrEvent(line);
    if (event !== undefined) events.push(event);
  });
  const closed = new Promise<void>((resolve) =>
    child.once('close', () => {
      resolve();
    }),
  );
  return {
    stop: async () => {
      child.kill('SIGTERM');
      await closed;
      return events;
    },
  };
}
