/**
 * Real OCI bundles for the container tests: a busybox-static root filesystem in a temp dir, shared by
 * every bundle of a test file (read-only, as `runc spec` makes it), and a `config.json` made by
 * `runc spec` and patched to run here (no terminal; no cgroup limits, path or namespace: the machine
 * may be on cgroup v1) with the test's `process.args`. Each file gets its own runc state root, so its
 * `runc list` only ever shows its own containers.
 */
import { execFile } from 'node:child_process';
import { busyboxTemplate, writeBundle } from '../../src/demo/bundle.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';

const exec = promisify(execFile);

/** A temp dir with a busybox root filesystem, bundles over it, and a runc state root. */
export interface OciFixture {
  /** The fixture's temp dir (removed with it), for a test's own files. */
  readonly dir: string;
  /** The runc state root (`--root`) of this fixture's containers. */
  readonly root: string;
  /**
   * Makes a new bundle whose container runs `args` (e.g. `['sh', '-c', 'echo ready; exec sleep 60']`),
   * with `extra` top-level `config.json` entries (such as `hooks`).
   */
  bundle(args: readonly string[], extra?: Record<string, unknown>): Promise<string>;
  /** `runc list` of this fixture's root: the ids of the containers that exist. */
  containers(): Promise<string[]>;
  /** Fails the test if any container exists (after force-deleting it, so the next test starts clean). */
  expectNoContainers(): Promise<void>;
  /** Force-deletes every container of this fixture (those a test left running on purpose); returns their ids. */
  deleteAll(): Promise<string[]>;
  /** Force-deletes any container left and removes the temp dir. */
  remove(): Promise<void>;
}

/** Builds the root filesystem and the patched `runc spec` template under a new temp dir. */
export async function createOciFixture(): Promise<OciFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'restart-manager-oci-test-'));
  const root = join(dir, 'runc-root');
  const template = await busyboxTemplate(dir);
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

  return {
    dir,
    root,
    bundle: (args, extra = {}) => writeBundle(join(dir, `bundle-${++bundles}`), template, args, extra),
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
