/**
 * Signals from real runs (SPEC §17), end to end: a process and a runc container that say READY=1 on
 * their notify fd and then go silent (the watchdog kills them); a process and a container above
 * their memory limit (stopped, decided as failures). Real processes, real containers, real time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Supervisor, type SupervisorEvents, type Workload, ociWorkload, processWorkload } from '../../src/index.js';
import { type OciFixture, createOciFixture } from '../support/oci-bundle.js';
import { waitFor } from '../support/wait-for.js';

let fixture: OciFixture;
let runDir: string;
let supervisor: Supervisor;
let exits: SupervisorEvents['exit'][0][];
let containers = 0;

beforeAll(async () => {
  fixture = await createOciFixture();
  runDir = await mkdtemp(join(tmpdir(), 'restart-manager-signals-'));
});

afterAll(async () => {
  await fixture.remove();
  await rm(runDir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const { id } of supervisor.list()) await supervisor.remove(id, { force: true });
  await supervisor.close();
  await fixture.expectNoContainers();
});

function supervise(): Supervisor {
  supervisor = new Supervisor({ backoff: { initialMs: 10 }, stopTimeoutMs: 300 });
  exits = [];
  supervisor.on('exit', (event) => exits.push(event));
  return supervisor;
}

/** A shell script as a process (`sh -c`) or as a runc container. */
async function shell(kind: 'process' | 'container', script: string, notify = false): Promise<Workload> {
  if (kind === 'process') return processWorkload('/bin/sh', ['-c', script], { stdio: 'ignore', notify, runDir });
  const id = `rm-signals-${process.pid}-${++containers}`;
  const bundle = await fixture.bundle(['sh', '-c', script]);
  return ociWorkload({ bundle, id, root: fixture.root, stdio: 'ignore', notify, runDir });
}

describe.each(['process', 'container'] as const)('a %s', (kind) => {
  it("with readiness 'notify' starts at READY=1, shows its status, and is killed by its watchdog once silent", async () => {
    const workload = await shell(
      kind,
      'echo STATUS=warming >&3; sleep 0.3; echo READY=1 >&3; echo WATCHDOG=1 >&3; exec sleep 60',
      true,
    );
    supervise();
    await supervisor.add('api', { policy: 'on-failure:1', workload, readiness: 'notify', watchdogMs: 500 });
    const startedAtMs = performance.now();
    await supervisor.start('api');
    expect(performance.now() - startedAtMs).toBeGreaterThanOrEqual(250);
    expect(supervisor.inspect('api')).toMatchObject({ status: 'running', ready: true, statusText: 'warming' });
    await waitFor(() => exits.length > 0, 10_000, 'the watchdog');
    expect(exits[0]).toMatchObject({ restart: true, reason: 'watchdog' });
    // SIGABRT ends an exec'd sleep (128 + 6); a container's init ignores it, so the stop that follows ends it (128 + 9).
    expect(exits[0]?.exitCode).toBe(kind === 'process' ? 134 : 137);
  });

  it('above its memory limit is stopped, decided as a failure', async () => {
    // 64 MiB: a process's own heap (its resident set), a container's /dev/shm (charged to its cgroup).
    const workload =
      kind === 'process'
        ? processWorkload(process.execPath, ['-e', 'const b = Buffer.alloc(64 << 20, 1); setInterval(() => b, 1e6)'], {
            stdio: 'ignore',
            runDir,
          })
        : await shell(kind, 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=64 2>/dev/null; exec sleep 60');
    supervise();
    await supervisor.add('hog', { policy: 'no', workload, maxMemoryBytes: '32M', memoryCheckMs: 100 });
    await supervisor.start('hog');
    await waitFor(() => exits.length > 0, 10_000, 'the memory limit');
    expect(exits[0]).toMatchObject({ restart: false, reason: 'policy-no' });
    expect(supervisor.inspect('hog').memoryBytes).toBeGreaterThan(32 * 1024 * 1024);
  });
});
