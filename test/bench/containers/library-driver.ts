/**
 * The library's side of the container bench: library-loop.mjs, a `Supervisor` running one
 * `ociWorkload` per container under `always`, in a node process of its own, on bundles built like
 * the floor's (the same busybox rootfs, shared read-only) and a runc state root of its own.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContainer, RestartableDriver } from './driver.js';
import { type LoopProcess, spawnLoop } from './loop-process.js';
import { childrenOf } from './procfs.js';
import { buildBusyboxRootfs, makeBenchBundles } from './rootfs.js';
import { requireTools } from './tools.js';

const LOOP = fileURLToPath(new URL('library-loop.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../../dist/', import.meta.url));

/** Which build the library's side runs. */
export interface LibraryDriverOptions {
  /** A build directory (`npm run build`'s `dist/`), for comparing builds. @defaultValue this checkout's `dist/` */
  dist?: string;
  /** The side's name in the tables. @defaultValue `'library'` */
  name?: string;
}

/**
 * The library's driver: `start` writes the bundles and spawns a daemon that adds and starts them;
 * `restartDaemon` ends it (SIGKILL, or SIGTERM: `shutdown()`) and spawns one that `restore()`s the
 * state directory with `restoreDelayMs: 0` and `liveRestore: false` (a survivor is stopped, then
 * started again, as dockerd does); `removeAll` SIGTERMs it and forgets the state.
 *
 * @throws {@link MissingToolError} when runc is missing; `Error` when the build is missing (`npm run build`).
 */
export async function libraryDriver(options: LibraryDriverOptions = {}): Promise<RestartableDriver> {
  const { dist: distDir = DIST, name = 'library' } = options;
  requireTools('runc');
  const dist = resolve(distDir, 'index.js');
  if (!existsSync(dist)) throw new Error(`${dist} is missing: npm run build`);
  const baseDir = await mkdtemp('/tmp/rml-');
  const rootfs = await buildBusyboxRootfs(join(baseDir, 'rootfs'));
  const root = join(baseDir, 'state');
  await mkdir(root);
  const stateDir = join(baseDir, 'supervisor');
  const bundles = join(baseDir, 'bundles');
  let loop: LoopProcess | undefined;
  const daemon = async (
    mode: 'add' | 'restore',
    ids: readonly string[] = [],
  ): Promise<{ spawnedAtMs: number; readyAtMs: number }> => {
    const config = { dist, mode, stateDir, root, bundles, ids, liveRestore: false };
    const spawned = await spawnLoop(LOOP, [JSON.stringify(config)]);
    loop = spawned.loop;
    return { spawnedAtMs: spawned.loop.spawnedAtMs, readyAtMs: spawned.readyAtMs };
  };
  const removeAll = async (): Promise<void> => {
    await loop?.end('SIGTERM');
    loop = undefined;
    await rm(stateDir, { recursive: true, force: true });
  };
  return {
    name,
    start: async (containers: readonly BenchContainer[], obsDir: string) => {
      if (loop !== undefined) throw new Error(`${name}: removeAll before starting another set`);
      await makeBenchBundles(rootfs, bundles, containers, obsDir);
      await daemon(
        'add',
        containers.map(({ id }) => id),
      );
    },
    removeAll,
    runtimePids: () => {
      const pid = loop?.child.pid;
      if (pid === undefined) return [];
      // The node process, each run's monitor (its children), and the `runc run` each monitor runs.
      const monitors = childrenOf(pid);
      return [pid, ...monitors, ...monitors.flatMap((monitor) => childrenOf(monitor))];
    },
    restartDaemon: async (how) => {
      if (loop === undefined) throw new Error(`${name}: no daemon to restart`);
      await loop.end(how === 'kill' ? 'SIGKILL' : 'SIGTERM');
      return daemon('restore');
    },
    close: async () => {
      await removeAll();
      await rm(baseDir, { recursive: true, force: true });
    },
  };
}
