/**
 * The CLI's command line: `restart-manager run [OPTIONS] [--] COMMAND [ARG…]`.
 *
 * @packageDocumentation
 */
import { parseArgs } from 'node:util';
import type { ContainerRestartOptions } from '../supervisor/container-options.js';
import { type RunWatchOptions, parseBytes } from '../supervisor/run-watch.js';
import { assertContainerId } from '../supervisor/state.js';
import type { LogOptions } from '../workloads/log-file.js';
import { type ExitCodeRule, resolveManagerOptions } from '../options.js';
import { type RestartPolicy, parseRestartPolicy } from '../policy.js';

/** A command line that cannot be run: exit status 125, as `docker run`. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** What `restart-manager run` was asked to do. */
export interface RunCommand {
  readonly kind: 'run';
  readonly policy: RestartPolicy;
  readonly name: string | undefined;
  readonly stopTimeoutMs: number | undefined;
  readonly stateDir: string | undefined;
  readonly options: ContainerRestartOptions;
  /** `--health-cmd` and its companions; none without `--health-cmd`. */
  readonly health: CliHealthCheck | undefined;
  /** `--notify`, `--watchdog`, `--max-memory`, `--memory-check`: what the container watches on its runs. */
  readonly watch: RunWatchOptions;
  /** How the child runs: `--log` (and its rotation), the notify fd, `--run-dir`. */
  readonly child: CliChildOptions;
  /** `--metrics-port`: where `GET /metrics` is served on 127.0.0.1 (0: a free port); none without it. */
  readonly metricsPort: number | undefined;
  readonly command: string;
  readonly args: readonly string[];
}

/** A health check from the command line: a shell command and Docker's timings (ms). */
export interface CliHealthCheck {
  readonly command: string;
  readonly intervalMs: number | undefined;
  readonly timeoutMs: number | undefined;
  readonly retries: number | undefined;
  readonly startPeriodMs: number | undefined;
  readonly startIntervalMs: number | undefined;
  readonly exitOnUnhealthy: boolean;
}

/** How the CLI's child runs: the `processWorkload` options it sets. */
export interface CliChildOptions {
  /** `--log FILE`, `--log-max-size`, `--log-max-files`: the child's stdout and stderr go to a file. */
  readonly log: LogOptions | undefined;
  /** Whether the child gets a notify fd (fd 3, `NOTIFY_FD=3`): with `--notify` or `--watchdog`. */
  readonly notify: boolean;
  /** `--run-dir DIR`: where each run's monitor directory goes. */
  readonly runDir: string | undefined;
}

/** A parsed command line. */
export type Command = RunCommand | { readonly kind: 'help' } | { readonly kind: 'version' };

