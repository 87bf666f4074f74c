/**
 * The {@link Supervisor}'s events, and how they are emitted: a listener that throws, or an `error`
 * with nobody listening, never crashes the daemon.
 *
 * @packageDocumentation
 */
import type { EventEmitter } from 'node:events';
import type { DecisionReason } from '../decision.js';
import type { HealthInfo } from '../health/monitor.js';
import type { ContainerStatus } from './statuses.js';

/**
 * Why a run's exit restarts or not: the rule that decided ({@link DecisionReason}), or what ended
 * the run when that is why it restarts — its watchdog, its memory limit, a dependency (SPEC §16,
 * §17) — or, for a `restarting` after a daemon restart, `'restore'`.
 */
export type ExitReason = DecisionReason | 'watchdog' | 'memory' | 'dependency' | 'group';

/** Why a restart is scheduled (see {@link ExitReason}). */
export type RestartReason = ExitReason | 'restore';

/** Why a container gave up by its own rules (SPEC §17's `exhausted`). */
export type ExhaustedReason = 'retry-limit' | 'rate-limited' | 'exit-code-rule' | 'start-failed';

/** The events of a {@link Supervisor}, each with its payload. */
export interface SupervisorEvents {
  /** A run started (`manual`: by {@link Supervisor.start}, else by a restart). */
  start: [{ id: string; pid: number | null; restartCount: number; manual: boolean }];
  /** A run is ready: at its start, or at its first passing health check, or (`readiness: 'notify'`) at `READY=1`. */
  ready: [{ id: string }];
  /**
   * A run ended (or was collected), with the restart decision taken on it; `unhealthy` when the run
   * was stopped because its health check failed, and `stoppedBy` whichever of its health check, its
   * watchdog or its memory limit stopped it (each decided as a failure, whatever code it left, and
   * said even when the policy does not restart). Never emitted at a restore for a run that did not
   * end in this process: see `restore`.
   */
  exit: [
    {
      id: string;
      exitCode: number;
      execDurationMs: number;
      restart: boolean;
      delayMs: number;
      reason: ExitReason;
      unhealthy?: true;
      stoppedBy?: 'unhealthy' | 'watchdog' | 'memory';
    },
  ];
  /** A restart is scheduled after `delayMs`. */
  restarting: [
    {
      id: string;
      exitCode: number;
      delayMs: number;
      restartCount: number;
      failureCount: number;
      reason: RestartReason;
    },
  ];
  /**
   * A container read back by {@link Supervisor.restore}: `from`, the status the old daemon left;
   * `restart`, whether a restart is scheduled (after `delayMs`). Once per container and restore.
   */
  restore: [{ id: string; from: ContainerStatus; restart: boolean; delayMs: number }];
  /** A group restarted more than `maxRestarts` times within `windowMs`: every member was stopped, and it gave up. */
  'group-exhausted': [{ name: string; restarts: number }];
  /** The container went down for good by its own rules (not a manual stop, a shutdown or policy `no`), once. */
  exhausted: [{ id: string; reason: ExhaustedReason; exitCode: number; failureCount: number }];
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
