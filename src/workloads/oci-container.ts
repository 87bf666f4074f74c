/**
 * The OCI runtime commands for one container id: the arguments of `run`, and `state`, `kill` and
 * `delete`.
 *
 * @packageDocumentation
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isNoSuchContainer, runRuntime } from './runtime-command.js';

/** What `runtime state ID` says of a container. */
export interface ContainerState {
  /** `created`, `running`, `paused` or `stopped`. */
  readonly status: string;
  /** Its init's pid on the host (0 once stopped). */
  readonly pid: number;
}

/** The state in `runtime state`'s output, or `undefined` when it holds none. */
function parseState(stdout: string): ContainerState | undefined {
  let state: unknown;
  try {
    state = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  const { status, pid } = (state ?? {}) as Partial<Record<keyof ContainerState, unknown>>;
  return typeof status === 'string' && typeof pid === 'number' && Number.isSafeInteger(pid)
    ? { status, pid }
    : undefined;
}

/** The runtimes whose state root holds one directory per container, named after its id. */
const KNOWN_LAYOUT = new Set(['runc', 'crun']);

/**
 * Where `runtime` keeps container `id`'s state, when that is known: `ROOT/ID` for runc and crun, with
 * the `root` given, or their own root as root (`/run/runc`, `/run/crun`) when no global flag may
 * move it. `undefined` for any other runtime or setting.
 */
export function stateDirOf(
  runtime: string,
  root: string | undefined,
  id: string,
  runtimeArgs: readonly string[],
  uid: number,
): string | undefined {
  const name = basename(runtime);
  if (!KNOWN_LAYOUT.has(name)) return undefined;
  if (root !== undefined) return join(root, id);
  return runtimeArgs.length === 0 && uid === 0 ? join('/run', name, id) : undefined;
}

/** One container id under one runtime and state root. */
export class OciContainer {
  readonly runtime: string;
  readonly id: string;
  /**
   * The user's global flags, `--root ROOT` when one is given, and runc's errors as JSON lines on
   * stderr: before the subcommand of every call.
   */
  readonly #globalArgs: readonly string[];
  /** Where the runtime keeps this container's state, when known (see {@link stateDirOf}). */
  readonly #stateDir: string | undefined;

  /**
   * `id` must be a checked container id, and `runtimeArgs` checked global flags; each id is put after
   * `--`, which runc and crun both take as the end of the flags.
   */
  constructor(runtime: string, root: string | undefined, id: string, runtimeArgs: readonly string[] = []) {
    this.runtime = runtime;
    this.id = id;
    this.#globalArgs = [...runtimeArgs, ...(root === undefined ? [] : ['--root', root]), '--log-format', 'json'];
    this.#stateDir = stateDirOf(runtime, root, id, runtimeArgs, process.geteuid?.() ?? -1);
  }

  /**
   * Whether the container may exist: `false` only when the runtime's state directory for it is known
   * and absent (a stat, where `state` or `delete` would spawn the runtime).
   */
  mayExist(): boolean {
    return this.#stateDir === undefined || existsSync(this.#stateDir);
  }

  /**
   * The arguments of `runtime run` in the foreground, its log (and errors) in `logFile`; with
   * `preserveFds`, the container's process also gets fds 3 to 3 + `preserveFds` − 1 of the runtime's.
   */
  runArgs(bundle: string, pidFile: string, logFile: string, preserveFds = 0): string[] {
    const preserve = preserveFds > 0 ? ['--preserve-fds', String(preserveFds)] : [];
    return [
      ...this.#globalArgs,
      '--log',
      logFile,
      'run',
      ...preserve,
      '--bundle',
      bundle,
      '--pid-file',
      pidFile,
      '--',
      this.id,
    ];
  }

  /**
   * The container's state, or `undefined` when it does not exist.
   *
   * @throws `Error` when the runtime fails otherwise, or prints something that is not a state.
   */
  async state(): Promise<ContainerState | undefined> {
    const result = await runRuntime(this.runtime, [...this.#globalArgs, 'state', '--', this.id]);
    if (!result.ok) {
      if (isNoSuchContainer(result.message)) return undefined;
      throw new Error(`\`${this.runtime} state ${this.id}\` failed: ${result.message}`);
    }
    const state = parseState(result.stdout);
    if (state === undefined) {
      throw new Error(`\`${this.runtime} state ${this.id}\` printed no state: ${JSON.stringify(result.stdout)}`);
    }
    return state;
  }

  /**
   * Sends `signal` to the container's init, or with SIGKILL to every process in it (`--all`: the init
   * may share the host's pid namespace). A container that has just stopped or gone is no error: the
   * run is ending anyway.
   *
   * @throws `Error` when the runtime fails otherwise.
   */
  async kill(signal: NodeJS.Signals): Promise<void> {
    const all = signal === 'SIGKILL' ? ['--all'] : [];
    const result = await runRuntime(this.runtime, [...this.#globalArgs, 'kill', ...all, '--', this.id, signal]);
    if (result.ok || /not running/i.test(result.message) || isNoSuchContainer(result.message)) return;
    throw new Error(`\`${this.runtime} kill ${this.id} ${signal}\` failed: ${result.message}`);
  }

  /**
   * Deletes the container, killing it first if it runs (`delete --force`); one that does not exist is
   * no error.
   *
   * @throws `Error` when the runtime fails otherwise.
   */
  async delete(): Promise<void> {
    const result = await runRuntime(this.runtime, [...this.#globalArgs, 'delete', '--force', '--', this.id]);
    if (result.ok || isNoSuchContainer(result.message)) return;
    throw new Error(`\`${this.runtime} delete --force ${this.id}\` failed: ${result.message}`);
  }
}
