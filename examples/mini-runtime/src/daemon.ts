/**
 * The daemon: one `Supervisor` over a state directory, its containers rebuilt by `restore()` at every
 * start, and a control socket in the state directory that the CLI talks to.
 *
 * The state directory holds `containers/` (the Supervisor's state files), `logs/` (each container's
 * log), `run/` (each run's monitor directory), `runc/` (runc's state, unless `runcRoot` says
 * otherwise) and `mrt.sock`.
 */
import { mkdir, rm, unlink } from 'node:fs/promises';
import { type Server, type Socket, createServer } from 'node:net';
import { join } from 'node:path';
import { type ContainerInfo, Supervisor, isContainerError, isRestartPolicyError, ociWorkload } from 'restart-manager';
import { type Meta, type Request, type Response, type Row, SOCKET_NAME, parseRequest } from './protocol.js';

/** The longest request line taken; a client that sends more without a newline is cut off. */
const MAX_REQUEST_CHARS = 64 * 1024;

/** How the daemon runs. */
export interface DaemonOptions {
  /** The state directory (made if missing). */
  readonly stateDir: string;
  /** Re-adopt the containers that survived the last daemon (`true`) instead of stopping and restarting them. */
  readonly liveRestore: boolean;
  /** How long a restore waits before restarting a container the last daemon left running. */
  readonly restoreDelayMs: number;
  /** runc's state directory (`runc --root`). */
  readonly runcRoot: string;
  /** Where each line of the daemon's own log goes: what happens to the containers, and errors. */
  readonly log: (line: string) => void;
}

/** A running daemon. */
export interface Daemon {
  /** The ids that `restore()` brought back. */
  readonly restored: readonly string[];
  /** Stops every container (not as a manual stop: the next daemon brings them back) and closes the socket. */
  shutdown(): Promise<void>;
}

/** Starts the daemon: restores what the last one left, then listens on `<stateDir>/mrt.sock`. */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { stateDir, liveRestore, restoreDelayMs, runcRoot, log } = options;
  const logsDir = join(stateDir, 'logs');
  const runDir = join(stateDir, 'run');
  // 0700: whoever can reach the socket can run containers as root.
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await mkdir(logsDir, { recursive: true });

  const workloadOf = (id: string, meta: Meta) =>
    ociWorkload({ bundle: meta.bundle, id, root: runcRoot, runDir, log: { path: meta.log } });
  const supervisor = new Supervisor<Meta>({ stateDir: join(stateDir, 'containers'), liveRestore, restoreDelayMs });
  supervisor.on('start', ({ id, pid, restartCount }) => {
    log(`start ${id}: pid ${String(pid)}, restarts ${restartCount}`);
  });
  supervisor.on('exit', ({ id, exitCode, restart, delayMs, reason }) => {
    log(`exit ${id}: code ${exitCode}, ${restart ? `restart in ${delayMs} ms` : 'stays down'} (${reason})`);
  });
  supervisor.on('start-failed', ({ id, error }) => {
    log(`start-failed ${id}: ${error instanceof Error ? error.message : String(error)}`);
  });
  supervisor.on('error', ({ id, error }) => {
    log(`error ${id ?? '-'}: ${error instanceof Error ? error.message : String(error)}`);
  });
  // The state directory's lock is taken here: a second daemon fails (ERR_STATE_DIR_LOCKED, naming the
  // first's pid) before it touches the socket.
  const restored = await supervisor.restore(workloadOf).catch(async (error: unknown) => {
    await supervisor.close();
    throw error;
  });
  for (const id of restored) {
    const { status, pid } = supervisor.inspect(id);
    log(`restore ${id}: ${status}${pid === null ? '' : `, pid ${pid}`}`);
  }

  async function handle(request: Request): Promise<unknown> {
    switch (request.op) {
      case 'run': {
        const meta: Meta = { bundle: request.bundle, log: join(logsDir, `${request.name}.log`) };
        await supervisor.add(request.name, { policy: request.policy, workload: workloadOf(request.name, meta), meta });
        await supervisor.start(request.name);
        return rowOf(supervisor.inspect(request.name));
      }
      case 'ps':
        return supervisor.list().map(rowOf);
      case 'start':
        await supervisor.start(request.name);
        return rowOf(supervisor.inspect(request.name));
      case 'stop':
        await supervisor.stop(request.name);
        return rowOf(supervisor.inspect(request.name));
      case 'wait':
        return await supervisor.wait(request.name, 'not-running');
      case 'logs':
        return logOf(supervisor.inspect(request.name));
      case 'rm': {
        const log = logOf(supervisor.inspect(request.name));
        await supervisor.remove(request.name, { force: request.force });
        await Promise.all([log, `${log}.1`, `${log}.2`].map((file) => rm(file, { force: true })));
        return request.name;
      }
    }
  }

  async function answer(line: string): Promise<Response> {
    try {
      return { ok: true, value: await handle(parseRequest(line)) };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // The library's errors carry a stable code (ERR_NO_SUCH_CONTAINER, ERR_INVALID_RESTART_POLICY, …).
      return isContainerError(error) || isRestartPolicyError(error)
        ? { ok: false, error: { message, code: error.code } }
        : { ok: false, error: { message } };
    }
  }

  function serve(socket: Socket): void {
    let received = '';
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      received += chunk;
      const end = received.indexOf('\n');
      if (end === -1 && received.length > MAX_REQUEST_CHARS) socket.destroy();
      if (end === -1) return;
      socket.pause();
      void answer(received.slice(0, end)).then((response) => socket.end(`${JSON.stringify(response)}\n`));
    });
  }

  const socketPath = join(stateDir, SOCKET_NAME);
  // A socket file left by a daemon that was killed: the lock says no daemon holds this directory.
  await unlink(socketPath).catch(() => undefined);
  // The client ends its side once its request is sent: answer it all the same.
  const server = createServer({ allowHalfOpen: true }, serve);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, resolve);
    });
  } catch (error) {
    await supervisor.close(); // lets go of the containers (they run on) and of the state directory's lock
    throw error;
  }

  return {
    restored,
    async shutdown() {
      const closed = closeServer(server);
      await supervisor.shutdown(); // a pending `wait` is answered with ERR_SUPERVISOR_CLOSED
      await closed;
    },
  };
}

/** The `ps` row of a container. */
export function rowOf(info: ContainerInfo<Meta>): Row {
  return {
    name: info.id,
    status: info.status,
    restarts: info.restartCount,
    failures: info.failureCount,
    pid: info.pid,
    exitCode: info.exitCode,
    startedAt: info.startedAt,
  };
}

/** The log file of a container. */
function logOf(info: ContainerInfo<Meta>): string {
  if (info.meta === undefined) throw new Error(`Container ${info.id} has no log`);
  return info.meta.log;
}

/** Stops accepting connections; resolves once those being answered are done. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => {
      resolve();
    });
  });
}
