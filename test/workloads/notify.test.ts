/**
 * The notify lines a run writes, sd_notify style: which line is which notification, which are
 * ignored (and counted), blank lines skipped, lines split across chunks, and a line longer than
 * 4 KiB cut there with the rest of it dropped up to its newline.
 */
import { describe, expect, it } from 'vitest';
import { MAX_NOTIFY_LINE_BYTES, parseNotifyLine, readNotifyChunk } from '../../src/workloads/notify.js';

describe('parseNotifyLine', () => {
  it.each([
    ['READY=1', { type: 'ready' }],
    ['WATCHDOG=1', { type: 'watchdog' }],
    ['WATCHDOG=trigger', { type: 'watchdog-trigger' }],
    ['STATUS=serving 3 clients', { type: 'status', text: 'serving 3 clients' }],
    ['STATUS=', { type: 'status', text: '' }],
    ['STATUS=a=b', { type: 'status', text: 'a=b' }],
    ['STATUS=  padded  ', { type: 'status', text: '  padded  ' }],
    ['READY=0', undefined],
    ['READY=1 ', undefined],
    ['READY=true', undefined],
    ['ready=1', undefined],
    ['WATCHDOG=0', undefined],
    ['WATCHDOG=TRIGGER', undefined],
    ['MAINPID=42', undefined],
    ['STOPPING=1', undefined],
    ['READY', undefined],
    ['=1', undefined],
    ['', undefined],
    [' READY=1', undefined],
  ])('%j is %j', (line, expected) => {
    expect(parseNotifyLine(line)).toEqual(expected);
  });
});

const bytes = (text: string): Uint8Array => Buffer.from(text, 'utf8');
const text = (pending: Uint8Array): string => Buffer.from(pending).toString('utf8');

describe('readNotifyChunk', () => {
  it.each([
    ['READY=1\n', [{ type: 'ready' }], 0, ''],
    [
      'READY=1\nSTATUS=up\nWATCHDOG=1\n',
      [{ type: 'ready' }, { type: 'status', text: 'up' }, { type: 'watchdog' }],
      0,
      '',
    ],
    ['WATCHDOG=1\nWATCHDOG=1\n', [{ type: 'watchdog' }, { type: 'watchdog' }], 0, ''],
    ['READY=1\nnonsense\nMAINPID=7\nSTATUS=x\n', [{ type: 'ready' }, { type: 'status', text: 'x' }], 2, ''],
    ['\n\nREADY=1\n\n', [{ type: 'ready' }], 0, ''],
    ['READY=1\nSTAT', [{ type: 'ready' }], 0, 'STAT'],
    ['READY=1', [], 0, 'READY=1'],
    ['', [], 0, ''],
    ['STATUS=caf\u00e9 \u2713\n', [{ type: 'status', text: 'caf\u00e9 \u2713' }], 0, ''],
    ['READY=1\r\n', [], 1, ''],
  ])('%j gives %j, ignoring %d, leaving %j', (chunk, notifications, ignored, pending) => {
    const result = readNotifyChunk(new Uint8Array(0), bytes(chunk));
    expect(result.notifications).toEqual(notifications);
    expect(result.ignored).toBe(ignored);
    expect(text(result.pending)).toBe(pending);
  });

  it('finishes a line split across chunks, even inside a multi-byte character', () => {
    const line = bytes('STATUS=\u00e9t\u00e9\n');
    const first = readNotifyChunk(new Uint8Array(0), line.subarray(0, 8));
    expect(first).toEqual({ pending: line.subarray(0, 8), notifications: [], ignored: 0 });
    const second = readNotifyChunk(first.pending, line.subarray(8));
    expect(second.notifications).toEqual([{ type: 'status', text: '\u00e9t\u00e9' }]);
    expect(second.pending).toHaveLength(0);
  });

  it('reads a chunk byte by byte as it reads it whole', () => {
    const stream = bytes('READY=1\nbad\nSTATUS=one\nWATCHDOG=trigger\n');
    let pending: Uint8Array = new Uint8Array(0);
    const notifications: unknown[] = [];
    let ignored = 0;
    for (const byte of stream) {
      const result = readNotifyChunk(pending, Uint8Array.of(byte));
      pending = result.pending;
      notifications.push(...result.notifications);
      ignored += result.ignored;
    }
    expect(notifications).toEqual([{ type: 'ready' }, { type: 'status', text: 'one' }, { type: 'watchdog-trigger' }]);
    expect(ignored).toBe(1);
  });

  it(`cuts a line at ${MAX_NOTIFY_LINE_BYTES} bytes and drops the rest of it up to its newline`, () => {
    const long = `STATUS=${'x'.repeat(MAX_NOTIFY_LINE_BYTES)}`;
    const first = readNotifyChunk(new Uint8Array(0), bytes(long.slice(0, 5_000)));
    expect(first.pending).toHaveLength(MAX_NOTIFY_LINE_BYTES);
    const second = readNotifyChunk(first.pending, bytes(`${long.slice(5_000)}yyy\nREADY=1\n`));
    expect(second.notifications).toEqual([
      { type: 'status', text: 'x'.repeat(MAX_NOTIFY_LINE_BYTES - 'STATUS='.length) },
      { type: 'ready' },
    ]);
    expect(second.ignored).toBe(0);
  });

  it(`keeps a line of exactly ${MAX_NOTIFY_LINE_BYTES} bytes whole`, () => {
    const line = `STATUS=${'z'.repeat(MAX_NOTIFY_LINE_BYTES - 'STATUS='.length)}`;
    expect(readNotifyChunk(new Uint8Array(0), bytes(`${line}\n`)).notifications).toEqual([
      { type: 'status', text: line.slice('STATUS='.length) },
    ]);
  });

  it('a long unknown line is one ignored line, its rest never read as a line of its own', () => {
    const result = readNotifyChunk(
      new Uint8Array(0),
      bytes(`${'A'.repeat(MAX_NOTIFY_LINE_BYTES)}READY=1\nWATCHDOG=1\n`),
    );
    expect(result.notifications).toEqual([{ type: 'watchdog' }]);
    expect(result.ignored).toBe(1);
  });
});
