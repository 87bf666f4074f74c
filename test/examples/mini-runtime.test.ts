/**
 * The example runtime, examples/mini-runtime, end to end over real runc containers: its daemon (a
 * child Node process) and its CLI, run as a user runs them against the built package (`dist/`,
 * resolved as `restart-manager` from a temp dir). Two containers — `web` (`always`, runs until
 * SIGTERM, which it answers with exit 3) and `flaky` (`on-failure:2`, exits 1 at once) — through
 * `run -d`, `ps`, `logs`, `stop`/`start`, a SIGKILLed daemon started again without and then with live
 * restore (SPEC §14, §15), and `rm`. Nothing is left: no container, no process, no directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OciFixture, createOciFixture } from '../support/oci-bundle.js';
import { type Finished, runToEnd } from '../support/processes.js';
import { isAlive, waitFor } from '../support/wait-for.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCES = join(ROOT, 'examples', 'mini-runtime', 'src');
/** How long one CLI call may take on a loaded machine. */
const CALL_TIMEOUT_MS = 10_000;

/** A running daemon, and the lines of its stdout so far. */
interface DaemonProcess {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** Resolves with the first line from the `from`-th on that matches `pattern`. */
  line(pattern: RegExp, from?: number): Promise<string>;
}

let fixture: OciFixture;
let stateDir: string;
let mrtPath: string;
let daemon: DaemonProcess | undefined;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  fixture = await createOciFixture();
  stateDir = join(fixture.dir, 'state');
  // The example as plain JavaScript beside a node_modules/restart-manager that is this package: a Node
  // process per CLI call costs 0.2 s this way, 0.6 s through tsx.
  const out = join(fixture.dir, 'mrt');
  await mkdir(join(out, 'node_modules'), { recursive: true });
  await symlink(ROOT, join(out, 'node_modules', 'restart-manager'), 'dir');
  await writeFile(join(out, 'package.json'), '{ "type": "module" }\n');
  for (const file of await readdir(SOURCES)) {
    const { outputText } = ts.transpileModule(readFileSync(join(SOURCES, file), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    await writeFile(join(out, file.replace(/\.ts$/, '.js')), outputText);
  }
  mrtPath = join(out, 'mrt.js');
});

afterAll(async () => {
  if (daemon?.child.exitCode === null && daemon.child.signalCode === null) daemon.child.kill('SIGKILL');
  await fixture.remove(); // force-deletes any container a failed test left
});

/** Runs `mrt --state-dir STATE ARGS` and resolves once it exited. */
function mrt(...args: string[]): Promise<Finished> {
  return runToEnd(process.execPath, [mrtPath, '--state-dir', stateDir, ...args], { timeoutMs: CALL_TIMEOUT_MS });
}

/** `mrt ARGS`, which must succeed: its stdout. */
async function ok(...args: string[]): Promise<string> {
  const finished = await mrt(...args);
  expect(finished, `mrt ${args.join(' ')}`).toMatchObject({ code: 0, stderr: '' });
  return finished.stdout;
}

/** `mrt ps` as rows of cells, the header first. */
async function ps(): Promise<string[][]> {
  return (await ok('ps'))
    .trimEnd()
    .split('\n')
    .map((line) => line.split(/ {2,}/));
}

/** The ps row of one container: [name, status, restarts, failures, pid, exit code, started]. */
async function row(name: string): Promise<string[]> {
  const found = (await ps()).find((cells) => cells[0] === name);
  if (found === undefined) throw new Error(`${name} is not in mrt ps`);
  return found;
}

/** Starts `mrt daemon FLAGS` and resolves once it says it is ready. */
async function startDaemon(...flags: string[]): Promise<DaemonProcess> {
  const child = spawn(
    process.execPath,
    [mrtPath, 'daemon', ...flags, '--restore-delay', '100', '--runc-root', fixture.root, '--state-dir', stateDir],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const wake of waiters) wake();
  });
  const line = (pattern: RegExp, from = 0) =>
    new Promise<string>((resolve, reject) => {
      const look = () => {
        const found = lines.slice(from).find((text) => pattern.test(text));
        if (found === undefined && child.exitCode === null) return;
        waiters.delete(look);
        child.off('exit', look);
        if (found === undefined)
          reject(new Error(`The daemon exited before saying ${String(pattern)}: ${lines.join('\n')}`));
        else resolve(found);
      };
      waiters.add(look);
      child.on('exit', look);
      look();
    });
  const running = { child, lines, line };
  await line(/: ready, /);
  return running;
}

