/**
 * The `config.json` that `ociBundle` writes: in full with the defaults (what `runc spec` makes, less
 * the terminal, `linux.resources`, `linux.cgroupsPath` and any cgroup namespace), then what each
 * option changes, written out. The file is written whole, into a directory made if missing.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_OCI_BUNDLE_OPTIONS, type OciBundleOptions, ociBundle } from '../../src/index.js';

const CAPABILITIES = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
const USUAL_MOUNTS = [
  { destination: '/proc', type: 'proc', source: 'proc' },
  {
    destination: '/dev',
    type: 'tmpfs',
    source: 'tmpfs',
    options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
  },
  {
    destination: '/dev/pts',
    type: 'devpts',
    source: 'devpts',
    options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
  },
  {
    destination: '/dev/shm',
    type: 'tmpfs',
    source: 'shm',
    options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
  },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
];

/** The whole config of `{ rootfs: 'rootfs', args: ['sh'] }`. */
const DEFAULT_CONFIG = {
  ociVersion: '1.0.2',
  process: {
    terminal: false,
    user: { uid: 0, gid: 0 },
    args: ['sh'],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    cwd: '/',
    capabilities: { bounding: CAPABILITIES, effective: CAPABILITIES, permitted: CAPABILITIES, ambient: CAPABILITIES },
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
    noNewPrivileges: true,
  },
  root: { path: 'rootfs', readonly: true },
  mounts: USUAL_MOUNTS,
  linux: {
    namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
    maskedPaths: [
      '/proc/acpi',
      '/proc/asound',
      '/proc/kcore',
      '/proc/keys',
      '/proc/latency_stats',
      '/proc/timer_list',
      '/proc/timer_stats',
      '/proc/sched_debug',
      '/sys/firmware',
      '/proc/scsi',
    ],
    readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
  },
};

let scratch: string;

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'restart-manager-bundle-config-'));
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function configOf(options: OciBundleOptions): Promise<Record<string, unknown>> {
  const dir = join(scratch, 'bundle');
  await expect(ociBundle(dir, options)).resolves.toBe(dir);
  return JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
}

describe('the config ociBundle writes', () => {
  it('with the defaults: runc spec’s, with no terminal, resources, cgroups path or cgroup namespace', async () => {
    expect(await configOf({ rootfs: 'rootfs', args: ['sh'] })).toEqual(DEFAULT_CONFIG);
  });

  it.each<[string, Partial<OciBundleOptions>, Record<string, unknown>]>([
    [
      'args, env and cwd',
      { args: ['sh', '-c', 'echo "$GREETING"'], env: ['GREETING=hi', 'EMPTY='], cwd: '/srv' },
      {
        process: {
          ...DEFAULT_CONFIG.process,
          args: ['sh', '-c', 'echo "$GREETING"'],
          env: ['GREETING=hi', 'EMPTY='],
          cwd: '/srv',
        },
      },
    ],
    ['an empty env', { env: [] }, { process: { ...DEFAULT_CONFIG.process, env: [] } }],
    [
      'a user',
      { user: { uid: 1000, gid: 100 } },
      { process: { ...DEFAULT_CONFIG.process, user: { uid: 1000, gid: 100 } } },
    ],
    ['a hostname', { hostname: 'web-1' }, { hostname: 'web-1' }],
    [
      'an absolute, writable root filesystem',
      { rootfs: '/srv/rootfs', readonlyRootfs: false },
      { root: { path: '/srv/rootfs', readonly: false } },
    ],
    [
      "the host's network: no network namespace",
      { network: 'host' },
      {
        linux: {
          ...DEFAULT_CONFIG.linux,
          namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
        },
      },
    ],
    ["network 'none': a namespace of its own", { network: 'none' }, {}],
    [
      'bind mounts after the usual ones, read-only unless said',
      {
        mounts: [
          { source: '/srv/data', destination: '/data' },
          { source: 'cache', destination: '/var/cache', readonly: false },
          { source: '/etc/hosts', destination: '/etc/hosts', readonly: true },
        ],
      },
      {
        mounts: [
          ...USUAL_MOUNTS,
          { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro'] },
          { destination: '/var/cache', type: 'bind', source: 'cache', options: ['rbind', 'rw'] },
          { destination: '/etc/hosts', type: 'bind', source: '/etc/hosts', options: ['rbind', 'ro'] },
        ],
      },
    ],
  ])('with %s', async (_name, options, changed) => {
    expect(await configOf({ rootfs: 'rootfs', args: ['sh'], ...options })).toEqual({ ...DEFAULT_CONFIG, ...changed });
  });

  it('writes config.json alone into a directory it makes, over any config.json there', async () => {
    const dir = join(scratch, 'a', 'b');
    await ociBundle(dir, { rootfs: 'rootfs', args: ['true'] });
    await ociBundle(dir, { rootfs: 'rootfs', args: ['false'] });
    expect(await readdir(dir)).toEqual(['config.json']);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { process: { args: string[] } };
    expect(config.process.args).toEqual(['false']);
  });

  it('has frozen defaults', () => {
    expect(DEFAULT_OCI_BUNDLE_OPTIONS).toEqual({
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      cwd: '/',
      readonlyRootfs: true,
      network: 'none',
      mounts: [],
      user: { uid: 0, gid: 0 },
    });
    expect(Object.isFrozen(DEFAULT_OCI_BUNDLE_OPTIONS)).toBe(true);
    expect(Object.isFrozen(DEFAULT_OCI_BUNDLE_OPTIONS.env)).toBe(true);
    expect(Object.isFrozen(DEFAULT_OCI_BUNDLE_OPTIONS.user)).toBe(true);
  });

  it('rejects with the error of a directory it cannot make, naming it', async () => {
    const file = join(scratch, 'file');
    await ociBundle(file, { rootfs: 'rootfs', args: ['true'] });
    await expect(ociBundle(join(file, 'config.json', 'x'), { rootfs: 'rootfs', args: ['true'] })).rejects.toMatchObject(
      {
        code: 'ENOTDIR',
      },
    );
  });
});
