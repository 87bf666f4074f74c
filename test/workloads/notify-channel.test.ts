/**
 * A run's notify FIFO read by the daemon, over a real FIFO (this test holds its write end, as a run
 * and its monitor do): notifications replayed to a late listener then delivered as they come, the
 * history bounded, an unsubscribed listener called no more, a listener that throws kept, ignored
 * lines counted, and the pipe closed on `close` (what it still holds read first) and at EOF.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { RunNotification } from '../../src/index.js';
import { MAX_NOTIFY_HISTORY, NotifyChannel } from '../../src/workloads/notify-channel.js';
import { debugLines } from '../support/debug-lines.js';
import { waitFor } from '../support/wait-for.js';

let dir: string;
let fifo: string;
let writer: number | undefined;
let channel: NotifyChannel | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'restart-manager-notify-'));
  fifo = join(dir, 'notify');
  execFileSync('mkfifo', [fifo]);
  // Read-write, as the monitor holds it: the open does not wait for a reader.
  writer = openSync(fifo, constants.O_RDWR);
});

afterEach(async () => {
  channel?.close();
  if (writer !== undefined) closeSync(writer);
  writer = undefined;
  await rm(dir, { recursive: true, force: true });
});

function write(text: string): void {
  writeSync(writer as number, text);
}

function collect(into: RunNotification[]): (notification: RunNotification) => void {
  return (notification) => into.push(notification);
}

it('replays what came before a listener, then delivers each new notification; unsubscribe stops it', async () => {
  write('READY=1\nSTATUS=starting\nbogus\n');
  channel = new NotifyChannel(fifo, 'test');
  await waitFor(() => channel?.ignoredLines === 1, 5_000, 'the first lines to be read');
  const seen: RunNotification[] = [];
  const unsubscribe = channel.subscribe(collect(seen));
  expect(seen).toEqual([{ type: 'ready' }, { type: 'status', text: 'starting' }]);
  write('WATCHDOG=1\n');
  await waitFor(() => seen.length === 3, 5_000, 'the watchdog ping');
  expect(seen[2]).toEqual({ type: 'watchdog' });
  unsubscribe();
  write('WATCHDOG=trigger\n');
  const late: RunNotification[] = [];
  await waitFor(
    () => {
      late.length = 0;
      channel?.subscribe(collect(late))();
      return late.length === 4;
    },
    5_000,
    'the trigger',
  );
  expect(seen).toHaveLength(3);
  expect(late.at(-1)).toEqual({ type: 'watchdog-trigger' });
});

it(`keeps the last ${MAX_NOTIFY_HISTORY} notifications for a late listener`, async () => {
  channel = new NotifyChannel(fifo, 'test');
  const all: RunNotification[] = [];
  channel.subscribe(collect(all));
  for (let index = 0; index < MAX_NOTIFY_HISTORY + 10; index++) write(`STATUS=${index}\n`);
  await waitFor(() => all.length === MAX_NOTIFY_HISTORY + 10, 5_000, 'every line');
  const late: RunNotification[] = [];
  channel.subscribe(collect(late));
  expect(late).toHaveLength(MAX_NOTIFY_HISTORY);
  expect(late[0]).toEqual({ type: 'status', text: '10' });
  expect(late.at(-1)).toEqual({ type: 'status', text: String(MAX_NOTIFY_HISTORY + 9) });
});

it('a listener that throws is logged and still called; the others are called too', async () => {
  channel = new NotifyChannel(fifo, 'web');
  const seen: RunNotification[] = [];
  let thrown = 0;
  const lines = await debugLines('restart-manager:notify', async () => {
    channel?.subscribe(() => {
      thrown++;
      throw new Error('listener trouble');
    });
    channel?.subscribe(collect(seen));
    write('READY=1\nWATCHDOG=1\n');
    await waitFor(() => seen.length === 2, 5_000, 'both lines');
  });
  expect(thrown).toBe(2);
  expect(lines.filter((line) => line.includes('web: a notify listener threw: Error: listener trouble'))).toHaveLength(
    2,
  );
});

it('closes its pipe at EOF (every writer gone), and keeps what it read', async () => {
  channel = new NotifyChannel(fifo, 'web');
  write('READY=1\n');
  closeSync(writer as number);
  writer = undefined;
  await waitFor(() => channel?.closed === true, 5_000, 'the pipe to close');
  const seen: RunNotification[] = [];
  channel.subscribe(collect(seen));
  expect(seen).toEqual([{ type: 'ready' }]);
});

it('close first reads what the pipe still holds: the last lines of a run that has just exited', () => {
  channel = new NotifyChannel(fifo, 'web');
  // Written and closed at once, as a run's last line: the channel's socket has not read it yet.
  write('STATUS=bye\nnot a notification\n');
  channel.close();
  const seen: RunNotification[] = [];
  channel.subscribe(collect(seen));
  expect(seen).toEqual([{ type: 'status', text: 'bye' }]);
  expect(channel.ignoredLines).toBe(1);
});

it('close closes the pipe, and a second close does nothing', () => {
  channel = new NotifyChannel(fifo, 'web');
  expect(channel.closed).toBe(false);
  channel.close();
  channel.close();
  expect(channel.closed).toBe(true);
});

it('a FIFO that is gone cannot be opened: ENOENT', () => {
  expect(() => new NotifyChannel(join(dir, 'missing'), 'test')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
});