/** SIGKILLs the daemon and resolves once it is gone (its containers are not its children: they run on). */
async function killDaemon(): Promise<void> {
  const child = daemon?.child;
  if (child === undefined) throw new Error('no daemon');
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

describe('mini-runtime: a daemon and a CLI on the package', () => {
  let webBundle: string;
  let webPid: number;

  it('makes busybox bundles with `mrt bundle`', async () => {
    webBundle = join(fixture.dir, 'web');
    const made = await Promise.all([
      ok('bundle', webBundle, '--', 'sh', '-c', 'trap "exit 3" TERM; echo up; sleep 600 & wait'),
      ok('bundle', join(fixture.dir, 'flaky'), '--', 'sh', '-c', 'echo failing; exit 1'),
    ]);
    expect(made).toEqual([`${webBundle}\n`, `${join(fixture.dir, 'flaky')}\n`]);
    expect(JSON.parse(readFileSync(join(webBundle, 'config.json'), 'utf8'))).toMatchObject({
      root: { path: 'rootfs', readonly: true },
      process: { args: ['sh', '-c', 'trap "exit 3" TERM; echo up; sleep 600 & wait'] },
    });
  });

  it('runs containers detached under their policies, and lists them; a second daemon is refused', async () => {
    daemon = await startDaemon();
    expect(await mrt('daemon')).toEqual({
      code: 1,
      signal: null,
      stdout: '',
      stderr: `mrt: State directory ${join(stateDir, 'containers')} is locked by process ${String(daemon.child.pid)}\n`,
    });
    expect(await ok('run', '-d', '--name', 'web', '--restart', 'always', webBundle)).toBe('web\n');
    expect(await ok('run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', join(fixture.dir, 'flaky'))).toBe(
      'flaky\n',
    );
    expect(await ok('wait', 'flaky')).toBe('1\n'); // down for good after its 2 restarts
    const refused = await mrt('run', '-d', '--name', 'bad', '--restart', 'sometimes', webBundle);
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toMatch(/^mrt: .*sometimes.*\n$/); // the library's message, and nothing added
    const [header, web, flaky, ...more] = await ps();
    expect(more).toEqual([]);
    expect(header).toEqual(['NAME', 'STATUS', 'RESTARTS', 'FAILURES', 'PID', 'EXIT CODE', 'STARTED']);
    expect(web?.slice(0, 4)).toEqual(['web', 'running', '0', '0']);
    expect(web?.[5]).toBe('-');
    expect(web?.[6]).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(flaky?.slice(0, 6)).toEqual(['flaky', 'exited', '2', '3', '-', '1']);
    webPid = Number(web?.[4]);
    expect(isAlive(webPid)).toBe(true);
  });

  it("prints a container's log, every run's output in it", async () => {
    expect(await ok('logs', 'flaky')).toBe('failing\nfailing\nfailing\n');
    const logFile = join(stateDir, 'logs', 'web.log');
    await waitFor(() => existsSync(logFile) && readFileSync(logFile, 'utf8') !== '', 5_000, 'web to write its log');
    expect(await ok('logs', 'web')).toBe('up\n');
  });

  it('stops and starts a container by hand', async () => {
    expect(await ok('stop', 'web')).toBe('web\n');
    expect((await row('web')).slice(0, 6)).toEqual(['web', 'exited', '0', '0', '-', '3']);
    expect(isAlive(webPid)).toBe(false);
    expect(await ok('start', 'web')).toBe('web\n');
    const web = await row('web');
    expect(web.slice(0, 4)).toEqual(['web', 'running', '0', '0']);
    expect(Number(web[4])).not.toBe(webPid);
    webPid = Number(web[4]);
  });

  it('survives its SIGKILL without live restore: the container is stopped and restarted, counts unchanged', async () => {
    await killDaemon();
    expect(isAlive(webPid)).toBe(true); // the run outlives its daemon
    daemon = await startDaemon();
    expect(daemon.lines).toContain('restore web: restarting');
    expect(daemon.lines).toContain('restore flaky: exited');
    await daemon.line(/^start web: /);
    const rows = await ps();
    expect(rows.find(([name]) => name === 'flaky')?.slice(0, 6)).toEqual(['flaky', 'exited', '2', '3', '-', '1']);
    const web = rows.find(([name]) => name === 'web') ?? [];
    expect(web.slice(0, 4)).toEqual(['web', 'running', '1', '0']); // a restart, not a failure
    expect(web[5]).toBe('255'); // its old run's code is not known: it was stopped with the old daemon gone
    expect(isAlive(webPid)).toBe(false);
    webPid = Number(web[4]);
    const logFile = join(stateDir, 'logs', 'web.log');
    await waitFor(() => readFileSync(logFile, 'utf8').length === 9, 5_000, 'the third run of web to write its log');
    expect(await ok('logs', 'web')).toBe('up\nup\nup\n'); // one log across runs and daemons
  });

  it("survives its SIGKILL with live restore: the container is re-adopted, same pid, and reports its exit's real code", async () => {
    await killDaemon();
    daemon = await startDaemon('--live-restore');
    expect(daemon.lines).toContain(`restore web: running, pid ${webPid}`);
    expect((await row('web')).slice(0, 5)).toEqual(['web', 'running', '1', '0', String(webPid)]);
    expect(await ok('stop', 'web')).toBe('web\n');
    expect((await row('web')).slice(0, 6)).toEqual(['web', 'exited', '1', '0', '-', '3']); // not 255
    expect(isAlive(webPid)).toBe(false);
  });

  it('removes containers (a running one with -f only) and leaves nothing behind', async () => {
    await ok('start', 'web');
    expect(await mrt('rm', 'web')).toEqual({
      code: 1,
      signal: null,
      stdout: '',
      stderr: 'mrt: Cannot remove container web: it is running\n',
    });
    expect(await ok('rm', '-f', 'web')).toBe('web\n');
    expect(await ok('rm', 'flaky')).toBe('flaky\n');
    expect(await ps()).toEqual([['NAME', 'STATUS', 'RESTARTS', 'FAILURES', 'PID', 'EXIT CODE', 'STARTED']]);
    expect(await fixture.containers()).toEqual([]);
    expect(readdirSync(join(stateDir, 'logs'))).toEqual([]);
    expect(readdirSync(join(stateDir, 'run'))).toEqual([]);
    const child = daemon?.child;
    if (child === undefined) throw new Error('no daemon');
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    expect(await exited).toEqual([0, null]); // shut down cleanly
    expect(existsSync(join(stateDir, 'mrt.sock'))).toBe(false);
  });
});
