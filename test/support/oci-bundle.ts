/**
 * Real OCI bundles for the container tests: a busybox-static root filesystem in a temp dir, shared by
 * every bundle of a test file (read-only, `ociBundle`'s default), and each bundle's `config.json`
 * written by `ociBundle`. Each file gets its own runc state root, so its `runc list` only ever shows
 * its own containers.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { busyboxRootfs } from '../../src/demo/bundle.js';
import { type OciBundleOptions, ociBundle } from '../../src/index.js';

const exec = promisify(execFile);

/** The options of a fixture's bundle: `ociBundle`'s but its root filesystem, and OCI hooks, which it does not write. */
export interface FixtureBundleOptions extends Omit<OciBundleOptions, 'rootfs' | 'args'> {
  /** The root filesystem as the config names it (the fixture's own, by its absolute path, by default). */
  readonly rootfs?: string | undefined;
  /** The config's `hooks` (`createRuntime`, …), added to what `ociBundle` wrote. */
  readonly hooks?: Record<string, unknown>;
}

/** A temp dir with a busybox root filesystem, bundles over it, and a runc state root. */
export interface OciFixture {
  /** The fixture's temp dir (removed with it), for a test's own files. */
  readonly dir: string;
  /** The runc state root (`--root`) of this fixture's containers. */
  readonly root: string;
  /** The busybox root filesystem every bundle of the fixture runs. */
  readonly rootfs: string;
  /** Makes a new bundle whose container runs `args` (e.g. `['sh', '-c', 'echo ready; exec sleep 60']`). */
  bundle(args: readonly string[], options?: FixtureBundleOptions): Promise<string>;
  /** `runc list` of this fixture's root: the ids of the containers that exist. */
  containers(): Promise<string[]>;
  /** Fails the test if any container exists (after force-deleting it, so the next test starts clean). */
  expectNoContainers(): Promise<void>;
  /** Force-deletes every container of this fixture (those a test left running on purpose); returns their ids. */
  deleteAll(): Promise<string[]>;
  /** Force-deletes any container left and removes the temp dir. */
  remove(): Promise<void>;
}

/** Builds the root filesystem under a new temp dir. */
export async function createOciFixture(): Promise<OciFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'restart-manager-oci-test-'));
  const root = join(dir, 'runc-root');
  const rootfs = await busyboxRootfs(dir);
  let bundles = 0;

  async function containers(): Promise<string[]> {
    const { stdout } = await exec('runc', ['--root', root, 'list', '--format', 'json']);
    const list = JSON.parse(stdout) as { id: string }[] | null;
    return (list ?? []).map((container) => container.id);
  }

  async function deleteAll(): Promise<string[]> {
    const left = await containers();
    for (const id of left) await exec('runc', ['--root', root, 'delete', '--force', id]);
    return left;
  }

  async function bundle(args: readonly string[], { hooks, ...options }: FixtureBundleOptions = {}): Promise<string> {
    const made = await ociBundle(join(dir, `bundle-${++bundles}`), {
      ...options,
      rootfs: options.rootfs ?? rootfs,
      args,
    });
    if (hooks !== undefined) {
      const file = join(made, 'config.json');
      const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      await writeFile(file, JSON.stringify({ ...config, hooks }));
    }
    return made;
  }

  return {
    dir,
    root,
    rootfs,
    bundle,
    containers,
    deleteAll,
    async expectNoContainers() {
      expect(await deleteAll(), 'containers left in `runc list`').toEqual([]);
    },
    async remove() {
      await deleteAll();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
