/**
 * OCI bundles over a busybox root filesystem, for the demo and the container tests: a `config.json`
 * made by `runc spec` and patched to run on any Linux machine (no terminal; no cgroup limits, path or
 * namespace, which cgroup v1 hosts refuse).
 *
 * @internal
 * @packageDocumentation
 */
import { execFile } from 'node:child_process';
import { access, copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Where Debian's `busybox-static` puts its one file. */
export const BUSYBOX = '/bin/busybox';

/** The busybox applets the containers use. */
const APPLETS = ['sh', 'sleep', 'echo', 'cat', 'true', 'false', 'kill', 'test'];

/** The part of `runc spec`'s output that is patched. */
export interface RuncSpec {
  process: { terminal: boolean; args: string[] };
  root: { path: string; readonly: boolean };
  linux: { resources?: unknown; cgroupsPath?: unknown; namespaces: { type: string }[] };
}

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

/**
 * Makes `dir/rootfs` (busybox and its applets) and returns the `runc spec` template patched to run
 * here with that root filesystem; each bundle sets its own `process.args`.
 */
export async function busyboxTemplate(dir: string): Promise<RuncSpec> {
  const rootfs = join(dir, 'rootfs');
  await mkdir(join(rootfs, 'bin'), { recursive: true });
  await copyFile(BUSYBOX, join(rootfs, 'bin', 'busybox'));
  await Promise.all(APPLETS.map((applet) => symlink('busybox', join(rootfs, 'bin', applet))));
  await exec('runc', ['spec', '--bundle', dir]);
  const spec = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as RuncSpec;
  spec.process.terminal = false;
  spec.root.path = rootfs;
  delete spec.linux.resources;
  delete spec.linux.cgroupsPath;
  spec.linux.namespaces = spec.linux.namespaces.filter((namespace) => namespace.type !== 'cgroup');
  return spec;
}

/** Writes a bundle in `bundle` (made if missing) whose container runs `args`, with `extra` config entries. */
export async function writeBundle(
  bundle: string,
  template: RuncSpec,
  args: readonly string[],
  extra: Record<string, unknown> = {},
): Promise<string> {
  await mkdir(bundle, { recursive: true });
  const config = { ...template, process: { ...template.process, args }, ...extra };
  await writeFile(join(bundle, 'config.json'), JSON.stringify(config));
  return bundle;
}
