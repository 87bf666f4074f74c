/**
 * `ociBundle`: an OCI bundle's `config.json`, written from a few checked options.
 *
 * @packageDocumentation
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assertBoolean,
  assertIntegerInRange,
  assertNonEmptyString,
  assertObject,
  assertOneOf,
  show,
} from '../validate.js';
import { type BindMount, type BundleConfigInput, bundleConfig } from './oci-config.js';

/** A bind mount of {@link OciBundleOptions.mounts}. */
export interface OciBundleMount {
  /** The host path: absolute, or relative to the bundle directory. */
  readonly source: string;
  /** Where it appears in the container: an absolute path. */
  readonly destination: string;
  /**
   * Whether the container may not write to it.
   *
   * @defaultValue `true`
   */
  readonly readonly?: boolean | undefined;
}

/** The user the container's process runs as (numeric ids: the root filesystem may have no `/etc/passwd`). */
export interface OciBundleUser {
  /** The user id, 0–4294967294. */
  readonly uid: number;
  /** The group id, 0–4294967294. */
  readonly gid: number;
}

/** The options of {@link ociBundle}. */
export interface OciBundleOptions {
  /** The root filesystem: a directory, absolute or relative to the bundle directory. */
  readonly rootfs: string;
  /** The container's command and its arguments (no shell): a non-empty array, its first item non-empty. */
  readonly args: readonly string[];
  /**
   * The process's environment, `NAME=value` entries.
   *
   * @defaultValue `['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']`
   */
  readonly env?: readonly string[] | undefined;
  /**
   * The process's working directory in the container: an absolute path.
   *
   * @defaultValue `'/'`
   */
  readonly cwd?: string | undefined;
  /**
   * The container's host name (it has a UTS namespace of its own), at most 64 bytes.
   *
   * @defaultValue none: the UTS namespace starts with the host's name
   */
  readonly hostname?: string | undefined;
  /**
   * Whether the root filesystem is mounted read-only.
   *
   * @defaultValue `true`
   */
  readonly readonlyRootfs?: boolean | undefined;
  /**
   * `'none'`: a network namespace of its own (a loopback interface, down, and nothing else);
   * `'host'`: the host's network.
   *
   * @defaultValue `'none'`
   */
  readonly network?: 'none' | 'host' | undefined;
  /**
   * Host paths bind-mounted into the container, after the usual mounts.
   *
   * @defaultValue `[]`
   */
  readonly mounts?: readonly OciBundleMount[] | undefined;
  /**
   * The user and group the process runs as.
   *
   * @defaultValue `{ uid: 0, gid: 0 }`
   */
  readonly user?: OciBundleUser | undefined;
}

