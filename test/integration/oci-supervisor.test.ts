/**
 * The Supervisor over real OCI containers (`ociWorkload` with runc and a busybox root filesystem):
 * every policy's restart path and exit codes, a PID 1 that ignores SIGTERM, and a health check run
 * inside the container (`ociExecProbe`) whose failure restarts it. Nothing is left in `runc list`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type HealthProbe, Supervisor, type SupervisorEvents, ociExecProbe, ociWorkload } from '../../src/index.js';
import { type OciFixture, createOciFixture } from '../support/oci-bundle.js';
import { waitFor } from '../support/wait-for.js';

let fixture: OciFixture;
let supervisor: Supervisor;
let exits: SupervisorEvents['exit'][0][];
let starts: number;
let containers = 0;

beforeAll(async () => {
  fixture = await createOciFixture();
});

afterAll(async () => {
  await fixture.remove();
});

afterEach(async () => {
  for (const { id } of supervisor.list()) await supervisor.remove(id, { force: true });
  await supervisor.close();
  await fixture.expectNoContainers();
});

/** A container running `script` under `policy`, started; backoff of 10 ms for short tests. */
async function container(policy: string, script: string, stopTimeoutMs = 10_000): Promise<string> {
  supervisor = new Supervisor({ backoff: { initialMs: 10 }, stopTimeoutMs });
  exits = [];
  starts = 0;
  supervisor.on('exit', (event) => exits.push(event));
  supervisor.on('start', () => starts++);
  const id = `rm-oci-${process.pid}-${++containers}`;
  const bundle = await fixture.bundle(['sh', '-c', script]);
  await supervisor.add(id, { policy, workload: ociWorkload({ bundle, id, root: fixture.root, stdio: 'ignore' }) });
  await supervisor.start(id);
  return id;
}

describe('every policy over real containers', () => {
  it('no: an exit code 3 is the container exit code, and it stays down', async () => {
    const id = await container('no', 'exit 3');
    expect(await supervisor.wait(id)).toBe(3);
    expect(exits).toMatchObject([{ exitCode: 3, restart: false, reason: 'policy-no' }]);
    expect(supervisor.inspect(id)).toMatchObject({ status: 'exited', exitCode: 3, restartCount: 0 });
  });

  it('on-failure:2: three runs that exit 1, then it gives up', async () => {
    const id = await container('on-failure:2', 'exit 1');
    expect(await supervisor.wait(id)).toBe(1);
    expect(exits.map((exit) => [exit.restart, exit.reason])).toEqual([
      [true, 'policy-on-failure'],
      [true, 'policy-on-failure'],
      [false, 'retry-limit'],
    ]);
    expect(supervisor.inspect(id)).toMatchObject({ restartCount: 2, failureCount: 3 });
  });

  it('always: restarted whatever it exits with, until stopped by hand', async () => {
    const id = await container('always', 'exit 0');
    await waitFor(() => starts >= 3, 10_000, 'three runs');
    await supervisor.stop(id);
    expect(exits.slice(0, 2)).toMatchObject([
      { exitCode: 0, restart: true, reason: 'policy-always' },
      { exitCode: 0, restart: true, reason: 'policy-always' },
    ]);
    expect(supervisor.inspect(id)).toMatchObject({ status: 'exited', hasBeenManuallyStopped: true });
  });

  it('unless-stopped: a container that is killed comes back; stopped by hand, it stays down', async () => {
    const id = await container('unless-stopped', 'trap "exit 0" TERM; while :; do sleep 1; done');
    await supervisor.kill(id, 'SIGKILL');
    await waitFor(() => starts === 2, 10_000, 'the restart');
    expect(exits).toMatchObject([{ exitCode: 137, restart: true, reason: 'policy-unless-stopped' }]);
    await supervisor.stop(id);
    expect(exits.at(-1)).toMatchObject({ exitCode: 0, restart: false, reason: 'canceled' });
    expect(starts).toBe(2);
  });

  it('on-reboot: a container that reboots (exit 129) comes back; one that exits 0 does not', async () => {
    const rebooting = await container('on-reboot', 'exit 129');
    await waitFor(() => starts >= 2, 10_000, 'a reboot');
    expect(exits[0]).toMatchObject({ exitCode: 129, restart: true, reason: 'policy-on-reboot' });
    await supervisor.stop(rebooting);
    await supervisor.remove(rebooting);
    await supervisor.close();
    const done = await container('on-reboot', 'exit 0');
    expect(await supervisor.wait(done)).toBe(0);
    expect(exits).toMatchObject([{ restart: false, reason: 'not-reboot' }]);
  });

  it('a PID 1 that ignores SIGTERM is stopped by the SIGKILL after the stop timeout: 137', async () => {
    const id = await container('always', 'echo ready; while :; do sleep 1; done', 300);
    await supervisor.stop(id);
    expect(exits).toMatchObject([{ exitCode: 137, restart: false, reason: 'canceled' }]);
  });
});

describe('a health check inside the container', () => {
  it('an exec probe that starts failing stops the container, and always brings it back healthy', async () => {
    supervisor = new Supervisor({ stopTimeoutMs: 300 });
    exits = [];
    supervisor.on('exit', (event) => exits.push(event));
    const id = `rm-oci-${process.pid}-${++containers}`;
    const bundle = await fixture.bundle(['sh', '-c', 'while :; do sleep 1; done']);
    let command = ['true'];
    const probe: HealthProbe = (signal) => ociExecProbe({ id, command, root: fixture.root })(signal);
    const workload = ociWorkload({ bundle, id, root: fixture.root, stdio: 'ignore' });
    const health = { probe, intervalMs: 100, timeoutMs: 2_000, retries: 2, onUnhealthy: 'stop' as const };
    await supervisor.add(id, { policy: 'always', workload, health });
    await supervisor.start(id);
    await waitFor(() => supervisor.inspect(id).health?.status === 'healthy', 10_000, 'healthy');
    const firstPid = supervisor.inspect(id).pid;
    command = ['false'];
    await waitFor(() => exits.length === 1, 10_000, 'the unhealthy stop');
    expect(exits[0]).toMatchObject({ exitCode: 137, restart: true, unhealthy: true, reason: 'policy-always' });
    command = ['true'];
    await waitFor(() => supervisor.inspect(id).health?.status === 'healthy', 10_000, 'healthy again');
    expect(supervisor.inspect(id)).toMatchObject({ status: 'running', restartCount: 1 });
    expect(supervisor.inspect(id).pid).not.toBe(firstPid);
  });
});
