/**
 * The `STATUS=` lines a child writes on its notify fd, as the CLI tells them: each change once.
 *
 * @packageDocumentation
 */
import type { Run, Workload } from '../workload.js';

/**
 * `workload` with each of its runs' `STATUS=` texts told to `onStatus` when it changes (the
 * supervisor reads the same notifications on its own); the runs themselves are `workload`'s.
 *
 * @example
 * ```ts
 * const workload = withStatusLines(processWorkload('node', ['server.js'], { notify: true }), (text) => {
 *   console.error(`status: ${text}`);
 * });
 * ```
 */
export function withStatusLines(workload: Workload, onStatus: (text: string) => void): Workload {
  const follow = <R extends Run | undefined>(run: R): R => {
    if (typeof run?.onNotify !== 'function') return run;
    let last: string | undefined;
    const unsubscribe = run.onNotify((notification) => {
      if (notification.type !== 'status' || notification.text === last) return;
      last = notification.text;
      onStatus(notification.text);
    });
    run.exit.then(unsubscribe, unsubscribe);
    return run;
  };
  return {
    start: async (signal) => follow(await workload.start(signal)),
    ...(workload.recover !== undefined && {
      recover: async (handle, signal) => follow(await workload.recover?.(handle, signal)),
    }),
  };
}
