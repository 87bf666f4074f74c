/**
 * Restore after a daemon restart: where each persisted container starts its new life, and the run
 * that stands for a survivor that could not be looked for.
 *
 * @packageDocumentation
 */
import type { Run, RunHandle, Workload } from '../workload.js';
import { type Lifecycle, type Move, added, decide, go, lost } from './lifecycle.js';
import type { ContainerState, ContainerStatus } from './state.js';

/** What {@link restored} reads of a persisted container. */
export type Persisted = Omit<Lifecycle<never>, 'phase' | 'generation' | 'closed'> & {
  readonly status: ContainerStatus;
};

/** The lifecycle record of a persisted state (ISO times as ms). */
export function persistedOf(state: ContainerState): Persisted {
  return {
    status: state.status,
    restartCount: state.restartCount,
    exitCode: state.exitCode,
    startedAtMs: state.startedAt === null ? null : Date.parse(state.startedAt),
    finishedAtMs: state.finishedAt === null ? null : Date.parse(state.finishedAt),
    hasBeenManuallyStopped: state.hasBeenManuallyStopped,
    pid: state.pid,
    handle: state.handle,
  };
}

/**
 * A container read back at a restore: `created` stays; one with the handle of a run that may have
 * survived is recovered first (when its workload can); any other that was running (or being
 * removed) counts as exited with 255; an `exited` one is decided with its code. A decision at a
 * restore waits the fixed restore delay instead of the backoff.
 */
export function restored<R>(p: Persisted, canRecover: boolean, restoreDelayMs: number, atMs: number): Move<R> {
  const { status, ...record } = p;
  const s: Lifecycle<R> = { ...added<R>(), ...record };
  if (status === 'created') return go(s, {});
  if (p.handle !== undefined && canRecover) {
    return go(s, { phase: { name: 'recovering', restoreDelayMs } }, { type: 'recover' });
  }
  if (status !== 'exited' || p.handle !== undefined) return decide(s, lost(restoreDelayMs), true, atMs);
  return decide(s, { ...lost(restoreDelayMs), exitCode: p.exitCode ?? 255 }, true, p.finishedAtMs ?? atMs);
}

/**
 * A run for a survivor whose workload could not tell whether it is still alive: each `stop` looks
 * for it again and stops it if found, so the garbage collector keeps at it until it is known gone.
 * Its `exit` never settles: its end is only learnt through `stop`.
 */
export function survivorRun(workload: Workload, handle: RunHandle, pid: number | null, signal: AbortSignal): Run {
  return {
    pid: pid ?? undefined,
    handle,
    exit: new Promise<never>(() => undefined),
    async stop(timeoutMs) {
      const run = await workload.recover?.(handle, signal);
      await run?.stop(timeoutMs);
    },
  };
}
