/** The dockerd side of the container bench: a private daemon (see dockerd.ts) running the busybox image. */
import { mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { type DockerCli, dockerCli } from './docker-cli.js';
import { type Dockerd, processesUnder, removeDockerdDirs, startDockerd } from './dockerd.js';
import type { BenchContainer, RestartableDriver } from './driver.js';
import { buildBusyboxRootfs, importImage } from './rootfs.js';
import { requireTools } from './tools.js';

const IMAGE = 'mini';

/** `docker run`s at once while creating containers: vfs copies the rootfs for each, so more only queue. */
const CONCURRENT_RUNS = 4;

/** Runs `task` on every item, `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Starts a private dockerd under a new /tmp directory, imports the busybox image, and returns the
 * driver that runs bench containers on it (`docker run -d --restart always --network none`).
 *
 * @throws {@link MissingToolError} when dockerd or the docker client is missing.
 */
export async function dockerdDriver(): Promise<RestartableDriver & { readonly docker: DockerCli }> {
  const tools = requireTools('dockerd', 'docker');
  // Short: the daemon's socket path must fit in 108 bytes.
  const baseDir = await mkdtemp('/tmp/rmb-');
  let dockerd: Dockerd;
  let docker: DockerCli;
  try {
    const rootfs = await buildBusyboxRootfs(join(baseDir, 'rootfs'));
    dockerd = await startDockerd({ dockerd: tools.dockerd, baseDir });
    docker = dockerCli(tools.docker, dockerd.host);
    await importImage(docker, rootfs, IMAGE).catch(async (error: unknown) => {
      await dockerd.stop();
      throw error;
    });
  } catch (error) {
    await removeDockerdDirs(baseDir);
    throw error;
  }
  const started = new Set<string>();
  return {
    name: 'dockerd',
    docker,
    start: async (containers: readonly BenchContainer[], obsDir: string) => {
      await mkdir(obsDir, { recursive: true });
      await eachLimited(containers, CONCURRENT_RUNS, async ({ id, script }) => {
        started.add(id);
        const options = ['--name', id, '--restart', 'always', '--network', 'none', '-v', `${obsDir}:/obs`];
        await docker.run(['run', '-d', ...options, IMAGE, 'sh', '-c', script]);
      });
    },
    removeAll: async () => {
      if (started.size > 0) await docker.run(['rm', '-f', ...started]);
      started.clear();
    },
    runtimePids: () => processesUnder(baseDir),
    restartDaemon: async (how) => {
      await (how === 'kill' ? dockerd.kill() : dockerd.stop());
      dockerd = await startDockerd({ dockerd: tools.dockerd, baseDir });
      return { spawnedAtMs: dockerd.spawnedAtMs, readyAtMs: dockerd.readyAtMs };
    },
    close: async () => {
      const names = (await docker.run(['ps', '-aq'])).split('\n').filter(Boolean);
      if (names.length > 0) await docker.run(['rm', '-f', ...names]);
      await dockerd.stop();
      await removeDockerdDirs(baseDir);
    },
  };
}
