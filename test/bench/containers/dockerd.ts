/**
 * A private Docker daemon for the facts and the bench: its own data root, exec root, pid file and
 * socket under one directory, so it never touches (or is touched by) the system's dockerd. It
 * starts its own containerd; `--bridge=none --iptables=false` keep it off the host's network setup,
 * and vfs needs no kernel overlay support.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { until, uptimeMs } from './clock.js';
import { childrenOf } from './procfs.js';

/** How to start a private dockerd. */
export interface DockerdOptions {
  /** The dockerd binary (see `requireTools`). */
  dockerd: string;
  /** Everything the daemon writes goes under it; keep it short (the socket path must fit 108 bytes). */
  baseDir: string;
  /** `--live-restore`: containers outlive the daemon and are re-adopted by the next one. @defaultValue false */
  liveRestore?: boolean;
  /** How long to wait for the API to answer (a restore of 60 containers on a busy machine took 28 s). @defaultValue 120_000 */
  readyTimeoutMs?: number;
}

/** A running private dockerd. */
export interface Dockerd {
  /** `DOCKER_HOST` for it: `unix://…/docker.sock`. */
  readonly host: string;
  readonly pid: number;
  readonly liveRestore: boolean;
  /** {@link uptimeMs} when the process was spawned. */
  readonly spawnedAtMs: number;
  /** {@link uptimeMs} when `/_ping` first answered. */
  readonly readyAtMs: number;
  /** Resolves once the process has ended. */
  readonly exited: Promise<void>;
  /** SIGTERM (dockerd stops its containers, then containerd), then waits for the exit; SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
  /** SIGKILL, as a crash: containers and their shims live on. Waits for the exit, and for containerd to be reaped. */
  kill(): Promise<void>;
}

/** The paths a private daemon under `baseDir` uses. */
export function dockerdPaths(baseDir: string): {
  socket: string;
  data: string;
  exec: string;
  pidFile: string;
  log: string;
} {
  return {
    socket: join(baseDir, 'docker.sock'),
    data: join(baseDir, 'data'),
    exec: join(baseDir, 'exec'),
    pidFile: join(baseDir, 'dockerd.pid'),
    log: join(baseDir, 'dockerd.log'),
  };
}

const ping = (socketPath: string): Promise<boolean> =>
  new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => {
      resolve(false);
    });
    req.end();
  });

const exitOf = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else
      child.once('exit', () => {
        resolve();
      });
  });

/**
 * Starts a private dockerd and resolves once its API answers.
 *
 * @throws when the API does not answer within `readyTimeoutMs` (the daemon is killed first; its log names why).
 */
export async function startDockerd(options: DockerdOptions): Promise<Dockerd> {
  const paths = dockerdPaths(options.baseDir);
  const args = [
    '--iptables=false',
    '--ip6tables=false',
    '--bridge=none',
    '--storage-driver=vfs',
    `--data-root=${paths.data}`,
    `--exec-root=${paths.exec}`,
    `--pidfile=${paths.pidFile}`,
    `--host=unix://${paths.socket}`,
    ...(options.liveRestore === true ? ['--live-restore'] : []),
  ];
  const log = openSync(paths.log, 'a');
  const spawnedAtMs = uptimeMs();
  const child = spawn(options.dockerd, args, { stdio: ['ignore', log, log] });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) {
    const error = await new Promise<Error>((resolve) => child.once('error', resolve));
    throw new Error(`${options.dockerd} did not start: ${error.message}`, { cause: error });
  }
  const exited = exitOf(child);
  const waitExit = async (timeoutMs: number): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  try {
    await until(
      () => child.exitCode !== null || ping(paths.socket),
      options.readyTimeoutMs ?? 120_000,
      'dockerd /_ping',
    );
    if (child.exitCode !== null) throw new Error(`dockerd exited ${child.exitCode} at start: see ${paths.log}`);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
  return {
    host: `unix://${paths.socket}`,
    pid,
    liveRestore: options.liveRestore === true,
    spawnedAtMs,
    readyAtMs: uptimeMs(),
    exited,
    stop: async (timeoutMs = 60_000) => {
      child.kill('SIGTERM');
      await waitExit(timeoutMs);
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
      await containerdGone(options.baseDir);
    },
  };
}

/** The programs a private daemon starts: only these are ever looked for, or killed, by {@link removeDockerdDirs}. */
const DAEMON_PROGRAMS = /\/(dockerd|containerd|containerd-shim-runc-v2|docker-init|runc)$/;

/**
 * The pids of the daemon's own processes (dockerd, containerd, shims) whose command line names
 * `baseDir`: those of this private daemon, never another program that merely mentions the path.
 */
export function processesUnder(baseDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const program = readlinkSync(`/proc/${entry}/exe`);
      if (DAEMON_PROGRAMS.test(program) && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(baseDir))
        pids.push(Number(entry));
    } catch {
      // The process ended while we looked, or is a kernel thread.
    }
  }
  return pids;
}

/** The mount points under `dir`, deepest first (so that each can be unmounted in turn). */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

const killPid = (pid: number): void => {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
};

/**
 * Removes what a stopped private daemon left under `baseDir`: the processes of a crashed daemon
 * (each shim's container first: a container outlives its killed shim, re-parented to init), what is
 * still mounted there, then the directory (vfs copies every image layer: it can be big).
 */
export async function removeDockerdDirs(baseDir: string): Promise<void> {
  for (const pid of processesUnder(baseDir)) {
    childrenOf(pid).forEach(killPid);
    killPid(pid);
  }
  await until(() => processesUnder(baseDir).length === 0, 10_000, `the processes under ${baseDir} to end`);
  for (const point of mountsUnder(baseDir)) execFileSync('umount', ['-l', point]);
  await rm(baseDir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * Waits until the containerd a killed dockerd started is gone for good. It dies with dockerd, but a
 * new dockerd started before init has reaped it finds its pid still "alive" (a zombie answers
 * `kill(pid, 0)`), waits for its dead socket and fails with "timeout waiting for containerd to start".
 */
export async function containerdGone(baseDir: string, timeoutMs = 10_000): Promise<void> {
  const pidFile = join(dockerdPaths(baseDir).exec, 'containerd', 'containerd.pid');
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  await until(() => !existsSync(`/proc/${pid}`), timeoutMs, `containerd ${pid} to be reaped`);
}
