/**
 * A runtime that cannot run containers on this host fails the start with its own message: crun
 * refuses a hybrid cgroup host whose unified hierarchy has controllers (this machine's), and says so.
 * Where crun can run (a host of another kind), the same bundle simply runs. Nothing is left in
 * `crun list` either way.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ociWorkload } from '../../src/index.js';
import { type OciFixture, createOciFixture } from '../support/oci-bundle.js';

const exec = promisify(execFile);
const never = new AbortController().signal;

/** Whether this host is a hybrid one whose unified (v2) hierarchy holds controllers: crun refuses it. */
function isHybridWithV2Controllers(): boolean {
  try {
    return readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').trim() !== '';
  } catch {
    return false;
  }
}

let fixture: OciFixture;

beforeAll(async () => {
  fixture = await createOciFixture();
});

afterAll(async () => {
  await fixture.remove();
});

describe('a runtime the host cannot run', () => {
  it("fails the start with the runtime's own message (crun on a hybrid cgroup host)", async () => {
    const root = join(fixture.dir, 'crun-root');
    const id = `crun-${process.pid}`;
    const bundle = await fixture.bundle(['sh', '-c', 'exit 3']);
    const workload = ociWorkload({ bundle, id, runtime: 'crun', root, stdio: 'ignore' });
    if (isHybridWithV2Controllers()) {
      await expect(workload.start(never)).rejects.toThrow(
        new Error(
          `\`crun run ${id}\` ended (exit code 1) before the container started: ` +
            'cgroups in hybrid mode not supported, drop all controllers from cgroupv2',
        ),
      );
    } else {
      await expect((await workload.start(never)).exit).resolves.toBe(3);
    }
    const { stdout } = await exec('crun', ['--root', root, 'list', '--quiet']);
    expect(stdout).toBe('');
  });
});