const OPTIONS = {
  restart: { type: 'string' },
  name: { type: 'string' },
  'stop-timeout': { type: 'string' },
  'state-dir': { type: 'string' },
  profile: { type: 'string' },
  'backoff-initial': { type: 'string' },
  'backoff-max': { type: 'string' },
  'backoff-multiplier': { type: 'string' },
  'backoff-reset': { type: 'string' },
  jitter: { type: 'string' },
  'max-restarts': { type: 'string' },
  window: { type: 'string' },
  'restart-on-exit': { type: 'string' },
  'stop-on-exit': { type: 'string' },
  'health-cmd': { type: 'string' },
  'health-interval': { type: 'string' },
  'health-timeout': { type: 'string' },
  'health-retries': { type: 'string' },
  'health-start-period': { type: 'string' },
  'health-start-interval': { type: 'string' },
  'exit-on-unhealthy': { type: 'boolean' },
  log: { type: 'string' },
  'log-max-size': { type: 'string' },
  'log-max-files': { type: 'string' },
  notify: { type: 'boolean' },
  watchdog: { type: 'string' },
  'max-memory': { type: 'string' },
  'memory-check': { type: 'string' },
  'metrics-port': { type: 'string' },
  'run-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

/** The help text. */
export const USAGE = `Usage: restart-manager run [OPTIONS] [--] COMMAND [ARG...]

Run COMMAND as a child process (stdio inherited, or to --log) under a restart policy,
printing one line per lifecycle event on stderr. Ends when the policy stops restarting,
with the child's last exit code. SIGINT or SIGTERM is a manual stop: the child gets SIGTERM
(SIGKILL after the stop timeout; at once on a second signal) and no restart follows.

Options:
  --restart POLICY           no | always | on-failure[:N] | unless-stopped | on-reboot (default: no)
  --name NAME                the container's name (default: run-<pid>)
  --stop-timeout MS          wait between SIGTERM and SIGKILL on a stop (default: 10000)
  --state-dir DIR            persist the container's state in DIR/NAME.json
  --profile NAME             isulad (consecutive failures) | docker (restarts) (default: isulad)
  --backoff-initial MS       first restart delay (default: 100)
  --backoff-multiplier X     growth factor of the delay (default: 2)
  --backoff-max MS           cap of the delay (default: 60000)
  --backoff-reset MS         a run this long resets the delay; "Infinity": never (default: 10000)
  --jitter X                 take a random part of up to X (0..1) off each delay (default: 0)
  --max-restarts N           allow at most N restarts within --window
  --window MS                the rate-limit window for --max-restarts; "Infinity": for good
  --restart-on-exit CODES    always restart on these exit codes (comma-separated)
  --stop-on-exit CODES       never restart on these exit codes (comma-separated)
  --health-cmd CMD           a health check: CMD run by /bin/sh -c, healthy when it exits 0
  --health-interval T        time between checks (default: 30s); T is ms, or 500ms, 5s, 1m, 1h
  --health-timeout T         a check that takes longer fails (default: 30s)
  --health-retries N         failures in a row that make it unhealthy (default: 3)
  --health-start-period T    failures in this first time after a start do not count (default: 0)
  --health-start-interval T  time between checks during the start period (default: 5s)
  --exit-on-unhealthy        stop an unhealthy child: the restart policy then decides (as a failure)
  --log FILE                 append the child's stdout and stderr to FILE (not inherited)
  --log-max-size SIZE        rotate FILE at a start when larger than SIZE (default: 10M; K, M, G)
  --log-max-files N          files kept, FILE.1 ... included (default: 3)
  --notify                   give the child NOTIFY_FD=3; it has started once it writes READY=1
  --watchdog T               kill the child (SIGABRT) after T without WATCHDOG=1 on NOTIFY_FD
  --max-memory SIZE          stop the child when its process group uses more than SIZE (512M)
  --memory-check T           how often memory is sampled (default: 5s)
  --metrics-port PORT        serve Prometheus metrics on http://127.0.0.1:PORT/metrics (0: any)
  --run-dir DIR              where each run's monitor directory goes (default: /run/restart-manager
                             as root, else restart-manager-<uid> under the temp dir)
  -h, --help                 show this help
  -V, --version              show the version

Exit status: the child's last exit code (1 for a 0 left after an unhealthy, watchdog
or memory stop); 125 for a bad option or policy; 126 when COMMAND cannot be executed;
127 when COMMAND is not found.

Example:
  restart-manager run --restart on-failure:3 -- node -e "process.exit(1)"`;

const VALUE_OPTIONS = new Set(
  Object.entries(OPTIONS)
    .filter(([, option]) => option.type === 'string')
    .map(([name]) => name),
);

/** Splits the words after `run` into its options and the command (at `--` or the first non-option). */
function splitCommand(words: readonly string[]): { options: string[]; command: string[] } {
  let skip = false;
  for (const [index, word] of words.entries()) {
    if (skip) {
      skip = false;
      continue;
    }
    if (word === '--') return { options: words.slice(0, index), command: words.slice(index + 1) };
    if (!word.startsWith('-') || word === '-') return { options: words.slice(0, index), command: words.slice(index) };
    skip = word.startsWith('--') && !word.includes('=') && VALUE_OPTIONS.has(word.slice(2));
  }
  return { options: [...words], command: [] };
}

function number(
  text: string | undefined,
  flag: string,
  check: (value: number) => boolean,
  expected: string,
): number | undefined {
  if (text === undefined) return undefined;
  const value = text === 'Infinity' ? Infinity : /^[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : NaN;
  if (!check(value)) throw new UsageError(`Invalid value for --${flag}: expected ${expected}, got '${text}'`);
  return value;
}

const finiteAtLeast = (min: number) => (value: number) => Number.isFinite(value) && value >= min;

function exitCodes(text: string | undefined, flag: string): number[] | undefined {
  if (text === undefined) return undefined;
  const codes = text.split(',').map((code) => code.trim());
  if (!codes.every((code) => /^[0-9]+$/.test(code) && Number(code) <= 2 ** 32 - 1)) {
    throw new UsageError(`Invalid value for --${flag}: expected comma-separated exit codes, got '${text}'`);
  }
  return codes.map(Number);
}

/**
 * Parses the CLI's arguments (without `node` and the script).
 *
 * @throws {@link UsageError} for a bad command line; {@link RestartPolicyError} for a bad policy.
 */
export function parseCommandLine(argv: readonly string[]): Command {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '-h' || verb === '--help' || verb === 'help') return { kind: 'help' };
  if (verb === '-V' || verb === '--version') return { kind: 'version' };
  if (verb !== 'run') throw new UsageError(`Unknown command '${verb}'`);
  const split = splitCommand(rest);
  let values: Partial<Record<keyof typeof OPTIONS, string | boolean>>;
  try {
    ({ values } = parseArgs({ args: split.options, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) return { kind: 'help' };
  if (values.version === true) return { kind: 'version' };
  const text = (flag: keyof typeof OPTIONS): string | undefined => values[flag] as string | undefined;
  const [command, ...args] = split.command;
  if (command === undefined || command === '') throw new UsageError('Missing COMMAND to run');

  const name = text('name');
  if (name !== undefined) {
    try {
      assertContainerId(name);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  const maxRestarts = number(
    text('max-restarts'),
    'max-restarts',
    (v) => Number.isSafeInteger(v),
    'a non-negative integer',
  );
  const windowMs = number(text('window'), 'window', (v) => v > 0, 'a positive number of ms or Infinity');
  if ((maxRestarts === undefined) !== (windowMs === undefined)) {
    throw new UsageError('--max-restarts and --window go together');
  }
  const restartOn = exitCodes(text('restart-on-exit'), 'restart-on-exit');
  const stopOn = exitCodes(text('stop-on-exit'), 'stop-on-exit');
  const exitCodeRules: ExitCodeRule[] = [
    ...(stopOn === undefined ? [] : [{ action: 'stop' as const, exitCodes: stopOn }]),
    ...(restartOn === undefined ? [] : [{ action: 'restart' as const, exitCodes: restartOn }]),
  ];
  const profile = text('profile');
  if (profile !== undefined && profile !== 'isulad' && profile !== 'docker') {
    throw new UsageError(`Invalid value for --profile: expected isulad or docker, got '${profile}'`);
  }
  const backoff = {
    initialMs: number(
      text('backoff-initial'),
      'backoff-initial',
      (v) => Number.isFinite(v) && v > 0,
      'a positive number of ms',
    ),
    multiplier: number(text('backoff-multiplier'), 'backoff-multiplier', finiteAtLeast(1), 'a number ≥ 1'),
    maxMs: number(text('backoff-max'), 'backoff-max', finiteAtLeast(0), 'a number of ms'),
    resetAfterMs: number(text('backoff-reset'), 'backoff-reset', (v) => v >= 0, 'a number of ms or Infinity'),
    jitter: number(text('jitter'), 'jitter', (v) => v >= 0 && v <= 1, 'a number in [0, 1]'),
  };
  const options: ContainerRestartOptions = {
    ...(profile !== undefined && { profile }),
    ...(Object.values(backoff).some((value) => value !== undefined) && {
      backoff: Object.fromEntries(Object.entries(backoff).filter(([, value]) => value !== undefined)),
    }),
    ...(maxRestarts !== undefined && windowMs !== undefined && { rateLimit: { maxRestarts, windowMs } }),
    ...(exitCodeRules.length > 0 && { exitCodeRules }),
  };
  try {
    resolveManagerOptions(options);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    kind: 'run',
    policy: parseRestartPolicy(text('restart') ?? 'no'),
    name,
    stopTimeoutMs: number(text('stop-timeout'), 'stop-timeout', finiteAtLeast(0), 'a number of ms'),
    stateDir: text('state-dir'),
    options,
    health: healthCheck(text, values['exit-on-unhealthy'] === true),
    watch: runWatch(text, values.notify === true),
    child: childOptions(text, values.notify === true),
    metricsPort: number(
      text('metrics-port'),
      'metrics-port',
      (v) => Number.isSafeInteger(v) && v <= 65_535,
      'a port number (0 to 65535)',
    ),
    command,
    args,
  };
}

const UNIT_MS: Readonly<Record<string, number>> = { '': 1, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** A duration flag: ms, or a number with a unit as Docker writes them (`500ms`, `5s`, `1m`, `1h`). */
function duration(textValue: string | undefined, flag: string, positive: boolean): number | undefined {
  if (textValue === undefined) return undefined;
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/.exec(textValue);
  const ms = match === null ? NaN : Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? NaN);
  if (!Number.isFinite(ms) || (positive && ms <= 0)) {
    const expected = positive ? 'a positive duration' : 'a duration';
    throw new UsageError(
      `Invalid value for --${flag}: expected ${expected} (ms, or 500ms, 5s, 1m, 1h), got '${textValue}'`,
    );
  }
  return ms;
}

function healthCheck(
  text: (flag: keyof typeof OPTIONS) => string | undefined,
  exitOnUnhealthy: boolean,
): CliHealthCheck | undefined {
  const command = text('health-cmd');
  if (command === undefined) {
    const companion = (
      ['health-interval', 'health-timeout', 'health-retries', 'health-start-period', 'health-start-interval'] as const
    ).find((flag) => text(flag) !== undefined);
    if (companion !== undefined || exitOnUnhealthy) {
      throw new UsageError(`--${companion ?? 'exit-on-unhealthy'} needs --health-cmd`);
    }
    return undefined;
  }
  if (command.trim() === '')
    throw new UsageError('Invalid value for --health-cmd: expected a command, got an empty one');
  const retries = number(
    text('health-retries'),
    'health-retries',
    (v) => Number.isSafeInteger(v) && v >= 1,
    'a positive integer',
  );
  return {
    command,
    intervalMs: duration(text('health-interval'), 'health-interval', true),
    timeoutMs: duration(text('health-timeout'), 'health-timeout', true),
    retries,
    startPeriodMs: duration(text('health-start-period'), 'health-start-period', false),
    startIntervalMs: duration(text('health-start-interval'), 'health-start-interval', true),
    exitOnUnhealthy,
  };
}

/** A size flag, in the grammar of `maxMemoryBytes` (`512M`: K, M and G are powers of 1024). */
function size(textValue: string | undefined, flag: string): number | undefined {
  if (textValue === undefined) return undefined;
  try {
    return parseBytes(textValue, flag);
  } catch {
    throw new UsageError(
      `Invalid value for --${flag}: expected a positive number of bytes or a size such as 512M (K, M, G), got '${textValue}'`,
    );
  }
}

function runWatch(text: (flag: keyof typeof OPTIONS) => string | undefined, notify: boolean): RunWatchOptions {
  const maxMemoryBytes = size(text('max-memory'), 'max-memory');
  const memoryCheckMs = duration(text('memory-check'), 'memory-check', true);
  if (memoryCheckMs !== undefined && maxMemoryBytes === undefined)
    throw new UsageError('--memory-check needs --max-memory');
  const watchdogMs = duration(text('watchdog'), 'watchdog', true);
  return {
    ...(notify && { readiness: 'notify' }),
    ...(watchdogMs !== undefined && { watchdogMs }),
    ...(maxMemoryBytes !== undefined && { maxMemoryBytes }),
    ...(memoryCheckMs !== undefined && { memoryCheckMs }),
  };
}

function childOptions(text: (flag: keyof typeof OPTIONS) => string | undefined, notify: boolean): CliChildOptions {
  const path = text('log');
  const maxBytes = size(text('log-max-size'), 'log-max-size');
  const maxFiles = number(
    text('log-max-files'),
    'log-max-files',
    (v) => Number.isSafeInteger(v) && v >= 1,
    'a positive integer',
  );
  if (path === undefined && (maxBytes !== undefined || maxFiles !== undefined)) {
    throw new UsageError(`--${maxBytes === undefined ? 'log-max-files' : 'log-max-size'} needs --log`);
  }
  if (path === '') throw new UsageError('Invalid value for --log: expected a file, got an empty one');
  const runDir = text('run-dir');
  if (runDir === '') throw new UsageError('Invalid value for --run-dir: expected a directory, got an empty one');
  return {
    log: path === undefined ? undefined : { path, maxBytes, maxFiles },
    notify: notify || text('watchdog') !== undefined,
    runDir,
  };
}
