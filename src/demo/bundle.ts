/**
 * A busybox root filesystem for the demo's and the tests' OCI bundles (their `config.json` is
 * `ociBundle`'s), and why real containers cannot run here, when they cannot.
 *
 * @internal
 * @packageDocumentation
 */
import { execFile } from 'node:child_process';
import { access, copyFile, mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Where Debian's `busybox-static` puts its one file. */
export const BUSYBOX = '/bin/busybox';

/** The busybox applets the containers use. */
const APPLETS = [
  'sh',
  'sleep',
  'echo',
  'cat',
  'true',
  'false',
  'kill',
  'test',
  'touch',
  'id',
  'dd',
  'rm',
  'tail',
  'cut',
];

/** Why real containers cannot run here (not root, no runc, no busybox), or `undefined` when they can. */
export async function whyNoContainers(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not running as root (runc needs it)';
  try {
    await exec('runc', ['--version']);
  } catch {
    return 'runc is not installed (Debian: apt-get install runc)';
  }
  try {
    await access(BUSYBOX);
  } catch {
    return `${BUSYBOX} is missing (Debian: apt-get install busybox-static)`;
  }
  return undefined;
}

/** Makes `dir/rootfs`, busybox and a link per applet the containers use, and returns its path. */
export async function busyboxRootfs(dir: string): Promise<string> {
  const rootfs = join(dir, 'rootfs');
  await mkdir(join(rootfs, 'bin'), { recursive: true });
  await copyFile(BUSYBOX, join(rootfs, 'bin', 'busybox'));
  await Promise.all(APPLETS.map((applet) => symlink('busybox', join(rootfs, 'bin', applet))));
  return rootfs;
}
