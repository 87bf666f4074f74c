/**
 * The bundle of an OCI run with a notify pipe: the container's environment is in its bundle's
 * `config.json` (`process.env`), so such a run gets a derived `config.json` in its run directory,
 * with `NOTIFY_FD=3` added and every path the runtime reads relative to the bundle made absolute,
 * and the runtime runs that bundle (`runc run --preserve-fds 1` passes fd 3 in).
 *
 * @packageDocumentation
 */
import { readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { RUN_FILES } from './run-dir.js';

/** The variable that tells the container its notify fd. */
export const NOTIFY_ENV = 'NOTIFY_FD=3';

type Config = Record<string, unknown>;

function isRecord(value: unknown): value is Config {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether an OCI mount is a bind mount, whose `source` is a host path (relative ones to the bundle). */
function isBind(mount: Config): boolean {
  const options = Array.isArray(mount.options) ? (mount.options as unknown[]) : [];
  return mount.type === 'bind' || options.includes('bind') || options.includes('rbind');
}

/**
 * The `config.json` of `config` (a bundle's, parsed) moved out of its bundle `bundle`: `NOTIFY_FD=3`
 * in `process.env` (in place of any `NOTIFY_FD` there), `root.path` and the sources of bind mounts
 * made absolute against `bundle`. Pure: `config` is not changed.
 *
 * @throws `Error` when `config` has no `process` or `root.path` (what a runtime would refuse too).
 */
export function notifyConfig(config: unknown, bundle: string): Config {
  const root = isRecord(config) ? config.root : undefined;
  if (!isRecord(config) || !isRecord(config.process) || !isRecord(root) || typeof root.path !== 'string') {
    throw new Error(`The config.json of bundle ${bundle} has no \`process\` or no \`root.path\``);
  }
  const env = Array.isArray(config.process.env) ? (config.process.env as unknown[]) : [];
  const withNotify = [
    ...env.filter((entry) => typeof entry !== 'string' || !entry.startsWith('NOTIFY_FD=')),
    NOTIFY_ENV,
  ];
  const absolute = (path: string): string => (isAbsolute(path) ? path : resolve(bundle, path));
  const mounts = Array.isArray(config.mounts)
    ? (config.mounts as unknown[]).map((mount) =>
        isRecord(mount) && isBind(mount) && typeof mount.source === 'string'
          ? { ...mount, source: absolute(mount.source) }
          : mount,
      )
    : config.mounts;
  return {
    ...config,
    process: { ...config.process, env: withNotify },
    root: { ...root, path: absolute(root.path) },
    ...(mounts === undefined ? {} : { mounts }),
  };
}

/**
 * Writes the derived `config.json` of `bundle` (see {@link notifyConfig}) into the run directory
 * `dir`, which becomes the bundle the runtime runs; resolves with `dir`.
 *
 * @throws `Error` naming the file when `bundle/config.json` cannot be read or is not JSON (the
 *   reason as its `cause`, but no `code`: a missing bundle is not a missing command); `Error` as
 *   {@link notifyConfig}; Node's error when `dir/config.json` cannot be written.
 */
export async function writeNotifyBundle(bundle: string, dir: string): Promise<string> {
  const bundleDir = resolve(bundle);
  const file = join(bundleDir, 'config.json');
  let config: unknown;
  try {
    config = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read the bundle's ${file}: ${(error as Error).message}`, { cause: error });
  }
  await writeFile(join(dir, RUN_FILES.config), JSON.stringify(notifyConfig(config, bundleDir)), { mode: 0o600 });
  return dir;
}
