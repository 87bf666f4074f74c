/**
 * The OCI runtime configuration (`config.json`) of a bundle, as a pure function of checked options:
 * what `runc spec` makes (capabilities, rlimits, the usual mounts, masked and read-only paths), without
 * the parts a cgroup v1 or hybrid host refuses (`linux.resources`, `linux.cgroupsPath`, a cgroup
 * namespace) and with no terminal (the run is in the foreground).
 *
 * @packageDocumentation
 */

/** A bind mount of a host path into the container. */
export interface BindMount {
  /** The host path (absolute, or relative to the bundle). */
  readonly source: string;
  /** The absolute path in the container. */
  readonly destination: string;
  /** Whether the container may not write to it. */
  readonly readonly: boolean;
}

/** Everything a bundle's config is made of, every default applied. */
export interface BundleConfigInput {
  readonly rootfs: string;
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly hostname: string | undefined;
  readonly readonlyRootfs: boolean;
  readonly network: 'none' | 'host';
  readonly mounts: readonly BindMount[];
  readonly uid: number;
  readonly gid: number;
}

/** The OCI runtime spec version written: the one runc 1.1 and crun 1.8 implement. */
export const OCI_VERSION = '1.0.2';

/** `runc spec`'s capabilities: enough for a shell and a server on a low port, and signals. */
const CAPABILITIES = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** The mounts every Linux container has, as `runc spec` writes them (less `/sys/fs/cgroup`). */
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

/** What the container may not read (`runc spec`'s list). */
const MASKED_PATHS = [
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
];

/** What the container may read but not write (`runc spec`'s list). */
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/**
 * The `config.json` of a bundle. Namespaces: pid, ipc, uts, mount, and network unless `network` is
 * `'host'`; never a cgroup namespace, and no `linux.resources` or `linux.cgroupsPath` (a cgroup v1
 * host refuses them): runc then puts the container in a cgroup named after its id, under its own.
 */
export function bundleConfig(input: BundleConfigInput): Record<string, unknown> {
  const namespaces = ['pid', ...(input.network === 'none' ? ['network'] : []), 'ipc', 'uts', 'mount'];
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: false,
      user: { uid: input.uid, gid: input.gid },
      args: [...input.args],
      env: [...input.env],
      cwd: input.cwd,
      capabilities: {
        bounding: CAPABILITIES,
        effective: CAPABILITIES,
        permitted: CAPABILITIES,
        ambient: CAPABILITIES,
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: input.rootfs, readonly: input.readonlyRootfs },
    ...(input.hostname === undefined ? {} : { hostname: input.hostname }),
    mounts: [
      ...USUAL_MOUNTS,
      ...input.mounts.map(({ source, destination, readonly }) => ({
        destination,
        type: 'bind',
        source,
        options: ['rbind', readonly ? 'ro' : 'rw'],
      })),
    ],
    linux: {
      namespaces: namespaces.map((type) => ({ type })),
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
    },
  };
}
