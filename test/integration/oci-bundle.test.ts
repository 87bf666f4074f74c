/**
 * Bundles made by `ociBundle`, run by the real runc over a busybox root filesystem: what the
 * container sees of each option (its environment, working directory, host name, user, a read-only
 * and a writable bind mount, a read-only or writable root filesystem, its own network or the host's).
 * Nothing is left in `runc list`.
 */
import { readFileSync } from 'node:fs';
import { chmod, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type OciRun, ociWorkload } from '../../src/index.js';
import { type FixtureBundleOptions, type OciFixture, createOciFixture } from '../support/oci-bundle.js';

const never = new AbortController().signal;
let fixture: OciFixture;
let ids = 0;

beforeAll(async () => {
  fixture = await createOciFixture();
});

afterEach(async () => {
  await fixture.expectNoContainers();
});

afterAll(async () => {
  await fixture.remove();
});

/** The network interfaces `/proc/net/dev` lists (its first two lines are headers). */
function interfacesIn(procNetDev: string): string[] {
  return procNetDev
    .split('\n')
    .slice(2)
    .map((line) => line.split(':')[0]?.trim() ?? '')
    .filter((name) => name !== '')
    .sort();
}

/**
 * Runs `script` (sh) in a bundle of `options` to its end: its exit code and its stdout and stderr,
 * which go to a file (a pipe's unread output is dropped when a run ends before it is read).
 */
async function runToEnd(script: string, options: FixtureBundleOptions): Promise<{ code: number; output: string }> {
  const bundle = await fixture.bundle(['sh', '-c', script], options);
  const id = `bundle-${process.pid}-${++ids}`;
  const outputFile = join(fixture.dir, `${id}.out`);
  const output = await open(outputFile, 'w');
  let run: OciRun;
  try {
    const workload = ociWorkload({ bundle, id, root: fixture.root, stdio: ['ignore', output.fd, output.fd] });
    run = (await workload.start(never)) as OciRun;
  } finally {
    await output.close();
  }
  const code = await run.exit;
  return { code, output: await readFile(outputFile, 'utf8') };
}

describe('a bundle ociBundle wrote, run by runc', () => {
  it('gives the container its env, cwd, host name, user, a read-only bind mount, a read-only root and a network of its own', async () => {
    const data = join(fixture.dir, 'data');
    await mkdir(data);
    await chmod(data, 0o755);
    await writeFile(join(data, 'greeting'), 'hello from the host\n');
    const script = [
      'echo "env: $GREETING $PATH"',
      'echo "cwd: $(pwd)"',
      'echo "hostname: $(cat /proc/sys/kernel/hostname)"',
      'echo "user: $(id -u):$(id -g)"',
      'echo "mount: $(cat greeting)"',
      'touch /data/new 2>/dev/null || echo "mount: read-only"',
      'touch /new 2>/dev/null || echo "rootfs: read-only"',
      'echo "network:" $(cat /proc/net/dev | tail -n +3 | cut -d: -f1)',
    ].join('\n');
    const { code, output } = await runToEnd(script, {
      env: ['GREETING=hi', 'PATH=/bin'],
      cwd: '/data',
      hostname: 'web-1',
      user: { uid: 1000, gid: 100 },
      mounts: [{ source: data, destination: '/data' }],
    });
    expect({ code, output }).toEqual({
      code: 0,
      output: [
        'env: hi /bin',
        'cwd: /data',
        'hostname: web-1',
        'user: 1000:100',
        'mount: hello from the host',
        'mount: read-only',
        'rootfs: read-only',
        'network: lo',
        '',
      ].join('\n'),
    });
  });

  it("gives the container the host's network, a writable root and a writable bind mount when asked", async () => {
    const cache = join(fixture.dir, 'cache');
    await mkdir(cache);
    const script = 'cat /proc/net/dev; echo written > /cache/file; touch /written-by-container';
    const { code, output } = await runToEnd(script, {
      network: 'host',
      readonlyRootfs: false,
      mounts: [{ source: cache, destination: '/cache', readonly: false }],
    });
    try {
      expect(code).toBe(0);
      expect(interfacesIn(output)).toEqual(interfacesIn(readFileSync('/proc/net/dev', 'utf8')));
      expect(interfacesIn(output)).not.toEqual(['lo']);
      expect(await readFile(join(cache, 'file'), 'utf8')).toBe('written\n');
      expect(await readFile(join(fixture.rootfs, 'written-by-container'), 'utf8')).toBe('');
    } finally {
      await rm(join(fixture.rootfs, 'written-by-container'), { force: true });
    }
  });
});
