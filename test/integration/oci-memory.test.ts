/**
 * The memory of a real runc container (a bundle of `ociBundle`, no `linux.cgroupsPath`): where runc
 * puts its memory cgroup on this host (`ID` under runc's own), that `cgroupMemoryBytes` of its init
 * reads what runc itself reports (`runc events --stats`), grows by what the container writes to its
 * `/dev/shm`, and is `undefined` once the container is gone.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OciRun, ociWorkload } from '../../src/index.js';
import { cgroupMemoryBytes, processGroupMemoryBytes } from '../../src/workloads/memory.js';
import { type OciFixture, createOciFixture } from '../support/oci-bundle.js';
import { waitUntilRunning } from '../support/memory-groups.js';

const exec = promisify(execFile);
const never = new AbortController().signal;
const MiB = 1024 * 1024;

let fixture: OciFixture;

beforeAll(async () => {
  fixture = await createOciFixture();
});

afterAll(async () => {
  await fixture.remove();
});

/** What runc says the container's memory cgroup uses. */
async function runcUsageBytes(id: string): Promise<number> {
  const { stdout } = await exec('runc', ['--root', fixture.root, 'events', '--stats', id]);
  return (JSON.parse(stdout) as { data: { memory: { usage: { usage: number } } } }).data.memory.usage.usage;
}

describe('cgroupMemoryBytes of a runc container', () => {
  it('reads the memory cgroup runc made for it, as runc reports it, and what it writes to /dev/shm', async () => {
    const id = `memory-${process.pid}`;
    const bundle = await fixture.bundle(['sleep', '60']);
    const run = (await ociWorkload({ bundle, id, root: fixture.root, stdio: 'ignore' }).start(never)) as OciRun;
    const pid = run.pid as number;
    try {
      // Without linux.cgroupsPath, runc names the container's memory cgroup after its id, under its own.
      const own = /^\d+:memory:(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1] ?? '';
      expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toMatch(
        new RegExp(`^\\d+:memory:${own === '/' ? '' : own}/${id}$`, 'm'),
      );
      // Asleep in `sleep`: its loader done, the cgroup's charge no longer moves between the two reads.
      await waitUntilRunning('sleep', pid);
      const before = cgroupMemoryBytes(pid) as number;
      expect(Math.abs(before - (await runcUsageBytes(id)))).toBeLessThanOrEqual(MiB);
      expect(before).toBeLessThan(16 * MiB);
      // 32 MiB in the container's tmpfs, charged to its cgroup, by a process that then exits.
      await exec('runc', [
        '--root',
        fixture.root,
        'exec',
        '--',
        id,
        'dd',
        'if=/dev/zero',
        'of=/dev/shm/fill',
        'bs=1048576',
        'count=32',
      ]);
      const after = cgroupMemoryBytes(pid) as number;
      // Page reclaim on a busy machine may take a few pages back meanwhile.
      expect(after - before).toBeGreaterThanOrEqual(30 * MiB);
      expect(after - before).toBeLessThan(40 * MiB);
      expect(Math.abs(after - (await runcUsageBytes(id)))).toBeLessThanOrEqual(MiB);
      // The init's own resident set holds none of it: the cgroup is the container's measure.
      expect(processGroupMemoryBytes(pid)).toBeLessThan(4 * MiB);
    } finally {
      await run.kill('SIGKILL');
    }
    expect(await run.exit).toBe(137);
    expect(cgroupMemoryBytes(pid)).toBeUndefined();
    await fixture.expectNoContainers();
  });
});
