/**
 * What the interpreter asks of workloads and runs — start one, follow it to its end, stop it,
 * signal it, look for a survivor — each outcome reported back as what happened to the container.
 * A workload or a run that throws, rejects or answers garbage is an outcome, never an unhandled
 * rejection.
 *
 * @packageDocumentation
 */
import { isRestartCanceledError } from '../errors.js';
import { exitCodeOfStartError } from '../exit-code.js';
import { startTimer, stopTimer } from '../timers.js';
import { MAX_EXIT_CODE, show } from '../validate.js';
import type { Run, RunHandle, Workload } from '../workload.js';
import type { CallId, Happening } from './lifecycle/model.js';

/** Reports what happened to container `id`. */
export type Report = (id: string, happening: Happening<Run>) => void;

function isRun(value: unknown): value is Run {
  if (typeof value !== 'object' || value === null) return false;
  const { stop, exit } = value as { stop?: unknown; exit?: unknown };
  return (
    typeof stop === 'function' &&
    typeof exit === 'object' &&
    exit !== null &&
    typeof (exit as { then?: unknown }).then === 'function'
  );
}

function isExitCode(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_EXIT_CODE;
}

/** Calls `f`, a throw becoming a rejection. */
function attempt<T>(f: () => T | PromiseLike<T>): Promise<T> {
  return new Promise<T>((resolve) => {
    resolve(f());
  });
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

/** Runs' side of the interpreter. */
export class RunPort {
  readonly #report: Report;

  constructor(report: Report) {
    this.#report = report;
  }

  /** Starts a run of `workload`: `started`, or `start-failed` (a run that is not a Run is one). */
  start(id: string, workload: Workload, signal: AbortSignal, generation: number): void {
    attempt(() => workload.start(signal)).then(
      (run: unknown) => {
        if (!isRun(run)) {
          this.#failed(
            id,
            generation,
            new TypeError(`Expected workload.start() to return a Run ({ exit, stop }), got ${show(run)}`),
          );
          return;
        }
        this.#report(id, { type: 'started', generation, run, pid: run.pid ?? null, handle: run.handle });
      },
      (error: unknown) => {
        this.#failed(id, generation, error);
      },
    );
  }

  #failed(id: string, generation: number, error: unknown): void {
    const canceled = isRestartCanceledError(error);
    this.#report(id, { type: 'start-failed', generation, error, exitCode: exitCodeOfStartError(error), canceled });
  }

  /**
   * Follows a run to its end: `exit`, or `lost` (its exit rejected, or is not an exit code); and its
   * notifications, when it sends any, until it ends.
   */
  watch(id: string, run: Run): void {
    const unsubscribe =
      typeof run.onNotify === 'function'
        ? run.onNotify((notification) => {
            this.#report(id, { type: 'notify', run, notification });
          })
        : undefined;
    run.exit.then(
      (exitCode: unknown) => {
        unsubscribe?.();
        if (isExitCode(exitCode)) this.#report(id, { type: 'exit', run, exitCode });
        else this.#report(id, { type: 'lost', run, error: new TypeError(`Invalid exit code ${show(exitCode)}`) });
      },
      (error: unknown) => {
        unsubscribe?.();
        this.#report(id, { type: 'lost', run, error });
      },
    );
  }

  /** Stops a run once `after` (the writes asked for before) has settled: `stop-done` or `stop-failed`. */
  stop(id: string, run: Run, timeoutMs: number, after: Promise<void>): void {
    after
      .then(() => run.stop(timeoutMs))
      .then(
        () => {
          this.#report(id, { type: 'stop-done', run });
        },
        (error: unknown) => {
          this.#report(id, { type: 'stop-failed', run, error });
        },
      );
  }

  /** Stops a run that has no owner: `orphan-stopped`, with the error if it could not be. */
  stopOrphan(id: string, run: Run, timeoutMs: number): void {
    attempt(() => run.stop(timeoutMs)).then(
      () => {
        this.#report(id, { type: 'orphan-stopped' });
      },
      (error: unknown) => {
        this.#report(id, { type: 'orphan-stopped', error });
      },
    );
  }

  /** Sends `signal` to a run: `kill-done`, with the error if its `kill` failed. */
  kill(id: string, call: CallId | undefined, run: Run, signal: NodeJS.Signals): void {
    attempt(() => run.kill?.(signal)).then(
      () => {
        this.#report(id, { type: 'kill-done', call, signal });
      },
      (error: unknown) => {
        this.#report(id, { type: 'kill-done', call, signal, error });
      },
    );
  }

  /**
   * Looks for a run of the old daemon by its handle: `recovered` (alive, or gone), or, when the
   * workload cannot tell (it throws, answers garbage, or has not answered within `timeoutMs` or by
   * the time `signal` aborts), `recover-failed` with a run the GC can keep stopping.
   */
  recover(
    id: string,
    workload: Workload,
    handle: RunHandle,
    pid: number | null,
    signal: AbortSignal,
    timeoutMs: number,
  ): void {
    let answered = false;
    const answer = (happening: Happening<Run>): void => {
      if (answered) return;
      answered = true;
      stopTimer(timer);
      signal.removeEventListener('abort', onAbort);
      this.#report(id, happening);
    };
    const failed = (error: unknown): void => {
      // A handle the workload refuses (a TypeError) will be refused at every look: no GC retries it.
      if (error instanceof TypeError) answer({ type: 'recover-refused', error });
      else answer({ type: 'recover-failed', error, run: survivorRun(workload, handle, pid, signal) });
    };
    const timer = startTimer(() => {
      failed(new Error(`The workload did not answer recover within ${timeoutMs} ms`));
    }, timeoutMs);
    const onAbort = (): void => {
      failed(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    attempt(() => workload.recover?.(handle, signal)).then((run: unknown) => {
      if (run !== undefined && !isRun(run)) {
        const error = new TypeError(`Expected workload.recover() to return a Run or undefined, got ${show(run)}`);
        answer({ type: 'recover-failed', error, run: survivorRun(workload, handle, pid, signal) });
        return;
      }
      answer({ type: 'recovered', run, pid: run?.pid ?? null, handle: run?.handle });
    }, failed);
  }
}
