/**
 * `ociExecProbe` against a real runc container: a busybox-static rootfs in a temporary bundle (its
 * `config.json` written by `ociBundle`), run with a `--root` of its own, deleted after; nothing is
 * left in `runc list`.
 */
import { type SpawnOptions, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthMonitor } from '../../src/health/monitor.js';
import { resolveHealthCheck } from '../../src/health/options.js';
import { STOP_GRACE_MS } from '../../src/health/run-command.js';
import { busyboxRootfs } from '../../src/demo/bundle.js';
import { ociBundle, ociExecProbe } from '../../src/index.js';
import { waitFor } from '../support/wait-for.js';

const RUNC = '/usr/sbin/runc';
const ID = `health-${process.pid}`;

let dir: string;
let bundle: string;
let root: string;

/** Runs runc to its end: its exit code and stdout (stdin and stderr ignored unless piped). */
function runc(args: string[], options: SpawnOptions = {}): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(RUNC, ['--root', root, ...args], { stdio: ['ignore', 'pipe', 'ignore'], ...options });
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      resolve({ code, stdout });
    });
  });
}

/** The pids runc lists in the container. */
async function containerPids(): Promise<number[]> {
  const { stdout } = await runc(['ps', '--format', 'json', ID]);
  return JSON.parse(stdout) as number[];
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'restart-manager-oci-health-'));
  bundle = join(dir, 'bundle');
  root = join(dir, 'runc-root');
  await mkdir(root);
  await busyboxRootfs(bundle);
  // Writable: the tests add and remove files in it from the host and from the container.
  await ociBundle(bundle, { rootfs: 'rootfs', args: ['sleep', '3600'], readonlyRootfs: false });
  expect((await runc(['run', '--detach', '--bundle', bundle, ID], { stdio: 'ignore' })).code).toBe(0);
  expect(await containerPids()).toHaveLength(1);
});

afterAll(async () => {
  await runc(['delete', '--force', ID]);
  const { stdout } = await runc(['list', '--quiet']);
  await rm(dir, { recursive: true, force: true });
  expect(stdout).toBe('');
});

describe('ociExecProbe on a runc container', () => {
  it('passes while the file it reads exists, and fails with the exit status and stderr once it is gone', async () => {
    await writeFile(join(bundle, 'rootfs', 'ready'), 'up\n');
    const probe = ociExecProbe({ id: ID, command: ['cat', '/ready'], runtime: RUNC, root });
    await expect(probe(new AbortController().signal)).resolves.toBe('up');
    await rm(join(bundle, 'rootfs', 'ready'));
    await expect(probe(new AbortController().signal)).rejects.toThrow(
      "exit 1: cat: can't open '/ready': No such file or directory",
    );
  });

  it('fails, saying so, for a container the runtime does not know', async () => {
    const probe = ociExecProbe({ id: `${ID}-missing`, command: ['true'], runtime: RUNC, root });
    await expect(probe(new AbortController().signal)).rejects.toThrow(/^exit 255: .*container does not exist/);
  });

  it('ends the command inside the container when its signal aborts', async () => {
    const started = join(bundle, 'rootfs', 'started');
    const probe = ociExecProbe({ id: ID, command: ['sh', '-c', 'touch /started; exec sleep 30'], runtime: RUNC, root });
    const controller = new AbortController();
    const result = Promise.resolve(probe(controller.signal)).catch((error: unknown) => error);
    await waitFor(() => existsSync(started), 10_000, 'the command to start in the container');
    expect(await containerPids()).toHaveLength(2);
    const reason = new DOMException('timed out', 'TimeoutError');
    controller.abort(reason);
    expect(await result).toBe(reason);
    expect(await containerPids()).toHaveLength(1);
    await rm(started);
  });

  it('kills runc a second after a SIGTERM the command ignores, so the probe still settles', async () => {
    const started = join(bundle, 'rootfs', 'stubborn');
    const probe = ociExecProbe({
      id: ID,
      command: ['sh', '-c', 'trap "" TERM; touch /stubborn; while true; do sleep 1; done'],
      runtime: RUNC,
      root,
    });
    const controller = new AbortController();
    const result = Promise.resolve(probe(controller.signal)).catch((error: unknown) => error);
    await waitFor(() => existsSync(started), 10_000, 'the command to start in the container');
    const reason = new Error('stop');
    const abortedAt = performance.now();
    controller.abort(reason);
    expect(await result).toBe(reason);
    expect(performance.now() - abortedAt).toBeGreaterThanOrEqual(STOP_GRACE_MS - 50);
    await rm(started);
  });

  it('makes a monitor unhealthy when the checked file disappears from the container', async () => {
    await writeFile(join(bundle, 'rootfs', 'alive'), '');
    const statuses: string[] = [];
    const inner = ociExecProbe({ id: ID, command: ['test', '-f', '/alive'], runtime: RUNC, root });
    let running = 0;
    const monitor = new HealthMonitor(
      resolveHealthCheck({
        probe: async (signal) => {
          running++;
          try {
            return await inner(signal);
          } finally {
            running--;
          }
        },
        intervalMs: 20,
        retries: 1,
      }),
      { now: () => Date.now() },
      (info) => statuses.push(info.status),
    );
    try {
      monitor.start();
      await waitFor(() => statuses.includes('healthy'), 10_000, 'healthy');
      await rm(join(bundle, 'rootfs', 'alive'));
      await waitFor(() => statuses.includes('unhealthy'), 10_000, 'unhealthy');
      expect(monitor.info.log.at(-1)).toMatchObject({ passed: false, output: 'exit 1' });
    } finally {
      monitor.stop();
      await waitFor(() => running === 0, 10_000, 'the last runc exec to end');
    }
  });
});
