/**
 * `HealthMonitor`: runs one container's health check and keeps its status, failing streak and log,
 * with Docker's semantics (moby `daemon/health.go`).
 *
 * @packageDocumentation
 */
import type { WallClock } from '../options.js';
import { type TimerHandle, startTimer, stopTimer } from '../timers.js';
import type { HealthProbe, ResolvedHealthCheck } from './options.js';
import { HealthLog, type HealthLogEntry } from './log.js';
import { failureOutput, passOutput } from './output.js';

/** A container's health: `'starting'` until a probe passes or `retries` failures count. */
export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** A container's health, as `inspect()` shows it. */
export interface HealthInfo {
  /** The current status. */
  readonly status: HealthStatus;
  /** Consecutive failures that counted (failures in the start period do not), 0 after a pass. */
  readonly failingStreak: number;
  /** The last 5 results, oldest first, kept across runs (as Docker does). */
  readonly log: readonly HealthLogEntry[];
}

/**
 * Called when a probe's result changes the status (not by `start()`, which the caller made).
 * `stopRun` is true when the run just became unhealthy with `onUnhealthy: 'stop'`: the monitor has
 * stopped probing, and the caller stops the run. A listener that throws is reported as a process
 * warning; the monitor goes on.
 */
export type HealthListener = (info: HealthInfo, stopRun: boolean) => void;

/** Calls the probe so that a synchronous throw, or a thenable whose `then` throws, becomes a rejection. */
async function callProbe(probe: HealthProbe, signal: AbortSignal): Promise<unknown> {
  return await probe(signal);
}

/**
 * Runs a health check for one run at a time: `start()` when a run starts, `stop()` when it ends.
 *
 * Timing (Docker's): the first probe comes one interval after `start()`; the next one interval after
 * the previous one settled, so probes never overlap. While the status is `'starting'` and the start
 * period lasts, that interval is `startIntervalMs`, cut short so that a probe runs as the period
 * ends (moby#46747); otherwise it is `intervalMs`. A pass during the start period ends it: the
 * status is `'healthy'`, and failures count from then on.
 *
 * A probe that timed out but has not settled yet (it ignored its signal) is never run alongside:
 * each probe due meanwhile fails at once, saying so.
 *
 * One timer at most: the wait before the next probe, or the running probe's timeout; it calls a
 * static function with the monitor as its argument, which saves two closures per monitor. With the
 * compact {@link HealthLog}, a running monitor takes under 1 KB (see test/bench/health.ts).
 *
 */
export class HealthMonitor {
  /** The check this monitor runs. */
  readonly check: ResolvedHealthCheck;
  readonly #clock: WallClock;
  readonly #listener: HealthListener;
  #status: HealthStatus = 'starting';
  #failingStreak = 0;
  readonly #log = new HealthLog();
  /** When the start period ends, on `performance.now()` (monotonic, like Docker's `time.Since`). */
  #startPeriodEndsAt = 0;
  #timer: TimerHandle | undefined;
  /** The probe running now. */
  #probe: AbortController | undefined;
  /** A probe aborted (timed out or stopped) that has not settled yet. */
  #lingering: AbortController | undefined;
  /** Whether the running probe started within the start period (its failure then does not count). */
  #probeInStartPeriod = false;
  #probeStartMs = 0;
  readonly #onResult: ((passed: boolean) => void) | undefined;

  /**
   * @param onResult - Called with each probe's result, a pass or a failure (for metrics); it must not throw.
   */
  constructor(
    check: ResolvedHealthCheck,
    clock: WallClock,
    listener: HealthListener,
    onResult?: (passed: boolean) => void,
  ) {
    this.check = check;
    this.#clock = clock;
    this.#listener = listener;
    this.#onResult = onResult;
  }

  /** The status, the failing streak and the log (`'starting'`, 0 and empty before the first run). */
  get info(): HealthInfo {
    return Object.freeze({ status: this.#status, failingStreak: this.#failingStreak, log: this.#log.entries() });
  }

  /**
   * Begins checking a new run: the status goes back to `'starting'` and the streak to 0 (the log
   * stays, as Docker keeps it per container). A run being checked is stopped first.
   */
  start(): void {
    this.stop();
    this.#status = 'starting';
    this.#failingStreak = 0;
    this.#startPeriodEndsAt = performance.now() + this.check.startPeriodMs;
    this.#schedule();
  }

  /**
   * Stops checking at once: no timer is left, and a running probe's signal is aborted (its result
   * is not recorded). The status and log stay as they were.
   */
  stop(): void {
    stopTimer(this.#timer);
    this.#timer = undefined;
    const probe = this.#probe;
    if (probe === undefined) return;
    this.#probe = undefined;
    this.#lingering = probe;
    probe.abort(new DOMException('Health checks stopped', 'AbortError'));
  }

  #schedule(): void {
    let delayMs = this.check.intervalMs;
    if (this.#status === 'starting') {
      const remainingMs = this.#startPeriodEndsAt - performance.now();
      if (remainingMs > 0) delayMs = Math.min(this.check.startIntervalMs, remainingMs);
    }
    this.#timer = startTimer(HealthMonitor.#onTimer, delayMs, this);
  }

  /** The one timer's callback: a running probe's timeout, or the next probe due. */
  static #onTimer(monitor: HealthMonitor): void {
    if (monitor.#probe === undefined) monitor.#runProbe();
    else monitor.#timeOut();
  }

  #runProbe(): void {
    this.#probeInStartPeriod = performance.now() < this.#startPeriodEndsAt;
    this.#probeStartMs = this.#clock.now();
    if (this.#lingering !== undefined) {
      this.#record(false, 'the previous probe has not ended since it was aborted');
      return;
    }
    const probe = new AbortController();
    this.#probe = probe;
    this.#timer = startTimer(HealthMonitor.#onTimer, this.check.timeoutMs, this);
    void callProbe(this.check.probe, probe.signal).then(
      (value: unknown) => {
        this.#settle(probe, true, value);
      },
      (reason: unknown) => {
        this.#settle(probe, false, reason);
      },
    );
  }

  #timeOut(): void {
    const probe = this.#probe as AbortController;
    const { timeoutMs } = this.check;
    this.#probe = undefined;
    this.#lingering = probe;
    probe.abort(new DOMException(`Health probe timed out after ${timeoutMs} ms`, 'TimeoutError'));
    this.#record(false, `timed out after ${timeoutMs} ms`);
  }

  #settle(probe: AbortController, passed: boolean, value: unknown): void {
    if (probe === this.#lingering) this.#lingering = undefined;
    if (probe !== this.#probe) return;
    this.#probe = undefined;
    stopTimer(this.#timer);
    this.#record(passed, passed ? passOutput(value) : failureOutput(value));
  }

  #record(passed: boolean, output: string): void {
    this.#log.add(this.#probeStartMs, this.#clock.now(), passed, output);
    this.#onResult?.(passed);
    const previous = this.#status;
    if (passed) {
      this.#failingStreak = 0;
      this.#status = 'healthy';
    } else if (previous !== 'starting' || !this.#probeInStartPeriod) {
      this.#failingStreak++;
      if (this.#failingStreak >= this.check.retries) this.#status = 'unhealthy';
    }
    const stopRun = this.#status === 'unhealthy' && this.check.onUnhealthy === 'stop';
    if (!stopRun) this.#schedule();
    if (this.#status !== previous) this.#notify(stopRun);
  }

  #notify(stopRun: boolean): void {
    try {
      this.#listener(this.info, stopRun);
    } catch (error) {
      process.emitWarning(`A health listener threw: ${failureOutput(error)}`, 'RestartManagerWarning');
    }
  }
}
