/**
 * The Docker facts' workbench: a private dockerd (see test/bench/containers/dockerd.ts), the busybox
 * image `mini`, and an observation directory bind-mounted as `/obs` into every container, where each
 * container appends `EVENT UPTIME` lines to `/obs/NAME.log` on the host's own clock.
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UPTIME_SH } from '../bench/containers/clock.js';
import { type DockerCli, dockerCli } from '../bench/containers/docker-cli.js';
import { type Dockerd, removeDockerdDirs, startDockerd } from '../bench/containers/dockerd.js';
import { buildBusyboxRootfs, importImage } from '../bench/containers/rootfs.js';
import { requireTools } from '../bench/containers/tools.js';
import { type ContainerdEventStream, containerdEvents } from './containerd-events.js';

/** The image every fact runs. */
export const IMAGE = 'mini';

/** One line a container wrote to its log: what happened, and when ({@link uptimeMs}). */
export interface Observation {
  event: string;
  atMs: number;
}

/** A private daemon and what the facts need around it. */
export interface Lab {
  readonly docker: DockerCli;
  readonly dockerd: Dockerd;
  readonly baseDir: string;
  readonly obsDir: string;
  /**
   * `docker run -d --name NAME --network none -v OBS:/obs OPTIONS mini sh -c SCRIPT`, where SCRIPT
   * first logs `start` and sets `$L` to the container's log and `$U` to print the uptime.
   */
  run(name: string, options: readonly string[], body: string): Promise<void>;
  /** The lines `name` logged so far. */
  observations(name: string): Promise<Observation[]>;
  /** Writes a file in the observation directory (a container's trigger). */
  signal(file: string, text?: string): Promise<void>;
  /** Ends the daemon: `'stop'` is SIGTERM (a clean shutdown), `'kill'` SIGKILL (a crash). */
  endDaemon(how: 'stop' | 'kill'): Promise<void>;
  /** Starts a new daemon on the same directories (after {@link Lab.endDaemon}). */
  startDaemon(options?: { liveRestore?: boolean }): Promise<Dockerd>;
  /** Starts reading containerd's events (see containerd-events.ts). */
  watchContainerd(): ContainerdEventStream;
  /** Force-removes every container, then stops the daemon and deletes its directories. */
  close(): Promise<void>;
}

/** The shell prelude of every fact's container: `L` is its log, `U` prints the uptime, `start` logged. */
export function prelude(name: string): string {
  return `L=/obs/${name}.log; U() { ${UPTIME_SH}; }; echo start $(U) >> $L; `;
}

/**
 * Starts a private dockerd under a new /tmp directory and imports the busybox image.
 *
 * @throws {@link MissingToolError} when dockerd, the docker client or busybox is missing.
 */
export async function openLab(options: { liveRestore?: boolean } = {}): Promise<Lab> {
  const tools = requireTools('dockerd', 'docker', 'ctr');
  // Short: the daemon's socket path must fit in 108 bytes.
  const baseDir = await mkdtemp('/tmp/rmd-');
  const obsDir = join(baseDir, 'obs');
  let dockerd: Dockerd;
  let docker: DockerCli;
  try {
    await buildBusyboxRootfs(join(baseDir, 'rootfs'));
    await mkdir(obsDir);
    dockerd = await startDockerd({ dockerd: tools.dockerd, baseDir, liveRestore: options.liveRestore ?? false });
    docker = dockerCli(tools.docker, dockerd.host);
    await importImage(docker, join(baseDir, 'rootfs'), IMAGE).catch(async (error: unknown) => {
      await dockerd.stop();
      throw error;
    });
  } catch (error) {
    await removeDockerdDirs(baseDir);
    throw error;
  }
  return {
    docker,
    get dockerd() {
      return dockerd;
    },
    baseDir,
    obsDir,
    run: async (name, runOptions, body) => {
      const mount = ['-v', `${obsDir}:/obs`];
      await docker.run([
        'run',
        '-d',
        '--name',
        name,
        '--network',
        'none',
        ...mount,
        ...runOptions,
        IMAGE,
        'sh',
        '-c',
        prelude(name) + body,
      ]);
    },
    observations: async (name) => {
      const text = await readFile(join(obsDir, `${name}.log`), 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => {
          const [event = '', seconds = 'NaN'] = line.split(' ');
          return { event, atMs: Math.round(Number(seconds) * 1_000) };
        });
    },
    signal: (file, text = '') => writeFile(join(obsDir, file), text),
    endDaemon: (how) => (how === 'stop' ? dockerd.stop() : dockerd.kill()),
    startDaemon: async (restartOptions = {}) => {
      dockerd = await startDockerd({
        dockerd: tools.dockerd,
        baseDir,
        liveRestore: restartOptions.liveRestore ?? false,
      });
      return dockerd;
    },
    watchContainerd: () => containerdEvents(tools.ctr, baseDir),
    close: async () => {
      const names = (await docker.run(['ps', '-aq'])).split('\n').filter(Boolean);
      if (names.length > 0) await docker.run(['rm', '-f', ...names]);
      await dockerd.stop();
      await removeDockerdDirs(baseDir);
    },
  };
}
