/**
 * The floor of the container bench: runc-floor-loop.mjs in its own node process, with an OCI bundle
 * per container built from the same busybox rootfs (shared, read-only).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContainer, ContainerDriver } from './driver.js';
import { childrenOf } from './procfs.js';
import { buildBusyboxRootfs, makeBundle } from './rootfs.js';
import { requireTools } from './tools.js';

const LOOP = fileURLToPath(new URL('runc-floor-loop.mjs', import.meta.url));

const waitForLine = (child: ChildProcess, line: string): Promise<void> =>
  new Promise((resolve, reject) => {
    let seen = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(`${line}\n`)) resolve();
    });
    child.once('exit', (code) => {
      reject(new Error(`the runc floor loop exited ${code} before '${line}'`));
    });
  });

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
  let loop: { child: ChildProcess; exited: Promise<void> } | undefined;
  return {
    name: 'runc-floor',
    start: async (containers: readonly BenchContainer[], obsDir: string) => {
      if (loop !== undefined) throw new Error('runc floor: removeAll before starting another set');
      const bundles = join(baseDir, 'bundles');
      await rm(bundles, { recursive: true, force: true });
      await Promise.all(
        containers.map(({ id, script }) =>
          makeBundle({
            runc,
            bundleDir: join(bundles, id),
            rootfs,
            args: ['sh', '-c', script],
            mounts: [{ source: obsDir, destination: '/obs' }],
          }),
        ),
      );
      const child = spawn(process.execPath, [LOOP, runc, stateRoot, bundles, ...containers.map(({ id }) => id)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise<void>((resolve) =>
        child.once('exit', () => {
          resolve();
        }),
      );
      loop = { child, exited };
      await waitForLine(child, 'ready');
    },
    removeAll: async () => {
      if (loop === undefined) return;
      loop.child.kill('SIGTERM');
      await loop.exited;
      loop = undefined;
    },
    runtimePids: () => (loop?.child.pid === undefined ? [] : [loop.child.pid, ...childrenOf(loop.child.pid)]),
    close: async () => {
      if (loop !== undefined) {
        loop.child.kill('SIGTERM');
        await loop.exited;
      }
      await rm(baseDir, { recursive: true, force: true });
    },
  };
}
