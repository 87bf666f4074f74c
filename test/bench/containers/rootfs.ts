/**
 * The one root filesystem every side of the bench runs: busybox-static and a link per applet. Docker
 * gets it as an imported image (no registry needed); runc gets OCI bundles pointing at it.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ociBundle } from '../../../src/index.js';
import type { DockerCli } from './docker-cli.js';
import type { BenchContainer } from './driver.js';

const run = promisify(execFile);

/** Where Debian's busybox-static puts the binary. */
export const BUSYBOX = '/bin/busybox';

/**
 * Builds a busybox rootfs in `dir` (created): `/bin/busybox`, a symlink per applet, and the empty
 * directories runc mounts onto.
 *
 * @throws when `/bin/busybox` is missing (`apt-get install -y busybox-static`).
 */
export async function buildBusyboxRootfs(dir: string): Promise<string> {
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  await Promise.all(
    ['proc', 'sys', 'dev', 'etc', 'tmp', 'obs'].map((sub) => mkdir(join(dir, sub), { recursive: true })),
  );
  try {
    await copyFile(BUSYBOX, join(bin, 'busybox'));
  } catch (error) {
    throw new Error(`${BUSYBOX} is missing: apt-get install -y busybox-static`, { cause: error });
  }
  const { stdout } = await run(BUSYBOX, ['--list']);
  const applets = stdout.split('\n').filter((name) => name !== '' && name !== 'busybox');
  await Promise.all(applets.map((name) => symlink('busybox', join(bin, name))));
  return dir;
}

/** Imports `rootfs` into the daemon as image `name` (`tar c -C rootfs . | docker import - name`). */
export async function importImage(docker: DockerCli, rootfs: string, name: string): Promise<void> {
  await docker.runPiped(['import', '-', name], { command: 'tar', args: ['c', '-C', rootfs, '.'] });
}

/** A bind mount of a host directory into a container. */
export interface BindMount {
  source: string;
  destination: string;
}

/** What an OCI bundle runs. */
export interface BundleOptions {
  /** The bundle directory (created); `config.json` goes there. */
  bundleDir: string;
  /** An absolute rootfs path, shared read-only by every bundle. */
  rootfs: string;
  /** The container's command. */
  args: readonly string[];
  mounts?: readonly BindMount[];
}

/** Writes an OCI bundle with `ociBundle`: the rootfs read-only, each mount writable. */
export function makeBundle(options: BundleOptions): Promise<string> {
  return ociBundle(options.bundleDir, {
    rootfs: options.rootfs,
    args: options.args,
    mounts: (options.mounts ?? []).map((mount) => ({ ...mount, readonly: false })),
  });
}

/**
 * Writes a fresh set of bundles in `bundlesDir` (emptied first), one per container at
 * `bundlesDir/ID`, each running `sh -c SCRIPT` on `rootfs` with `obsDir` mounted at `/obs`.
 */
export async function makeBenchBundles(
  rootfs: string,
  bundlesDir: string,
  containers: readonly BenchContainer[],
  obsDir: string,
): Promise<void> {
  await rm(bundlesDir, { recursive: true, force: true });
  await Promise.all(
    containers.map(({ id, script }) =>
      makeBundle({
        bundleDir: join(bundlesDir, id),
        rootfs,
        args: ['sh', '-c', script],
        mounts: [{ source: obsDir, destination: '/obs' }],
      }),
    ),
  );
}