/** The defaults of {@link ociBundle}'s options. */
export const DEFAULT_OCI_BUNDLE_OPTIONS = Object.freeze({
  env: Object.freeze(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']),
  cwd: '/',
  readonlyRootfs: true,
  network: 'none',
  mounts: Object.freeze([]),
  user: Object.freeze({ uid: 0, gid: 0 }),
} as const);

const OPTION_NAMES = ['rootfs', 'args', 'env', 'cwd', 'hostname', 'readonlyRootfs', 'network', 'mounts', 'user'];
const MOUNT_KEYS = ['source', 'destination', 'readonly'];
const USER_KEYS = ['uid', 'gid'];
/** The largest uid or gid: 2^32 − 1 is `(uid_t) -1`, "no id". */
const MAX_ID = 2 ** 32 - 2;
/** The longest host name Linux takes (`HOST_NAME_MAX`). */
const MAX_HOSTNAME_BYTES = 64;

function assertKnownKeys(value: Record<string, unknown>, name: string, known: readonly string[]): void {
  const unknownKey = Object.keys(value).find((key) => !known.includes(key));
  if (unknownKey !== undefined) {
    throw new TypeError(`Unknown option \`${name}.${unknownKey}\`, got ${show(value[unknownKey])}`);
  }
}

/** A non-empty string, else a `TypeError`; one holding a NUL (which no path or argument can), a `RangeError`. */
function assertText(value: unknown, name: string): asserts value is string {
  assertNonEmptyString(value, name);
  assertNoNul(value, name);
}

function assertNoNul(value: string, name: string): void {
  if (value.includes('\0')) throw new RangeError(`Expected \`${name}\` to hold no NUL byte, got ${show(value)}`);
}

function assertAbsolutePath(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw new TypeError(`Expected \`${name}\` to be an absolute path, got ${show(value)}`);
  if (!value.startsWith('/')) throw new RangeError(`Expected \`${name}\` to be an absolute path, got ${show(value)}`);
  assertNoNul(value, name);
}

function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function checkArgs(value: unknown): readonly string[] {
  if (!isStringArray(value) || value.length === 0) {
    throw new TypeError(`Expected \`options.args\` to be a non-empty array of strings, got ${show(value)}`);
  }
  assertText(value[0], 'options.args[0]');
  value.forEach((arg, index) => {
    assertNoNul(arg, `options.args[${index}]`);
  });
  return value;
}

function checkEnv(value: unknown): readonly string[] {
  if (!isStringArray(value)) {
    throw new TypeError(`Expected \`options.env\` to be an array of strings, got ${show(value)}`);
  }
  value.forEach((entry, index) => {
    if (!/^[^=\0]+=[^\0]*$/.test(entry)) {
      throw new RangeError(`Expected \`options.env[${index}]\` to be NAME=value, got ${show(entry)}`);
    }
  });
  return value;
}

function checkHostname(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  assertText(value, 'options.hostname');
  if (Buffer.byteLength(value) > MAX_HOSTNAME_BYTES) {
    throw new RangeError(`Expected \`options.hostname\` to be at most ${MAX_HOSTNAME_BYTES} bytes, got ${show(value)}`);
  }
  return value;
}

function checkMounts(value: unknown): readonly BindMount[] {
  if (!Array.isArray(value)) throw new TypeError(`Expected \`options.mounts\` to be an array, got ${show(value)}`);
  return value.map((mount: unknown, index): BindMount => {
    const name = `options.mounts[${index}]`;
    assertObject(mount, name);
    assertKnownKeys(mount, name, MOUNT_KEYS);
    const { source, destination, readonly = true } = mount;
    assertText(source, `${name}.source`);
    assertAbsolutePath(destination, `${name}.destination`);
    assertBoolean(readonly, `${name}.readonly`);
    return { source, destination, readonly };
  });
}

function checkUser(value: unknown): { uid: number; gid: number } {
  assertObject(value, 'options.user');
  assertKnownKeys(value, 'options.user', USER_KEYS);
  const { uid, gid } = value;
  assertIntegerInRange(uid, 'options.user.uid', 0, MAX_ID);
  assertIntegerInRange(gid, 'options.user.gid', 0, MAX_ID);
  return { uid, gid };
}

/** Every option checked, every default applied. */
function resolveOptions(options: unknown): BundleConfigInput {
  assertObject(options, 'options');
  assertKnownKeys(options, 'options', OPTION_NAMES);
  const defaults = DEFAULT_OCI_BUNDLE_OPTIONS;
  const { rootfs, cwd = defaults.cwd, readonlyRootfs = defaults.readonlyRootfs, network = defaults.network } = options;
  assertText(rootfs, 'options.rootfs');
  const args = checkArgs(options.args);
  const env = checkEnv(options.env ?? defaults.env);
  assertAbsolutePath(cwd, 'options.cwd');
  const hostname = checkHostname(options.hostname);
  assertBoolean(readonlyRootfs, 'options.readonlyRootfs');
  assertOneOf(network, 'options.network', ['none', 'host']);
  const mounts = checkMounts(options.mounts ?? defaults.mounts);
  const { uid, gid } = checkUser(options.user ?? defaults.user);
  return { rootfs, args, env, cwd, hostname, readonlyRootfs, network, mounts, uid, gid };
}

/**
 * Writes `dir/config.json` for an OCI bundle whose root filesystem is `options.rootfs`, making `dir`
 * if needed, and resolves with `dir`. The config runs under runc on a cgroup v1 or hybrid host too:
 * no terminal (the run is in the foreground), no `linux.resources`, `linux.cgroupsPath` or cgroup
 * namespace; `runc spec`'s capabilities (`CAP_AUDIT_WRITE`, `CAP_KILL`,
 * `CAP_NET_BIND_SERVICE`), `RLIMIT_NOFILE` 1024, `noNewPrivileges`, masked and read-only paths; the
 * mounts `/proc`, `/dev`, `/dev/pts`, `/dev/shm`, `/dev/mqueue`, `/sys` (read-only), then
 * `options.mounts`; namespaces pid, ipc, uts, mount and, unless `network` is `'host'`, network. The
 * file is written whole (a temp file renamed), so a runtime never reads half of it.
 *
 * @param dir - The bundle directory.
 * @param options - What the container runs, and how; see {@link OciBundleOptions} and
 *   {@link DEFAULT_OCI_BUNDLE_OPTIONS}.
 * @returns `dir`.
 * @throws `TypeError` or `RangeError` naming the bad option (`options.args`,
 *   `options.mounts[1].destination`, an unknown option, …) and showing its value; nothing is then
 *   written, no directory made. Node's error when `dir` cannot be made or written.
 * @example
 * ```ts
 * const bundle = await ociBundle('/srv/web', {
 *   rootfs: 'rootfs',
 *   args: ['httpd', '-f', '-p', '8080'],
 *   network: 'host',
 *   mounts: [{ source: '/srv/web/htdocs', destination: '/www' }],
 *   user: { uid: 1000, gid: 1000 },
 * });
 * const workload = ociWorkload({ bundle, id: 'web' });
 * ```
 */
export async function ociBundle(dir: string, options: OciBundleOptions): Promise<string> {
  assertText(dir, 'dir');
  const config = bundleConfig(resolveOptions(options));
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'config.json');
  const temp = join(dir, `.config.json.${randomUUID()}`);
  try {
    await writeFile(temp, `${JSON.stringify(config, null, 2)}\n`);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return dir;
}
