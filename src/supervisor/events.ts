/**
 * The {@link Supervisor}'s events, and how they are emitted: a listener that throws, or an `error`
 * with nobody listening, never crashes the daemon.
 *
 * @packageDocumentation
 */
import type { EventEmitter } from 'node:events';
import type { DecisionReason } from '../decision.js';
import type { HealthInfo } from '../health/monitor.js';

/** The events of a {@link Supervisor}, each with its payload. */
export interface SupervisorEvents {
  /** A run started (`manual`: by {@link Supervisor.start}, else by a restart). */
  start: [{ id: string; pid: number | null; restartCount: number; manual: boolean }];
  /**
   * A run ended (or was collected), with the restart decision taken on it; `unhealthy` when the run
   * was stopped because its health check failed (then decided as a failure).
   */
  exit: [
    {
      id: string;
      exitCode: number;
      execDurationMs: number;
      restart: boolean;
      delayMs: number;
      reason: DecisionReason;
      unhealthy?: true;
    },
  ];
  /** A restart is scheduled after `delayMs`. */
  restarting: [{ id: string; exitCode: number; delayMs: number; restartCount: number; failureCount: number }];
  /** A pending restart was canceled (a manual stop or remove). */
  'restart-canceled': [{ id: string; exitCode: number }];
  /** A restart's (or a manual start's) workload failed to start. */
  'start-failed': [{ id: string; exitCode: number; error: unknown; manual: boolean }];
  /** A manual stop was requested. */
  stop: [{ id: string }];
  /** The container was removed. */
  remove: [{ id: string }];
  /** Garbage collection: a run was `queued`, a stop `retry-failed`, or the run was `collected`. */
  gc: [{ id: string; phase: 'queued' | 'retry-failed' | 'collected'; attempts: number; error?: unknown }];
  /** A health check's status changed (see {@link ContainerInfo.health}). */
  health: [{ id: string } & HealthInfo];
  /** Something failed outside any call: a state write, a state file, a stop of a run nobody owned, a listener. */
  error: [{ id: string | undefined; error: unknown; file?: string | undefined }];
}

/**
 * Emits `event` on `emitter`; a throwing listener becomes an `error` event (or, for an `error`
 * listener, a process warning), and an `error` nobody listens to is a process warning.
 *
 * @internal
 */
export function emitSafely<K extends keyof SupervisorEvents>(
  emitter: EventEmitter<SupervisorEvents>,
  event: K,
  ...payload: SupervisorEvents[K]
): void {
  if (event === 'error' && emitter.listenerCount('error') === 0) {
    const [{ error }] = payload as SupervisorEvents['error'];
    process.emitWarning(error instanceof Error ? error.message : String(error), 'RestartManagerWarning');
    return;
  }
  try {
    (emitter.emit as (name: string, ...args: unknown[]) => boolean)(event, ...payload);
  } catch (error) {
    if (event === 'error') process.emitWarning(`An error listener threw: ${String(error)}`, 'RestartManagerWarning');
    else emitSafely(emitter, 'error', { id: (payload[0] as { id?: string }).id, error });
  }
}
