/**
 * The wait for `runc run` to have started its container, over stand-ins for the child and the
 * directory watcher: each way it ends, at once when it already has before the wait, and that it
 * leaves no listener behind on any of them; and the pid file's content, read or refused.
 */
import { ChildProcess } from 'node:child_process';
import { EventEmitter, getEventListeners } from 'node:events';
import type { FSWatcher } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { type StartOutcome, readPidFile, waitForStart } from '../../src/workloads/oci-start.js';

interface Waiting {
  readonly child: ChildProcess;
  readonly watcher: EventEmitter & { close: () => void };
  readonly abort: AbortController;
  readonly outcome: Promise<StartOutcome>;
  readonly listeners: () => number[];
}

let dir: string;
let pidFile: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'restart-manager-oci-start-'));
  pidFile = join(dir, 'pid');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function waiting(before: (child: ChildProcess, abort: AbortController) => void = () => undefined): Waiting {
  const child = new ChildProcess();
  const watcher = Object.assign(new EventEmitter(), { close: vi.fn() });
  const abort = new AbortController();
  before(child, abort);
  const outcome = waitForStart(child, watcher as unknown as FSWatcher, pidFile, abort.signal);
  return {
    child,
    watcher,
    abort,
    outcome,
    listeners: () => [
      child.listenerCount('exit') + child.listenerCount('error'),
      watcher.listenerCount('change') + watcher.listenerCount('error'),
      getEventListeners(abort.signal, 'abort').length,
    ],
  };
}

it('waits for the pid file: a change before it exists is not a start', async () => {
  const wait = waiting();
  wait.watcher.emit('change', 'rename', 'pid.tmp');
  await writeFile(pidFile, '42');
  wait.watcher.emit('change', 'rename', 'pid');
  await expect(wait.outcome).resolves.toEqual({ kind: 'started' });
  expect(wait.watcher.close).toHaveBeenCalledOnce();
  expect(wait.listeners()).toEqual([0, 0, 0]);
});

it('ends as exited when `runc run` exits first', async () => {
  const wait = waiting();
  wait.child.emit('exit', 1, null);
  await expect(wait.outcome).resolves.toEqual({ kind: 'exited' });
  expect(wait.watcher.close).toHaveBeenCalledOnce();
  expect(wait.listeners()).toEqual([0, 0, 0]);
});

it('ends as spawn-failed, with the error, when the runtime cannot be spawned', async () => {
  const wait = waiting();
  const error = Object.assign(new Error('spawn /no/runc ENOENT'), { code: 'ENOENT' });
  wait.child.emit('error', error);
  await expect(wait.outcome).resolves.toStrictEqual({ kind: 'spawn-failed', error });
  expect(wait.listeners()).toEqual([0, 0, 0]);
});

it('ends as aborted when the signal aborts', async () => {
  const wait = waiting();
  wait.abort.abort();
  await expect(wait.outcome).resolves.toEqual({ kind: 'aborted' });
  expect(wait.listeners()).toEqual([0, 0, 0]);
});

it('closes a watch that broke at once, and still ends when `runc run` exits', async () => {
  const wait = waiting();
  wait.watcher.emit('error', new Error('the directory went'));
  expect(wait.watcher.close).toHaveBeenCalledOnce();
  expect(wait.watcher.listenerCount('change')).toBe(0);
  wait.child.emit('exit', null, 'SIGKILL');
  await expect(wait.outcome).resolves.toEqual({ kind: 'exited' });
  expect(wait.listeners()).toEqual([0, 0, 0]);
});

it('ends at once as started when the pid file is there before the wait (its event came with no listener)', async () => {
  await writeFile(pidFile, '42');
  const wait = waiting();
  await expect(wait.outcome).resolves.toEqual({ kind: 'started' });
  expect(wait.watcher.close).toHaveBeenCalledOnce();
  expect(wait.listeners()).toEqual([0, 0, 0]);
});

it('ends at once as exited when `runc run` has exited before the wait', async () => {
  const wait = waiting((child) => {
    Object.defineProperty(child, 'exitCode', { value: 1 });
  });
  await expect(wait.outcome).resolves.toEqual({ kind: 'exited' });
  expect(wait.listeners()).toEqual([0, 0, 0]);
});

it('ends at once as aborted when the signal has aborted before the wait', async () => {
  const wait = waiting((_, abort) => {
    abort.abort();
  });
  await expect(wait.outcome).resolves.toEqual({ kind: 'aborted' });
  expect(wait.listeners()).toEqual([0, 0, 0]);
});

it.each([
  ['42\n', 42],
  [' 7 ', 7],
])('reads the pid in a pid file holding %j', async (text, pid) => {
  await writeFile(pidFile, text);
  expect(readPidFile(pidFile)).toBe(pid);
});

it.each(['0', '-3', '', '1.5', 'x'])('refuses a pid file holding %j, which names no process', async (text) => {
  await writeFile(pidFile, text);
  expect(() => readPidFile(pidFile)).toThrow(
    new Error(`The pid file ${pidFile} holds no pid: ${JSON.stringify(text)}`),
  );
});
