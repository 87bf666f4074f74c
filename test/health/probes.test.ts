/**
 * The ready-made probes against real things: an HTTP server that starts answering 503 or stops
 * answering, a TCP port that closes, and a command whose file disappears; each also driven by a
 * `HealthMonitor` in real (short) time, waiting on its status changes, never on a sleep.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo, type Server as TcpServer, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type HealthInfo, HealthMonitor } from '../../src/health/monitor.js';
import { type HealthCheck, type HealthProbe, resolveHealthCheck } from '../../src/health/options.js';
import { commandProbe, httpProbe, ociExecProbe, tcpProbe } from '../../src/index.js';
import { waitFor } from '../support/wait-for.js';

let dir: string;
let monitors: HealthMonitor[];
/** Probes of those monitors still running (a stopped one ends a moment later). */
let running: number;
let closers: (() => Promise<void>)[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'restart-manager-health-'));
  monitors = [];
  running = 0;
  closers = [];
});

afterEach(async () => {
  for (const monitor of monitors) monitor.stop();
  await waitFor(() => running === 0, 10_000, 'the last probe to end');
  for (const close of closers) await close();
  await rm(dir, { recursive: true, force: true });
});

/** A monitor whose status changes the test can wait for, stopped after the test. */
function watch(check: HealthCheck): { monitor: HealthMonitor; becomes: (status: string) => Promise<HealthInfo> } {
  const changes: HealthInfo[] = [];
  const counted: HealthProbe = async (signal) => {
    running++;
    try {
      return await (check.probe as HealthProbe)(signal);
    } finally {
      running--;
    }
  };
  const monitor = new HealthMonitor(
    resolveHealthCheck({ ...check, probe: counted }),
    { now: () => Date.now() },
    (info) => {
      changes.push(info);
    },
  );
  monitors.push(monitor);
  const becomes = async (status: string): Promise<HealthInfo> => {
    await waitFor(() => changes.some((info) => info.status === status), 10_000, `status ${status}`);
    return changes.find((info) => info.status === status) as HealthInfo;
  };
  return { monitor, becomes };
}

