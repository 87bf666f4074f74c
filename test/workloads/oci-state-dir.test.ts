/**
 * Where an OCI runtime keeps a container's state, which `ociWorkload` stats instead of spawning
 * `runtime delete` before a first start: known for runc and crun only, with a `root` given, or their
 * own root as root when no global flag may move it.
 */
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OciContainer, stateDirOf } from '../../src/workloads/oci-container.js';

describe('stateDirOf', () => {
  it.each([
    // runtime, root, runtimeArgs, uid, the container's state directory
    ['runc', '/srv/state', [], 0, '/srv/state/web'],
    ['runc', '/srv/state', ['--systemd-cgroup'], 1000, '/srv/state/web'],
    ['/usr/sbin/runc', undefined, [], 0, '/run/runc/web'],
    ['crun', undefined, [], 0, '/run/crun/web'],
    ['/usr/bin/crun', '/tmp/crun-root', [], 0, '/tmp/crun-root/web'],
    ['runc', undefined, [], 1000, undefined],
    ['runc', undefined, ['--systemd-cgroup'], 0, undefined],
    ['runsc', '/srv/state', [], 0, undefined],
    ['/opt/runc-wrapper', undefined, [], 0, undefined],
    ['youki', undefined, [], 0, undefined],
  ] as const)('%s with root %s, flags %j, uid %d: %s', (runtime, root, runtimeArgs, uid, expected) => {
    expect(stateDirOf(runtime, root, 'web', runtimeArgs, uid)).toBe(expected);
  });
});

describe('OciContainer.mayExist', () => {
  let root: string | undefined;
  afterEach(async () => {
    if (root !== undefined) await rm(root, { recursive: true, force: true });
    root = undefined;
  });

  it('is false only when the state directory of a known runtime is absent', async () => {
    root = await mkdtemp(join(tmpdir(), 'rm-state-dir-'));
    const container = new OciContainer('runc', root, 'web');
    expect(container.mayExist()).toBe(false);
    await mkdir(join(root, 'web'));
    expect(container.mayExist()).toBe(true);
    expect(new OciContainer('runc', root, 'db').mayExist()).toBe(false);
  });

  it('is true for a runtime whose layout is not known, whatever its root holds', async () => {
    root = await mkdtemp(join(tmpdir(), 'rm-state-dir-'));
    expect(new OciContainer('/opt/stand-in', root, 'web').mayExist()).toBe(true);
  });
});
