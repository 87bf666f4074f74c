/**
 * The floor of the container bench: runc-floor-loop.mjs in its own node process, with an OCI bundle
 * per container built from the same busybox rootfs (shared, read-only).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContainer, ContainerDriver } from './driver.js';
import { type LoopProcess, spawnLoop } from './loop-process.js';
import { childrenOf } from './procfs.js';
import { buildBusyboxRootfs, makeBenchBundles } from './rootfs.js';
import { requireTools } from './tools.js';

const LOOP = fileURLToPath(new URL('runc-floor-loop.mjs', import.meta.url));

/**
 * The bare-runc floor: builds the rootfs in a new /tmp directory; each `start` writes the bundles
 * and spawns one loop process for them, `removeAll` SIGTERMs it and waits for it to end.
 *
 * @throws {@link MissingToolError} when runc is missing.
 */
export async function runcFloorDriver(): Promise<ContainerDriver> {
  const { runc } = requireTools('runc');
  const baseDir = await mkdtemp('/tmp/rmf-');
  const rootfs = await buildBusyboxRootfs(join(baseDir, 'rootfs'));
  // A state root of its own: other users of runc on this machine keep theirs in /run/runc.
  const stateRoot = join(baseDir, 'state');
  await mkdir(stateRoot);
  let loop: LoopProcess | undefined;
  return {
    name: 'runc-floor',
    start: async (containers: readonly BenchContainer[], obsDir: string) => {
      if (loop !== undefined) throw new Error('runc floor: removeAll before starting another set');
      const bundles = join(baseDir, 'bundles');
      await makeBenchBundles(rootfs, bundles, containers, obsDir);
      ({ loop } = await spawnLoop(LOOP, [runc, stateRoot, bundles, ...containers.map(({ id }) => id)]));
    },
    removeAll: async () => {
      await loop?.end('SIGTERM');
      loop = undefined;
    },
    runtimePids: () => {
      const pid = loop?.child.pid;
      return pid === undefined ? [] : [pid, ...childrenOf(pid)];
    },
    close: async () => {
      await loop?.end('SIGTERM');
      loop = undefined;
      await rm(baseDir, { recursive: true, force: true });
    },
  };
}