/** The error a promise rejects with (the test fails if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('it resolved');
    },
    (error: unknown) => error as Error,
  );
}

/** An HTTP server on an ephemeral port whose answer the test sets; it records each request's socket closing. */
async function httpServer(): Promise<{
  url: string;
  port: number;
  handle: { current: (req: IncomingMessage, res: ServerResponse) => void };
  requests: { closed: boolean }[];
}> {
  const handle = { current: (_: IncomingMessage, res: ServerResponse) => res.end('ok') };
  const requests: { closed: boolean }[] = [];
  const server: Server = createServer((req, res) => {
    const request = { closed: false };
    requests.push(request);
    req.socket.once('close', () => (request.closed = true));
    handle.current(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/healthz`, port, handle, requests };
}

describe('httpProbe against a real server', () => {
  it('passes on 200 with the body head as output, and fails on 503 saying so', async () => {
    const { url, handle } = await httpServer();
    const probe = httpProbe(url);
    await expect(probe(new AbortController().signal)).resolves.toBe('HTTP 200: ok');
    handle.current = (_, res) => {
      res.writeHead(503).end(' down for maintenance \n');
    };
    expect((await rejection(Promise.resolve(probe(new AbortController().signal)))).message).toBe(
      'HTTP 503: down for maintenance',
    );
    handle.current = (_, res) => {
      res.writeHead(302, { location: '/' }).end();
    };
    await expect(probe(new AbortController().signal)).resolves.toBe('HTTP 302');
  });

  it('passes on 399, the last status of the range, and fails on 400', async () => {
    const { url, handle } = await httpServer();
    const probe = httpProbe(url);
    handle.current = (_, res) => res.writeHead(399).end();
    await expect(probe(new AbortController().signal)).resolves.toBe('HTTP 399');
    handle.current = (_, res) => res.writeHead(400).end();
    expect((await rejection(Promise.resolve(probe(new AbortController().signal)))).message).toBe('HTTP 400');
  });

  it('speaks TLS to an https: URL: a plain HTTP server fails the probe with a TLS error', async () => {
    const { port } = await httpServer();
    const error = await rejection(
      Promise.resolve(httpProbe(`https://127.0.0.1:${port}/`)(new AbortController().signal)),
    );
    expect(error.message).toMatch(/SSL|EPROTO|TLS/);
  });

  it('sends the headers it is given, and one connection per probe that closes after it', async () => {
    const { url, handle, requests } = await httpServer();
    handle.current = (req, res) => res.end(req.headers['x-probe']);
    await expect(httpProbe(url, { headers: { 'x-probe': 'yes' } })(new AbortController().signal)).resolves.toBe(
      'HTTP 200: yes',
    );
    await waitFor(() => requests[0]?.closed === true, 5_000, 'the connection to close');
  });

  it('reads only the head of a long body, then closes the connection', async () => {
    const { url, handle, requests } = await httpServer();
    handle.current = (_, res) => {
      res.write('y'.repeat(64 * 1024));
      // Never ends: the probe must not wait for the rest.
    };
    const output = await httpProbe(url)(new AbortController().signal);
    expect(output).toBe(`HTTP 200: ${'y'.repeat(511)}…`);
    await waitFor(() => requests[0]?.closed === true, 5_000, 'the connection to close');
  });

  it('fails with the connect error once the server is gone', async () => {
    const { url, port } = await httpServer();
    const close = closers.pop() as () => Promise<void>;
    await close();
    const error = await rejection(Promise.resolve(httpProbe(url)(new AbortController().signal)));
    expect(error.message).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  it('destroys the request when its signal aborts, and rejects with the reason', async () => {
    const { url, handle, requests } = await httpServer();
    handle.current = () => undefined;
    const controller = new AbortController();
    const result = rejection(Promise.resolve(httpProbe(url)(controller.signal)));
    await waitFor(() => requests.length === 1, 5_000, 'the request to arrive');
    const reason = new Error('stop now');
    controller.abort(reason);
    expect(await result).toBe(reason);
    await waitFor(() => requests[0]?.closed === true, 5_000, 'the connection to close');
  });

  it('makes a monitor unhealthy when the server answers 503, and again when it stops answering (timeout)', async () => {
    const { url, handle, requests } = await httpServer();
    const { monitor, becomes } = watch({ probe: httpProbe(url), intervalMs: 20, timeoutMs: 200, retries: 1 });
    monitor.start();
    await becomes('healthy');
    handle.current = (_, res) => res.writeHead(503).end();
    const unhealthy = await becomes('unhealthy');
    expect(unhealthy.log.at(-1)).toMatchObject({ passed: false, output: 'HTTP 503' });

    handle.current = (_, res) => res.end('back');
    monitor.start();
    await waitFor(() => monitor.info.status === 'healthy', 10_000, 'healthy again');
    handle.current = () => undefined;
    await waitFor(() => monitor.info.status === 'unhealthy', 10_000, 'unhealthy by timeout');
    expect(monitor.info.log.at(-1)).toMatchObject({ passed: false, output: 'timed out after 200 ms' });
    monitor.stop();
    await waitFor(() => requests.every((request) => request.closed), 5_000, 'every connection to close');
  });
});

describe('tcpProbe against a real port', () => {
  async function tcpServer(): Promise<{ port: number; server: TcpServer }> {
    const server = createTcpServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { port, server };
  }

  it('passes while the port accepts, and fails with ECONNREFUSED once it closes', async () => {
    const { port, server } = await tcpServer();
    const probe = tcpProbe({ host: '127.0.0.1', port });
    await expect(probe(new AbortController().signal)).resolves.toBe(`connected to 127.0.0.1:${port}`);
    await new Promise((resolve) => server.close(resolve));
    expect((await rejection(Promise.resolve(probe(new AbortController().signal)))).message).toBe(
      `connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });

  it('connects to localhost by default, and says which address answered', async () => {
    const { port, server } = await tcpServer();
    await expect(tcpProbe({ port })(new AbortController().signal)).resolves.toBe(`connected to 127.0.0.1:${port}`);
    await new Promise((resolve) => server.close(resolve));
  });

  it('rejects with the reason of a signal already aborted', async () => {
    const reason = new Error('already');
    expect(await rejection(Promise.resolve(tcpProbe({ port: 1 })(AbortSignal.abort(reason))))).toBe(reason);
  });

  it('makes a monitor unhealthy when the port closes', async () => {
    const { port, server } = await tcpServer();
    const { monitor, becomes } = watch({ probe: tcpProbe({ host: '127.0.0.1', port }), intervalMs: 20, retries: 2 });
    monitor.start();
    await becomes('healthy');
    await new Promise((resolve) => server.close(resolve));
    const unhealthy = await becomes('unhealthy');
    expect(unhealthy.failingStreak).toBe(2);
    expect(unhealthy.log.at(-1)).toMatchObject({ passed: false, output: `connect ECONNREFUSED 127.0.0.1:${port}` });
  });
});

describe('commandProbe on real processes', () => {
  /** Whether `pid` is a live process (not gone, not a zombie). */
  function isRunning(pid: number): boolean {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  }

  it('passes with the output while the file it reads exists, and fails saying why once it is gone', async () => {
    const file = join(dir, 'ready');
    await writeFile(file, 'ready since boot\n');
    const probe = commandProbe('cat', [file]);
    await expect(probe(new AbortController().signal)).resolves.toBe('ready since boot');
    await rm(file);
    expect((await rejection(Promise.resolve(probe(new AbortController().signal)))).message).toBe(
      `exit 1: cat: ${file}: No such file or directory`,
    );
  });

  it('runs in the working directory and environment it is given', async () => {
    const probe = commandProbe('sh', ['-c', 'echo "$PWD $GREETING"'], { cwd: dir, env: { GREETING: 'hi' } });
    await expect(probe(new AbortController().signal)).resolves.toBe(`${dir} hi`);
  });

  it('gives the command no stdin: one that reads it gets end-of-file at once', async () => {
    const probe = commandProbe('sh', ['-c', 'cat; echo read all']);
    await expect(probe(AbortSignal.timeout(5_000))).resolves.toBe('read all');
  });

  it('signals nothing when its signal aborts after the command has ended', async () => {
    const controller = new AbortController();
    await expect(commandProbe('true', [])(controller.signal)).resolves.toBe('');
    const kill = vi.spyOn(process, 'kill');
    try {
      controller.abort();
      expect(kill).not.toHaveBeenCalled();
    } finally {
      kill.mockRestore();
    }
  });

  it.each([
    ['a command that does not exist', '/nonexistent/probe', [], 'spawn /nonexistent/probe ENOENT'],
    ['a command killed by a signal', 'sh', ['-c', 'echo dying >&2; kill -TERM $$'], 'killed by SIGTERM: dying'],
    ['a silent failure', 'false', [], 'exit 1'],
  ])('fails on %s, saying so', async (_, command, args, message) => {
    const error = await rejection(Promise.resolve(commandProbe(command, args)(new AbortController().signal)));
    expect(error.message).toBe(message);
  });

  it('rejects with the reason of a signal already aborted, and runs nothing', async () => {
    const ran = join(dir, 'ran');
    const reason = new Error('already');
    const probe = commandProbe('touch', [ran]);
    expect(await rejection(Promise.resolve(probe(AbortSignal.abort(reason))))).toBe(reason);
    expect(existsSync(ran)).toBe(false);
  });

  it("ociExecProbe runs the runtime's exec, after the runtime's flags and --root when given, the id after --", async () => {
    const probe = (root?: string, runtimeArgs?: string[]): Promise<unknown> =>
      Promise.resolve(
        ociExecProbe({ id: 'web', command: ['true'], runtime: 'echo', root, runtimeArgs })(
          new AbortController().signal,
        ),
      );
    await expect(probe('/run/test-root')).resolves.toBe('--root /run/test-root exec -- web true');
    await expect(probe()).resolves.toBe('exec -- web true');
    await expect(probe('/run/test-root', ['--systemd-cgroup', '--debug'])).resolves.toBe(
      '--systemd-cgroup --debug --root /run/test-root exec -- web true',
    );
  });

  it('kills the whole process group when its signal aborts, and settles once it has ended', async () => {
    const pids = join(dir, 'pids');
    const probe = commandProbe('sh', ['-c', `sleep 30 & echo "$$ $!" > ${pids}; wait`]);
    const controller = new AbortController();
    const result = rejection(Promise.resolve(probe(controller.signal)));
    let text = '';
    await waitFor(
      () => {
        try {
          text = readFileSync(pids, 'utf8');
        } catch {
          return false;
        }
        return text.endsWith('\n');
      },
      10_000,
      'the pids',
    );
    const [shell, sleeper] = text.trim().split(' ').map(Number) as [number, number];
    expect([isRunning(shell), isRunning(sleeper)]).toEqual([true, true]);
    const reason = new DOMException('timed out', 'TimeoutError');
    controller.abort(reason);
    expect(await result).toBe(reason);
    expect(isRunning(shell)).toBe(false);
    await waitFor(() => !isRunning(sleeper), 5_000, 'the grandchild to be gone');
  });

  it('makes a monitor unhealthy when the file it checks disappears', async () => {
    const file = join(dir, 'alive');
    await writeFile(file, '');
    const { monitor, becomes } = watch({ probe: commandProbe('test', ['-f', file]), intervalMs: 20, retries: 2 });
    monitor.start();
    await becomes('healthy');
    await rm(file);
    const unhealthy = await becomes('unhealthy');
    expect(unhealthy.log.slice(-2)).toMatchObject([
      { passed: false, output: 'exit 1' },
      { passed: false, output: 'exit 1' },
    ]);
  });
});
