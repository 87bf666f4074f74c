/**
 * `processWorkload`: a real child process, in a process group of its own, as a {@link Workload}.
 *
 * @packageDocumentation
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import createDebug from 'debug';
import { exitCodeOf } from '../exit-code.js';
import { show } from '../validate.js';
import type { Run, RunHandle, Workload } from '../workload.js';
import { Ending } from './ending.js';
import { Poller } from './poller.js';
import {
  type ProcessIdentity,
  assertProcAvailable,
  groupsWithEnvironment,
  identify,
  isAlive,
  parseIdentity,
} from './proc.js';
import { KILL_GRACE_MS, assertSignal, stopEscalating } from './stop.js';

const log = createDebug('restart-manager:process');

/** The environment variable that tags each run of a {@link processWorkload} given an `id`. */
export const RUN_ID_ENV = 'RESTART_MANAGER_ID';

/** The options of {@link processWorkload}: Node's spawn options (`detached` is always `true`), and an id. */
export interface ProcessWorkloadOptions extends SpawnOptions {
  /**
   * Identifies this workload's runs on this machine, as the variable `RESTART_MANAGER_ID` in each
   * run's environment. The first start of the workload SIGKILLs any process group still carrying it,
   * and waits for it to be gone: the run of an earlier daemon that died between starting it and
   * persisting its handle, which nothing else could find — as `ociWorkload` deletes a stale container
   * of its id. Without it, such a run is left alone.
   * @defaultValue none
   */
  readonly id?: string | undefined;
}

/** A {@link Run} of {@link processWorkload} started by this process, with its child process. */
export interface ProcessRun extends Run {
  /** The child process (for its pipes, when `stdio` is `'pipe'`). */
  readonly child: ChildProcess;
  /**
   * Sends `signal` to the child's process group; nothing once it has exited (the group's id may be
   * reused).
   *
   * @throws `TypeError` naming `signal` when it is not a signal name.
   */
  kill(signal: NodeJS.Signals): void;
}

/**
 * Sends `signal` to the process group `pgid`; `false` when the group is empty. A process started
 * with `detached: true` leads a group whose id is its pid.
 */
function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/**
 * What both kinds of run share: stopping and signalling their process group. Each kind guards its
 * own `send`, since each tells differently whether its group is still its own.
 */
abstract class GroupRun {
  abstract readonly pid: number;
  protected readonly ending = new Ending();
  readonly #who: string;

  constructor(who: string) {
    this.#who = who;
  }

  /** Sends `signal` to the group, unless the run has ended. */
  protected abstract send(signal: NodeJS.Signals): void;

  /** SIGTERM, then SIGKILL after `timeoutMs` (see {@link stopEscalating}). */
  stop(timeoutMs: number): Promise<void> {
    if (!this.ending.ended) log('stopping %spid %d: SIGTERM, SIGKILL after %d ms', this.#who, this.pid, timeoutMs);
    const send = (signal: NodeJS.Signals): void => {
      this.send(signal);
    };
    return stopEscalating({ ending: this.ending, send }, timeoutMs, `Process ${this.pid}`);
  }

  kill(signal: NodeJS.Signals): void {
    assertSignal(signal);
    log('%spid %d: %s to its group', this.#who, this.pid, signal);
    this.send(signal);
  }
}

class ChildRun extends GroupRun implements ProcessRun {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly handle: RunHandle | undefined;
  readonly exit: Promise<number>;

  constructor(child: ChildProcess, pid: number) {
    super('');
    this.child = child;
    this.pid = pid;
    // The child cannot have been reaped yet (its exit is only seen on a later turn of the event
    // loop), so /proc still shows it, even as a zombie.
    const identity = identify(pid);
    this.handle = identity === undefined ? undefined : { ...identity };
    this.exit = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#killLeftovers();
        this.ending.end();
        resolve(exitCodeOf(code, signal));
      });
    });
  }

  /**
   * What the leader left in its group dies with it, as a container's processes die with its pid
   * namespace's init (and as systemd ends a service's leftovers). A group id stays taken while any
   * member lives, so this reaches only our leftovers; an empty group's id could only have been
   * reused in the instant since the leader was reaped, by a new group leader after a pid wrap-around.
   */
  #killLeftovers(): void {
    try {
      if (signalGroup(this.pid, 'SIGKILL')) log('pid %d exited: SIGKILL to what is left of its group', this.pid);
    } catch (error) {
      log('pid %d exited: cannot signal its group: %O', this.pid, error);
    }
  }

  protected send(signal: NodeJS.Signals): void {
    if (!this.ending.ended) signalGroup(this.pid, signal);
  }
}

/**
 * A run found again from its handle: not our child, so its end is seen by polling `/proc`, and its
 * exit code cannot be known (255). Before each signal the process is checked to be the very same one.
 */
class RecoveredRun extends GroupRun implements Run {
  readonly pid: number;
  readonly handle: RunHandle;
  readonly exit: Promise<number>;
  readonly #identity: ProcessIdentity;
  readonly #unwatch: () => void;
  #resolveExit!: (code: number) => void;

  constructor(identity: ProcessIdentity, poller: Poller) {
    super('recovered ');
    this.#identity = identity;
    this.pid = identity.pid;
    this.handle = { ...identity };
    this.exit = new Promise((resolve) => (this.#resolveExit = resolve));
    this.#unwatch = poller.watch(
      () => !isAlive(identity),
      () => {
        this.#ended();
      },
    );
  }

  #ended(): void {
    if (this.ending.ended) return;
    log('recovered pid %d has ended', this.pid);
    this.#unwatch();
    this.ending.end();
    this.#resolveExit(255);
  }

