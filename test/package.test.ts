/**
 * The package as users get it: packed, installed into a fresh project, then imported from ESM,
 * required from CommonJS, type-checked with node16 and bundler resolution, and run as a bin.
 */
import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

let project: string;
let files: string[];

async function run(
  command: string,
  args: string[],
  cwd = project,
): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await exec(command, args, { cwd, env: { ...process.env, NODE_OPTIONS: '' } });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const { stdout, stderr, code } = error as { stdout: string; stderr: string; code: number };
    return { stdout, stderr, code };
  }
}

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'restart-manager-package-'));
  const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', project], root);
  expect(packed.code).toBe(0);
  const [{ filename, files: entries }] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
  files = entries.map((entry) => entry.path);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  const installed = await run('npm', [
    'install',
    '--prefer-offline',
    '--no-audit',
    '--no-fund',
    join(project, filename),
  ]);
  expect(installed.code).toBe(0);
}, 120_000);

afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships the build, the README and the licence, and no tests, sources or demo', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/index.js',
        'dist/index.d.ts',
        'dist/cli.js',
        'README.md',
        'LICENSE',
        'package.json',
      ]),
    );
    expect(files.filter((file) => /^(test|src)\/|demo|\.test\.|\.map$/.test(file))).toEqual([]);
  });

  it('imports from ESM', async () => {
    const script = `import { RestartManager, parseRestartPolicy } from 'restart-manager';
      console.log(JSON.stringify([new RestartManager('on-failure:1').shouldRestart(1), parseRestartPolicy('always')]));`;
    const result = await run(process.execPath, ['--input-type=module', '-e', script]);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual([
      { restart: true, delayMs: 100, reason: 'policy-on-failure' },
      { name: 'always', maximumRetryCount: 0 },
    ]);
  });

  it("requires from CommonJS (Node's require(esm)), without a warning", async () => {
    const script = `const { shouldRestart, Supervisor } = require('restart-manager');
      console.log(typeof Supervisor, shouldRestart({ name: 'always', maximumRetryCount: 0 }, { exitCode: 0, hasBeenManuallyStopped: false, failureCount: 0 }));`;
    const result = await run(process.execPath, ['-e', script]);
    expect(result.stdout.trim()).toBe('function true');
    expect(result.stderr).toBe('');
  });

  it('installs without its optional peer @opentelemetry/api, and its metrics import nothing of it', async () => {
    await expect(access(join(project, 'node_modules', '@opentelemetry', 'api'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    // The metrics module by its file (it is not an export), driven through a meter made by hand.
    const script = `import 'restart-manager';
      const { SupervisorMetrics } = await import('./node_modules/restart-manager/dist/supervisor/metrics.js');
      const calls = [];
      const instrument = (name) => ({
        add: (value, attributes) => calls.push([name, value, attributes]),
        record: (value) => calls.push([name, value]),
        addCallback: (callback) => callback({ observe: (value, attributes) => calls.push([name, value, attributes]) }),
        removeCallback: () => calls.push([name, 'removed']),
      });
      const meter = { createCounter: instrument, createHistogram: instrument, createObservableGauge: instrument };
      const metrics = new SupervisorMetrics(meter, () => ['running'], (error) => console.error(error));
      metrics.restarting('web', 'policy-always', 100);
      metrics.close();
      console.log(JSON.stringify(calls));`;
    const result = await run(process.execPath, ['--input-type=module', '-e', script]);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual([
      ['restart_manager.containers', 0, { status: 'created' }],
      ['restart_manager.containers', 1, { status: 'running' }],
      ['restart_manager.containers', 0, { status: 'restarting' }],
      ['restart_manager.containers', 0, { status: 'exited' }],
      ['restart_manager.containers', 0, { status: 'removing' }],
      ['restart_manager.restarts', 1, { container: 'web', reason: 'policy-always' }],
      ['restart_manager.restart_delay', 100],
      ['restart_manager.containers', 'removed'],
    ]);
  });

  it.each(['node16', 'bundler'])(
    'type-checks a consumer with %s resolution, and refuses an invalid policy name',
    async (resolution) => {
      const dir = join(project, resolution);
      await mkdir(dir, { recursive: true });
      await writeFile(
        join(dir, 'consumer.mts'),
        `import { RestartManager, restartInThread, type RestartOutcome, type RestartPolicyName } from 'restart-manager';
      const manager = new RestartManager({ name: 'on-failure', maximumRetryCount: 3 });
      const { done } = restartInThread(manager, { exitCode: 1 }, async () => 42);
      export async function check(): Promise<number> {
        const outcome: RestartOutcome<number> = await done;
        return outcome.status === 'started' ? outcome.value : -1;
      }
      // @ts-expect-error 'sometimes' is not a policy name
      export const bad: RestartPolicyName = 'sometimes';
      `,
      );
      const options =
        resolution === 'node16'
          ? ['--module', 'node16', '--moduleResolution', 'node16']
          : ['--module', 'esnext', '--moduleResolution', 'bundler'];
      const typeRoots = join(root, 'node_modules', '@types');
      const args = [
        '--noEmit',
        '--strict',
        '--target',
        'es2022',
        '--types',
        'node',
        '--typeRoots',
        typeRoots,
        ...options,
      ];
      const result = await run(process.execPath, [tsc, ...args, join(dir, 'consumer.mts')]);
      expect(result.stdout + result.stderr).toBe('');
      expect(result.code).toBe(0);
    },
  );

  it('runs the bin', async () => {
    expect((await run('npx', ['--no-install', 'restart-manager', '--version'])).stdout.trim()).toBe(version);
    const result = await run('npx', [
      '--no-install',
      'restart-manager',
      'run',
      '--restart',
      'on-failure:1',
      '--',
      process.execPath,
      '-e',
      'process.exit(2)',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr.match(/started pid/g)).toHaveLength(2);
    expect(await readdir(join(project, 'node_modules', '.bin'))).toContain('restart-manager');
  });
});
