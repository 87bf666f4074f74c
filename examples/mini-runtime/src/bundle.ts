/**
 * `mrt bundle DIR -- CMD…`: an OCI bundle whose root filesystem is busybox alone, for trying the
 * runtime out. The bundle's `config.json` is the package's `ociBundle`; the root filesystem is
 * Debian's `busybox-static` (one static binary, `/bin/busybox`) and a link per applet it has.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ociBundle } from 'restart-manager';

const exec = promisify(execFile);

/** Where Debian's `busybox-static` puts its one file. */
export const BUSYBOX = '/bin/busybox';

/** Makes `dir/config.json` running `args` and `dir/rootfs` (busybox and its applets in `bin/`); resolves with `dir`. */
export async function busyboxBundle(dir: string, args: readonly string[]): Promise<string> {
  await ociBundle(dir, { rootfs: 'rootfs', args }); // first: it refuses bad `args` before anything is written
  const bin = join(dir, 'rootfs', 'bin');
  await mkdir(bin, { recursive: true });
  await copyFile(BUSYBOX, join(bin, 'busybox'));
  const { stdout } = await exec(BUSYBOX, ['--list']);
  const applets = stdout.split('\n').filter((applet) => applet !== '' && applet !== 'busybox');
  await Promise.all(applets.map((applet) => symlink('busybox', join(bin, applet))));
  return dir;
}
