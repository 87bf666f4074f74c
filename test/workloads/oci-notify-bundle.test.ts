/**
 * The derived `config.json` of an OCI run with a notify pipe: `NOTIFY_FD=3` in the container's
 * environment (in place of one already there), the root filesystem's path and bind mounts' sources
 * made absolute against the bundle, everything else as it was; a config without a process or a root
 * refused; and the file written into the run directory.
 */
import { readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { notifyConfig, writeNotifyBundle } from '../../src/workloads/oci-notify-bundle.js';

const BUNDLE = '/srv/web';

describe('notifyConfig', () => {
  it.each([
    [
      'adds NOTIFY_FD=3 to the environment and makes a relative root absolute',
      { ociVersion: '1.0.2', process: { args: ['sh'], env: ['PATH=/bin'] }, root: { path: 'rootfs', readonly: true } },
      {
        ociVersion: '1.0.2',
        process: { args: ['sh'], env: ['PATH=/bin', 'NOTIFY_FD=3'] },
        root: { path: '/srv/web/rootfs', readonly: true },
      },
    ],
    [
      'replaces a NOTIFY_FD already there, and keeps an absolute root',
      { process: { env: ['NOTIFY_FD=7', 'A=1'] }, root: { path: '/images/web' } },
      { process: { env: ['A=1', 'NOTIFY_FD=3'] }, root: { path: '/images/web' } },
    ],
    [
      'gives an environment to a process without one',
      { process: { args: ['true'] }, root: { path: '../rootfs' } },
      { process: { args: ['true'], env: ['NOTIFY_FD=3'] }, root: { path: '/srv/rootfs' } },
    ],
    [
      'makes the relative sources of bind mounts absolute, and no other',
      {
        process: {},
        root: { path: 'rootfs' },
        mounts: [
          { destination: '/proc', type: 'proc', source: 'proc' },
          { destination: '/data', type: 'bind', source: 'data', options: ['rbind', 'ro'] },
          { destination: '/etc/hosts', source: 'hosts', options: ['bind'] },
          { destination: '/cache', source: 'cache', options: ['rbind'] },
          { destination: '/abs', type: 'bind', source: '/var/abs' },
        ],
      },
      {
        process: { env: ['NOTIFY_FD=3'] },
        root: { path: '/srv/web/rootfs' },
        mounts: [
          { destination: '/proc', type: 'proc', source: 'proc' },
          { destination: '/data', type: 'bind', source: '/srv/web/data', options: ['rbind', 'ro'] },
          { destination: '/etc/hosts', source: '/srv/web/hosts', options: ['bind'] },
          { destination: '/cache', source: '/srv/web/cache', options: ['rbind'] },
          { destination: '/abs', type: 'bind', source: '/var/abs' },
        ],
      },
    ],
  ])('%s', (_, config, expected) => {
    const before = structuredClone(config);
    expect(notifyConfig(config, BUNDLE)).toEqual(expected);
    expect(config).toEqual(before);
  });

  it.each([null, [], 'config', {}, { process: {} }, { process: {}, root: {} }, { root: { path: 'rootfs' } }])(
    'refuses %j, naming the bundle',
    (config) => {
      expect(() => notifyConfig(config, BUNDLE)).toThrow(
        new Error('The config.json of bundle /srv/web has no `process` or no `root.path`'),
      );
    },
  );
});

describe('writeNotifyBundle', () => {
  it("writes the derived config.json into the run directory, mode 0600, from the bundle's", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'restart-manager-notify-bundle-'));
    try {
      const bundle = join(dir, 'bundle');
      const runDir = join(dir, 'run');
      await Promise.all([mkdir(bundle), mkdir(runDir)]);
      await writeFile(join(bundle, 'config.json'), JSON.stringify({ process: { env: [] }, root: { path: 'rootfs' } }));
      await expect(writeNotifyBundle(bundle, runDir)).resolves.toBe(runDir);
      expect(JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'))).toEqual({
        process: { env: ['NOTIFY_FD=3'] },
        root: { path: join(bundle, 'rootfs') },
      });
      expect(statSync(join(runDir, 'config.json')).mode & 0o777).toBe(0o600);
      const missing = join(dir, 'no-such-bundle', 'config.json');
      const error = (await writeNotifyBundle(join(dir, 'no-such-bundle'), runDir).catch((e: unknown) => e)) as Error;
      expect(error.message).toBe(
        `Cannot read the bundle's ${missing}: ENOENT: no such file or directory, open '${missing}'`,
      );
      // No `code`: a start that fails so is not taken for a missing command (127).
      expect(error).not.toHaveProperty('code');
      expect(error.cause).toMatchObject({ code: 'ENOENT' });
      await writeFile(join(bundle, 'config.json'), '{ not json');
      await expect(writeNotifyBundle(bundle, runDir)).rejects.toThrow(/^Cannot read the bundle's \S+config\.json: /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
