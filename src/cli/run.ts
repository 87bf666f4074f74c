/**
 * The CLI's `run` command: one container, a real child process, under a restart policy.
 *
 * @packageDocumentation
 */
import { readFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { constants } from 'node:os';
import { isContainerError, isRestartPolicyError } from '../errors.js';
import { exitCodeOfStartError } from '../exit-code.js';
import { formatRestartPolicy } from '../policy.js';
import { Supervisor } from '../supervisor/supervisor.js';
import type { Workload } from '../workload.js';
import { processWorkload } from '../workloads/process.js';
import type { HealthCheck } from '../health/options.js';
import { commandProbe } from '../health/probes.js';
import { FileStore } from '../store/file-store.js';
import type { StateStore } from '../store/store.js';
import type { ExitReason, SupervisorEvents } from '../supervisor/events.js';
import {
  type CliChildOptions,
  type CliHealthCheck,
  type RunCommand,
  USAGE,
  UsageError,
  parseCommandLine,
} from './args.js';
import { type MetricsServer, PrometheusMeter, serveMetrics } from './metrics.js';
import { withStatusLines } from './status-lines.js';

/** Where the CLI writes. */
export interface CliOutput {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/**
 * How the workload of `run COMMAND ARG…` runs: `id`, given with `--state-dir`, names the container's
 * runs on this machine (the state file's path); the rest is `--log`, the notify fd and `--run-dir`.
 */
export interface CliWorkloadOptions extends CliChildOptions {
  readonly id: string | undefined;
}

/** Makes the workload that `run COMMAND ARG…` supervises. */
export type WorkloadFactory = (command: string, args: readonly string[], options: CliWorkloadOptions) => Workload;

/** What {@link runCli} runs with; each default is the bin's. */
export interface CliOptions {
  /**
   * Where the CLI writes.
   * @defaultValue a line per synchronous write on the process's fd 1 and fd 2
   */
  readonly output?: CliOutput | undefined;
  /**
   * Makes the workload that `run COMMAND ARG…` supervises.
   * @defaultValue a child process with stdio inherited, or its log ({@link processWorkload})
   */
  readonly workload?: WorkloadFactory | undefined;
}

/**
 * Writes `line` on `fd` at once, so that it comes before whatever the child writes next on the
 * same terminal or pipe; a pipe that is full and non-blocking gets the rest through the stream.
 */
function writeLine(fd: 1 | 2, line: string): void {
  const bytes = Buffer.from(`${line}\n`);
  let written = 0;
  try {
    while (written < bytes.length) written += writeSync(fd, bytes, written);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    (fd === 1 ? process.stdout : process.stderr).write(bytes.subarray(written));
  }
}

const processOutput: CliOutput = {
  out: (line) => {
    writeLine(1, line);
  },
  err: (line) => {
    writeLine(2, line);
  },
};

const childProcess: WorkloadFactory = (command, args, { id, log, notify, runDir }) =>
  processWorkload(command, args, { stdio: log === undefined ? 'inherit' : undefined, id, log, notify, runDir });

/**
 * Whether an exit was decided as a failure whatever its code: a stop by the health check, the
 * watchdog or the memory limit (`stoppedBy`), or a retry limit (`on-failure` gives up on failures
 * only, so a 0 it gives up on was one).
 */
function decidedAsFailure(reason: ExitReason, stoppedBy: StoppedBy | undefined): boolean {
  return stoppedBy !== undefined || reason === 'retry-limit';
}

type StoppedBy = NonNullable<SupervisorEvents['exit'][0]['stoppedBy']>;

/** How an exit line tells what ended the run. */
function howItEnded(stoppedBy: StoppedBy | undefined): string {
  if (stoppedBy === 'unhealthy') return 'stopped as unhealthy';
  if (stoppedBy === 'watchdog') return 'killed by the watchdog';
  if (stoppedBy === 'memory') return 'stopped over its memory limit';
  return 'exited';
}

function version(): string {
  const json = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(json) as { version: string }).version;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The state of container `name` alone, in `files` (whose directory may hold other CLIs' containers:
 * its lock is `name`'s). It has no `close`: the supervisors that use it in turn leave it open, and
 * the CLI closes `files` at its end.
 */
function ownState(files: FileStore, name: string): StateStore {
  return {
    load: async () => (await files.load()).filter((entry) => (entry as { id?: unknown }).id === name),
    save: (id, state) => files.save(id, state),
    remove: (id) => files.remove(id),
    locationOf: (id) => files.locationOf(id),
  };
}

/**
 * A run of this container that an earlier CLI (killed, say) left behind is found by its persisted
 * handle, named, and stopped as the container is removed: never two copies. A supervisor of its own
 * does it (restoring live, so that a survivor shows as running), so that none of it shows as this
 * run's events.
 */
async function stopEarlierRun(
  store: StateStore,
  command: RunCommand,
  name: string,
  workload: Workload,
  say: (line: string) => void,
): Promise<void> {
  const earlier = new Supervisor({
    store,
    stopTimeoutMs: command.stopTimeoutMs,
    restoreDelayMs: 60_000,
    liveRestore: true,
  });
  earlier.on('error', ({ error }) => {
    say(`error: ${describe(error)}`);
  });
  try {
    if ((await earlier.restore(() => workload)).length === 0) return;
    const { status, pid } = earlier.inspect(name);
    if (status === 'running') say(`pid ${pid ?? '?'} of an earlier run is still running: stopping it`);
    await earlier.remove(name, { force: true });
  } finally {
    await earlier.close();
  }
}

/** The health check of `--health-cmd`: a shell command, healthy when it exits 0 (as Docker's). */
function healthCheckOf(health: CliHealthCheck): HealthCheck {
  return {
    probe: commandProbe('/bin/sh', ['-c', health.command]),
    intervalMs: health.intervalMs,
    timeoutMs: health.timeoutMs,
    retries: health.retries,
    startPeriodMs: health.startPeriodMs,
    startIntervalMs: health.startIntervalMs,
    onUnhealthy: health.exitOnUnhealthy ? 'stop' : 'none',
  };
}

/** Runs the container until its policy stops restarting it; resolves with the CLI's exit status. */
async function run(command: RunCommand, output: CliOutput, makeWorkload: WorkloadFactory): Promise<number> {
  const name = command.name ?? `run-${process.pid}`;
  const say = (line: string): void => {
    output.err(`restart-manager[${name}]: ${line}`);
  };
  // Two CLIs of one name on one state directory would run the container twice: the second is refused.
  const files =
    command.stateDir === undefined ? undefined : new FileStore(resolve(command.stateDir), { lockName: name });
  const store = files === undefined ? undefined : ownState(files, name);
  const meter = command.metricsPort === undefined ? undefined : new PrometheusMeter();
  const supervisor = new Supervisor({ store, stopTimeoutMs: command.stopTimeoutMs, meter });
  // The CLI's status: the child's last code, but 1 for a 0 left after a stop that made it a failure.
  let lastStatus = 0;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));

  supervisor.on('start', ({ pid, restartCount }) => {
    say(`started pid ${pid ?? '?'}${restartCount > 0 ? ` (restart ${restartCount})` : ''}`);
  });
  supervisor.on('exit', ({ exitCode, execDurationMs, restart, delayMs, reason, stoppedBy }) => {
    const failed = decidedAsFailure(reason, stoppedBy);
    lastStatus = failed && exitCode === 0 ? 1 : exitCode;
    const { failureCount } = supervisor.inspect(name);
    const decision = restart ? `restarting in ${delayMs} ms` : 'not restarting';
    say(
      `${howItEnded(stoppedBy)} with code ${exitCode} after ${Math.round(execDurationMs)} ms; failure count ${failureCount}; ${decision} (${reason})`,
    );
    if (!restart) finish(lastStatus);
  });
  supervisor.on('restart-canceled', () => {
    say('pending restart canceled');
    finish(lastStatus);
  });
  if (command.watch.readiness === 'notify') {
    supervisor.on('ready', () => {
      say('ready');
    });
  }
  supervisor.on('start-failed', ({ error }) => {
    say(`failed to start: ${describe(error)}`);
    finish(exitCodeOfStartError(error));
  });
  supervisor.on('gc', ({ phase, attempts, error }) => {
    say(
      `garbage collection ${phase}${attempts > 0 ? ` after ${attempts} attempt(s)` : ''}${error === undefined ? '' : `: ${describe(error)}`}`,
    );
  });
  supervisor.on('error', ({ error }) => {
    say(`error: ${describe(error)}`);
  });
  supervisor.on('health', ({ status, failingStreak, log }) => {
    const last = log.at(-1);
    const failures = failingStreak > 0 ? `; ${failingStreak} failure(s) in a row` : '';
    const output = last === undefined || last.output === '' ? '' : `; last check: ${last.output}`;
    say(`health: ${status}${failures}${output}`);
  });

  let signals = 0;
  let added = false;
  let signalBeforeAdd: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (!added) {
      // Nothing runs yet: the container is not started at all.
      signalBeforeAdd ??= signal;
      say(`${signal}: not starting`);
      return;
    }
    if (signals === 1) {
      say(`${signal}: stopping (SIGTERM, SIGKILL after ${command.stopTimeoutMs ?? 10_000} ms)`);
      supervisor.stop(name).catch((error: unknown) => {
        say(`stop failed: ${describe(error)}`);
        finish(lastStatus);
      });
      return;
    }
    const { pid } = supervisor.inspect(name);
    say(`${signal} again: killing${pid === null ? '' : ` pid ${pid}`}`);
    if (pid === null) return;
    supervisor.kill(name, 'SIGKILL').catch((error: unknown) => {
      say(`kill failed: ${describe(error)}`);
    });
  };
  let metrics: MetricsServer | undefined;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const id = files?.locationOf(name);
    const made = makeWorkload(command.command, command.args, { ...command.child, id });
    const workload = command.child.notify
      ? withStatusLines(made, (text) => {
          say(`status: ${text}`);
        })
      : made;
    say(`policy ${formatRestartPolicy(command.policy)}: ${[command.command, ...command.args].join(' ')}`);
    if (meter !== undefined && command.metricsPort !== undefined) {
      metrics = await serveMetrics(meter, command.metricsPort);
      say(`metrics on http://127.0.0.1:${metrics.port}/metrics`);
    }
    if (store !== undefined) await stopEarlierRun(store, command, name, workload, say);
    const health = command.health === undefined ? undefined : healthCheckOf(command.health);
    await supervisor.add(name, {
      policy: command.policy,
      workload,
      options: command.options,
      health,
      ...command.watch,
    });
    added = true;
    if (signalBeforeAdd !== undefined) return 128 + constants.signals[signalBeforeAdd];
    try {
      say('starting');
      await supervisor.start(name);
    } catch (error) {
      if (isContainerError(error) && error.code === 'ERR_CONTAINER_START_FAILED') {
        return exitCodeOfStartError(error.cause);
      }
      // The child started but its state could not be written: stop it rather than leave it unsupervised.
      say(`error: ${describe(error)}; stopping`);
      await supervisor.stop(name).catch((stopError: unknown) => {
        say(`stop failed: ${describe(stopError)}`);
      });
      return 125;
    }
    return await finished;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await supervisor.close();
    await metrics?.close();
    await files?.close();
  }
}

/**
 * Runs the CLI with `argv` (without `node` and the script) and resolves with its exit status.
 * `options` let a test capture the output and script the workload; the bin passes none.
 *
 * @internal
 */
export async function runCli(argv: readonly string[], options: CliOptions = {}): Promise<number> {
  const output = options.output ?? processOutput;
  let command;
  try {
    command = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof UsageError) && !isRestartPolicyError(error)) throw error;
    output.err(`restart-manager: ${error.message}`);
    output.err("See 'restart-manager --help'.");
    return 125;
  }
  switch (command.kind) {
    case 'help':
      output.out(USAGE);
      return 0;
    case 'version':
      output.out(version());
      return 0;
    case 'run':
      try {
        return await run(command, output, options.workload ?? childProcess);
      } catch (error) {
        output.err(`restart-manager: ${describe(error)}`);
        return 125;
      }
  }
}
