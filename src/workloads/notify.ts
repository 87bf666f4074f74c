/**
 * The notify lines a run writes on its notify fd, sd_notify style: one `KEY=value` assignment per
 * newline-terminated line. Pure: bytes in, notifications out, the unfinished line carried along.
 *
 * @packageDocumentation
 */
import type { RunNotification } from '../workload.js';

/** The longest notify line kept: a longer one is cut there, the rest of it up to its newline dropped. */
export const MAX_NOTIFY_LINE_BYTES = 4096;

const READY: RunNotification = Object.freeze({ type: 'ready' });
const WATCHDOG: RunNotification = Object.freeze({ type: 'watchdog' });
const WATCHDOG_TRIGGER: RunNotification = Object.freeze({ type: 'watchdog-trigger' });

/**
 * The notification one line says (without its newline), or `undefined` for a line that says none
 * that is known: no `=`, an unknown key (`MAINPID=`, `STOPPING=1`, …) or value (`READY=0`).
 */
export function parseNotifyLine(line: string): RunNotification | undefined {
  const equals = line.indexOf('=');
  const key = line.slice(0, equals);
  const value = line.slice(equals + 1);
  if (equals < 0) return undefined;
  switch (key) {
    case 'READY':
      return value === '1' ? READY : undefined;
    case 'WATCHDOG':
      return value === '1' ? WATCHDOG : value === 'trigger' ? WATCHDOG_TRIGGER : undefined;
    case 'STATUS':
      return { type: 'status', text: value };
    default:
      return undefined;
  }
}

/** What {@link readNotifyChunk} made of one chunk. */
export interface NotifyChunk {
  /** The bytes of the line not finished yet (at most {@link MAX_NOTIFY_LINE_BYTES}), for the next chunk. */
  readonly pending: Uint8Array;
  /** The notifications of the lines the chunk finished, in order. */
  readonly notifications: readonly RunNotification[];
  /** How many of those lines were ignored (malformed or unknown); blank lines are skipped, not counted. */
  readonly ignored: number;
}

/**
 * Reads one chunk of the notify pipe: `pending` is the unfinished line of the chunks before (from
 * the last call; an empty array at first). Each line is decoded as UTF-8 once its newline arrives.
 */
export function readNotifyChunk(pending: Uint8Array, chunk: Uint8Array): NotifyChunk {
  const notifications: RunNotification[] = [];
  let ignored = 0;
  let line = pending;
  let start = 0;
  for (;;) {
    const newline = chunk.indexOf(0x0a, start);
    const end = newline < 0 ? chunk.length : newline;
    const room = MAX_NOTIFY_LINE_BYTES - line.length;
    if (room > 0 && end > start) line = Buffer.concat([line, chunk.subarray(start, Math.min(end, start + room))]);
    if (newline < 0) break;
    if (line.length > 0) {
      const notification = parseNotifyLine(Buffer.from(line.buffer, line.byteOffset, line.length).toString('utf8'));
      if (notification === undefined) ignored++;
      else notifications.push(notification);
    }
    line = new Uint8Array(0);
    start = newline + 1;
  }
  return { pending: line, notifications, ignored };
}
