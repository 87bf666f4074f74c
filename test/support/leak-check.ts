/**
 * Runs around every test file: fails the file if it leaves a timer, an immediate, a child process,
 * a socket or a file handle behind that it created.
 */
import { createHook } from 'node:async_hooks';
import { afterAll, expect, vi } from 'vitest';

/** The async resource types that must not outlive the test file that made them. */
const WATCHED = new Set([
  'Timeout',
  'Immediate',
  'PROCESSWRAP',
  'PIPEWRAP',
  'TCPWRAP',
  'FSEVENTWRAP',
  'SIGNALWRAP',
  'FILEHANDLE',
]);

const live = new Map<number, string>();
const hook = createHook({
  init(asyncId, type) {
    if (WATCHED.has(type)) live.set(asyncId, type);
  },
  destroy(asyncId) {
    live.delete(asyncId);
  },
});
hook.enable();

function leaked(): Record<string, number> {
  const active = new Set(process.getActiveResourcesInfo());
  const counts: Record<string, number> = {};
  for (const type of live.values()) counts[type] = (counts[type] ?? 0) + 1;
  // A destroy hook may lag behind a resource that is already gone: only count kinds still active.
  return Object.fromEntries(
    Object.entries(counts).filter(([type]) =>
      active.has(type === 'PROCESSWRAP' ? 'ProcessWrap' : type === 'PIPEWRAP' ? 'PipeWrap' : type),
    ),
  );
}

afterAll(async () => {
  vi.useRealTimers();
  let left: Record<string, number> = {};
  // Let handles that are closing finish (a child's pipes close a few ticks after its exit).
  for (let attempt = 0; attempt < 50; attempt++) {
    left = leaked();
    if (Object.keys(left).length === 0) break;
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  hook.disable();
  expect(left, 'handles left behind by this test file').toEqual({});
});