  protected send(signal: NodeJS.Signals): void {
    if (this.ending.ended) return;
    // Never signal a pid that may have been reused: check it is still the same process first.
    if (!isAlive(this.#identity)) {
      this.#ended();
      return;
    }
    signalGroup(this.pid, signal);
  }
}

/**
 * SIGKILLs the process groups of the runs tagged with `id` that an earlier daemon left behind, and
 * resolves once they are gone; rejects if one is still there after {@link KILL_GRACE_MS}.
 */
async function removeStaleRuns(id: string, poller: Poller): Promise<void> {
  const entry = `${RUN_ID_ENV}=${id}`;
  const stale = groupsWithEnvironment(entry);
  if (stale.length === 0) return;
  log('%s: SIGKILL to %d run(s) an earlier daemon left: groups %o', id, stale.length, stale);
  for (const group of stale) signalGroup(group, 'SIGKILL');
  await new Promise<void>((resolve, reject) => {
    const deadlineMs = performance.now() + KILL_GRACE_MS;
    const unwatch = poller.watch(
      () => groupsWithEnvironment(entry).length === 0 || performance.now() > deadlineMs,
      () => {
        unwatch();
        if (groupsWithEnvironment(entry).length === 0) resolve();
        else
          reject(
            new Error(`A run of ${id} left by an earlier daemon did not go within ${KILL_GRACE_MS} ms of SIGKILL`),
          );
      },
    );
  });
}

/**
 * A workload that runs `command` as a child process, stdio inherited unless `options.stdio` says
 * otherwise, in a process group of its own (`detached` is always `true`: the child calls `setsid`),
 * so that signals reach the whole tree it starts.
 *
 * - A run's exit code is the process's, or 128 + the signal number.
 * - `stop(timeoutMs)` sends SIGTERM to the group, then SIGKILL after `timeoutMs`, and rejects if the
 *   process is still there 5 s later; `kill(signal)` sends `signal` to the group.
 * - When the process exits, whatever is left in its group is SIGKILLed, as a container's processes
 *   die with its init.
 * - A spawn error (`ENOENT`, `EACCES`) makes `start` reject with Node's error, whose `code` is the errno.
 * - A run's `handle` is `{ pid, startTime, bootId }` (from `/proc`; none where `/proc` is missing).
 *   `recover(handle)` resolves with a run for that very process while it lives, `undefined` once it is
 *   gone or its pid was reused. A recovered run's exit code cannot be known: its `exit` resolves with
 *   255 once it is gone (seen within 100 ms), and what its group leaves behind is not killed, since
 *   the group's id may by then be reused.
 *
 * @param command - The program to run.
 * @param args - Its arguments.
 * @param options - Node's spawn options.
 * @throws `TypeError` when `command` is not a non-empty string or `args` not an array of strings.
 * @example
 * ```ts
 * await supervisor.add('web', { policy: 'always', workload: processWorkload('node', ['server.js']) });
 * ```
 */
export function processWorkload(
  command: string,
  args: readonly string[] = [],
  options: ProcessWorkloadOptions = {},
): Workload {
  if (typeof command !== 'string' || command === '') {
    throw new TypeError(`Expected \`command\` to be a non-empty string, got ${show(command)}`);
  }
  if (!Array.isArray(args) || !args.every((arg) => typeof arg === 'string')) {
    throw new TypeError(`Expected \`args\` to be an array of strings, got ${show(args)}`);
  }
  const { id, ...spawnOnly } = options;
  if (id !== undefined && (typeof id !== 'string' || id === '' || id.includes('\0'))) {
    throw new TypeError(`Expected \`options.id\` to be a non-empty string, got ${show(id)}`);
  }
  const env = id === undefined ? spawnOnly.env : { ...(spawnOnly.env ?? process.env), [RUN_ID_ENV]: id };
  const spawnOptions: SpawnOptions = { stdio: 'inherit', ...spawnOnly, env, detached: true };
  // Only the first start can meet a run an earlier daemon left: later ones follow runs of ours.
  let firstStart = id !== undefined;
  const poller = new Poller();
  return {
    async start(signal: AbortSignal): Promise<ProcessRun> {
      if (firstStart && id !== undefined) {
        firstStart = false;
        await removeStaleRuns(id, poller);
      }
      return new Promise((resolve, reject) => {
        if (signal.aborted) {
          reject(signal.reason as Error);
          return;
        }
        const child = spawn(command, args, spawnOptions);
        const onError = (error: Error): void => {
          child.off('spawn', onSpawn);
          reject(error);
        };
        const onSpawn = (): void => {
          child.off('error', onError);
          child.on('error', (error) => {
            log('pid %d: %O', child.pid, error);
          });
          log('spawned %s as pid %d', command, child.pid);
          resolve(new ChildRun(child, child.pid as number));
        };
        child.once('error', onError);
        child.once('spawn', onSpawn);
      });
    },

    recover(handle: RunHandle, signal: AbortSignal): Promise<Run | undefined> {
      return new Promise((resolve) => {
        signal.throwIfAborted();
        const identity = parseIdentity(handle, 'handle');
        assertProcAvailable(identity.pid);
        const found = isAlive(identity);
        log('recover pid %d: %s', identity.pid, found ? 'alive' : 'gone');
        resolve(found ? new RecoveredRun(identity, poller) : undefined);
      });
    },
  };
}
