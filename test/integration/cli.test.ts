/**
 * The built `restart-manager` bin (`node dist/cli.js`), run the way a user runs it: a real process
 * with real signals, its exit status, its stdout (the child's, inherited) and its stderr (one line per
 * lifecycle event). Each run is its own process group, killed and checked gone after each test.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MostSeen, StartedGroups, errnoOfKill, processesWith } from '../support/processes.js';
import { waitFor } from '../support/wait-for.js';

const bin = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const packageJson = fileURLToPath(new URL('../../package.json', import.meta.url));
const node = process.execPath;

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running bin: its output so far, and its result once it has closed. */
interface Cli {
  readonly pid: number;
  readonly output: { stdout: string; stderr: string };
  readonly result: Promise<Result>;
}

/** Process groups started by the test (each bin is the leader of its own group), and their children. */
const started = new StartedGroups();
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'restart-manager-bin-'));
});

afterEach(async () => {
  const survivors = await started.killAll();
  await rm(dir, { recursive: true, force: true });
  expect(survivors, 'process groups still alive after the test').toEqual([]);
});

function startedPids(stderr: string): number[] {
  return [...stderr.matchAll(/started pid (\d+)/g)].map((match) => Number(match[1]));
}

/**
 * Starts the bin with `args` in its own process group; a `run` keeps its runs' directories in the
 * test's temp dir (`--run-dir`), removed with it, even for a bin the test kills.
 */
function launch(args: string[]): Cli {
  const withRunDir = args[0] === 'run' ? ['run', '--run-dir', join(dir, 'runs'), ...args.slice(1)] : args;
  const child = spawn(node, [bin, ...withRunDir], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const pid = child.pid ?? 0;
  expect(pid).toBeGreaterThan(0);
  started.groups.push(pid);
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output.stderr += chunk;
    for (const pid of startedPids(output.stderr)) if (!started.childPids.includes(pid)) started.childPids.push(pid);
  });
  const result = new Promise<Result>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      resolve({ code, signal, ...output });
    });
  });
  return { pid, output, result };
}

function cli(args: string[]): Promise<Result> {
  return launch(args).result;
}

/** `node -e code` as the command. */
function nodeScript(code: string): string[] {
  return [node, '-e', code];
}

/** Waits until the bin's output satisfies `predicate`. */
function waitForOutput(
  run: Cli,
  predicate: (output: { stdout: string; stderr: string }) => boolean,
  what: string,
): Promise<void> {
  return waitFor(() => predicate(run.output), 15_000, what);
}

describe('the restart-manager bin: help, version and usage errors', () => {
  it('--help prints the usage on stdout and exits 0', async () => {
    for (const args of [['--help'], ['-h'], ['run', '--help'], []]) {
      const result = await cli(args);
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout).toMatch(/^Usage: restart-manager run \[OPTIONS\] \[--\] COMMAND \[ARG\.\.\.\]/);
      expect(result.stdout).toContain('--restart POLICY');
      expect(result.stderr).toBe('');
    }
  });

  it("--version prints package.json's version", async () => {
    const { version } = JSON.parse(await readFile(packageJson, 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      expect(await cli([flag])).toEqual({ code: 0, signal: null, stdout: `${version}\n`, stderr: '' });
    }
  });

  it("a bad policy ('always:3') exits 125 with the policy message and starts nothing", async () => {
    const marker = join(dir, 'ran');
    const result = await cli([
      'run',
      '--restart',
      'always:3',
      '--',
      ...nodeScript(`require("fs").writeFileSync(${JSON.stringify(marker)}, "")`),
    ]);
    expect(result.code).toBe(125);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain("Maximum retry count cannot be used with restart policy 'always'");
    expect(result.stderr).not.toContain('started pid');
    expect(existsSync(marker)).toBe(false);
  });

  it.each([
    [['--restart', 'on-failure:-1'], 'Maximum retry count cannot be negative'],
    [['--restart', 'sometimes'], "Invalid restart policy 'sometimes'"],
    [['--restart', 'on-failure:1:2'], 'Invalid restart policy format'],
  ])('policy %j exits 125 with %j', async (flags, message) => {
    const result = await cli(['run', ...flags, '--', ...nodeScript('')]);
    expect(result.code).toBe(125);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toContain('started pid');
  });

  it('an unknown command exits 125 with exactly its message and a hint on stderr', async () => {
    expect(await cli(['launch'])).toEqual({
      code: 125,
      signal: null,
      stdout: '',
      stderr: "restart-manager: Unknown command 'launch'\nSee 'restart-manager --help'.\n",
    });
  });

  it('an unknown flag exits 125 and starts nothing', async () => {
    const result = await cli(['run', '--no-such-flag', '--', ...nodeScript('')]);
    expect(result.code).toBe(125);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('no-such-flag');
    expect(result.stderr).toContain("See 'restart-manager --help'.");
    expect(result.stderr).not.toContain('started pid');
  });

  it('a missing command exits 125', async () => {
    for (const args of [['run'], ['run', '--restart', 'always'], ['run', '--restart', 'always', '--']]) {
      const result = await cli(args);
      expect(result.code, args.join(' ')).toBe(125);
      expect(result.stderr).toContain('Missing COMMAND');
    }
  });

  it('a command that is not found exits 127; a directory as the command exits 126', async () => {
    const missing = await cli(['run', '--restart', 'always', '--', join(dir, 'no-such-binary')]);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain('ENOENT');
    expect(missing.stderr).not.toContain('started pid');
    const directory = await cli(['run', '--restart', 'always', '--', dir]);
    expect(directory.code).toBe(126);
    expect(directory.stderr).toContain('EACCES');
    expect(directory.stderr).not.toContain('started pid');
  });
});

describe('the restart-manager bin: running under a policy', () => {
  it('on-failure:2 with a child that exits 3: exits 3 after exactly 3 runs, saying each decision', async () => {
    const result = await cli(['run', '--restart', 'on-failure:2', '--', ...nodeScript('process.exit(3)')]);
    expect(result.code).toBe(3);
    expect(startedPids(result.stderr)).toHaveLength(3);
    expect(new Set(startedPids(result.stderr)).size).toBe(3);
    const exits = result.stderr.split('\n').filter((line) => line.includes('exited with code'));
    expect(exits).toHaveLength(3);
    expect(exits[0]).toMatch(/exited with code 3 after \d+ ms; failure count 1; restarting in 100 ms/);
    expect(exits[1]).toMatch(/exited with code 3 after \d+ ms; failure count 2; restarting in 200 ms/);
    expect(exits[2]).toMatch(/exited with code 3 after \d+ ms; failure count 3; not restarting \(retry-limit\)/);
    expect(result.stderr).toContain('(restart 2)');
  });

  it('--restart no with a child that exits 0 exits 0 after one run', async () => {
    const result = await cli(['run', '--restart', 'no', '--', ...nodeScript('process.exit(0)')]);
    expect(result.code).toBe(0);
    expect(startedPids(result.stderr)).toHaveLength(1);
    expect(result.stderr).toContain('not restarting (policy-no)');
  });

  it('a command given without `--` runs too, and its code is the exit status', async () => {
    const result = await cli(['run', '--restart', 'no', node, '-e', 'process.exit(5)']);
    expect(result.code).toBe(5);
    expect(startedPids(result.stderr)).toHaveLength(1);
  });

  it("inherits stdio: the child's stdout is the bin's stdout", async () => {
    const result = await cli([
      'run',
      '--restart',
      'on-failure:1',
      '--backoff-initial',
      '10',
      '--',
      // The texts are built at run time, so that the command line the bin echoes does not hold them.
      ...nodeScript('console.log("to " + "stdout"); console.error("to " + "stderr"); process.exit(2)'),
    ]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('to stdout\nto stdout\n');
    expect(result.stderr.match(/^to stderr$/gm)).toHaveLength(2);
    expect(result.stderr).not.toContain('to stdout');
  });

  it('says "starting" before the child runs: its lines come before the output of a child that prints at once', async () => {
    // The text is built at run time, so that the command line the bin echoes does not hold it.
    const result = await cli(['run', '--name', 'job', '--', ...nodeScript('console.error("child " + "says hi")')]);
    expect(result.code).toBe(0);
    const lines = result.stderr.split('\n');
    expect(lines.slice(0, 2)).toEqual([
      `restart-manager[job]: policy no: ${nodeScript('console.error("child " + "says hi")').join(' ')}`,
      'restart-manager[job]: starting',
    ]);
    // Whether "started pid" comes before the child's first line is a race the child may win.
    expect(lines.indexOf('child says hi')).toBeGreaterThan(1);
    expect(lines.filter((line) => line.includes('started pid'))).toHaveLength(1);
  });

  it('--max-restarts 2 --window 60000 with --restart always stops after 2 restarts (rate-limited)', async () => {
    const result = await cli([
      'run',
      '--restart',
      'always',
      '--max-restarts',
      '2',
      '--window',
      '60000',
      '--backoff-initial',
      '10',
      '--',
      ...nodeScript('process.exit(4)'),
    ]);
    expect(result.code).toBe(4);
    expect(startedPids(result.stderr)).toHaveLength(3);
    expect(result.stderr.match(/restarting in \d+ ms \(policy-always\)/g)).toHaveLength(2);
    expect(result.stderr).toContain('not restarting (rate-limited)');
  });

  it('--stop-on-exit 3 with --restart always does not restart a child that exits 3 (exit-code-rule)', async () => {
    const result = await cli([
      'run',
      '--restart',
      'always',
      '--stop-on-exit',
      '3',
      '--',
      ...nodeScript('process.exit(3)'),
    ]);
    expect(result.code).toBe(3);
    expect(startedPids(result.stderr)).toHaveLength(1);
    expect(result.stderr).toContain('not restarting (exit-code-rule)');
  });

  it('--restart-on-exit 7 with --restart no restarts a child that exits 7, once', async () => {
    const counter = join(dir, 'count');
    const code = [
      'const fs = require("fs");',
      `const file = ${JSON.stringify(counter)};`,
      'const runs = fs.existsSync(file) ? Number(fs.readFileSync(file, "utf8")) + 1 : 1;',
      'fs.writeFileSync(file, String(runs));',
      'process.exit(runs === 1 ? 7 : 0);',
    ].join(' ');
    const result = await cli([
      'run',
      '--restart',
      'no',
      '--restart-on-exit',
      '7',
      '--backoff-initial',
      '10',
      '--',
      ...nodeScript(code),
    ]);
    expect(result.code).toBe(0);
    expect(await readFile(counter, 'utf8')).toBe('2');
    expect(startedPids(result.stderr)).toHaveLength(2);
    expect(result.stderr).toContain('exited with code 7');
    expect(result.stderr).toContain('restarting in 10 ms (exit-code-rule)');
    expect(result.stderr).toContain('not restarting (policy-no)');
  });

  it('--state-dir persists <dir>/<name>.json, exited at the end', async () => {
    const stateDir = join(dir, 'state');
    const result = await cli([
      'run',
      '--state-dir',
      stateDir,
      '--name',
      'job',
      '--restart',
      'on-failure:1',
      '--backoff-initial',
      '10',
      '--',
      ...nodeScript('process.exit(9)'),
    ]);
    expect(result.code).toBe(9);
    expect(await readdir(stateDir)).toEqual(['job.json']);
    const state = JSON.parse(await readFile(join(stateDir, 'job.json'), 'utf8')) as Record<string, unknown>;
    expect(state).toMatchObject({
      id: 'job',
      status: 'exited',
      exitCode: 9,
      restartCount: 1,
      failureCount: 2,
      policy: { name: 'on-failure', maximumRetryCount: 1 },
      pid: null,
    });
  });
});

describe('the restart-manager bin: signals', () => {
  it('SIGTERM to the bin sends SIGTERM to the child; the bin exits 143 and the child is gone', async () => {
    const run = launch([
      'run',
      '--restart',
      'always',
      '--',
      ...nodeScript(
        'process.once("SIGTERM", () => { console.log("child got SIGTERM"); process.kill(process.pid, "SIGTERM"); });' +
          ' console.log("ready"); setInterval(() => {}, 1000)',
      ),
    ]);
    await waitForOutput(run, ({ stdout }) => stdout.includes('ready'), 'the child to be ready');
    const [childPid = 0] = startedPids(run.output.stderr);
    expect(errnoOfKill(childPid)).toBeUndefined();
    process.kill(run.pid, 'SIGTERM');
    const result = await run.result;
    expect(result.code).toBe(143);
    expect(result.stdout).toContain('child got SIGTERM');
    expect(result.stderr).toContain('SIGTERM: stopping');
    expect(result.stderr).toContain('exited with code 143');
    expect(startedPids(result.stderr)).toEqual([childPid]);
    await waitFor(() => errnoOfKill(childPid) === 'ESRCH', 10_000, 'the child to be gone');
  });

  it('SIGINT while the child ignores SIGTERM, with --stop-timeout 300: SIGKILL after the timeout, exit 137', async () => {
    const run = launch([
      'run',
      '--restart',
      'always',
      '--stop-timeout',
      '300',
      '--',
      ...nodeScript(
        'process.on("SIGTERM", () => console.log("ignored SIGTERM")); console.log("ready"); setInterval(() => {}, 1000)',
      ),
    ]);
    await waitForOutput(run, ({ stdout }) => stdout.includes('ready'), 'the child to be ready');
    const [childPid = 0] = startedPids(run.output.stderr);
    const before = performance.now();
    process.kill(run.pid, 'SIGINT');
    const result = await run.result;
    expect(result.code).toBe(137);
    expect(performance.now() - before).toBeGreaterThanOrEqual(290);
    expect(result.stdout).toContain('ignored SIGTERM');
    expect(result.stderr).toContain('SIGINT: stopping (SIGTERM, SIGKILL after 300 ms)');
    expect(startedPids(result.stderr)).toEqual([childPid]);
    await waitFor(() => errnoOfKill(childPid) === 'ESRCH', 10_000, 'the child to be gone');
  });

  it('a second signal kills a child that ignores SIGTERM at once, without waiting for the stop timeout', async () => {
    const run = launch([
      'run',
      '--restart',
      'always',
      '--stop-timeout',
      '60000',
      '--',
      ...nodeScript(
        'process.on("SIGTERM", () => console.log("ignored SIGTERM")); console.log("ready"); setInterval(() => {}, 1000)',
      ),
    ]);
    await waitForOutput(run, ({ stdout }) => stdout.includes('ready'), 'the child to be ready');
    process.kill(run.pid, 'SIGTERM');
    await waitForOutput(run, ({ stdout }) => stdout.includes('ignored SIGTERM'), 'the child to get SIGTERM');
    const before = performance.now();
    process.kill(run.pid, 'SIGTERM');
    const result = await run.result;
    expect(result.code).toBe(137);
    expect(performance.now() - before).toBeLessThan(30_000);
    expect(result.stderr).toMatch(/SIGTERM again: killing pid \d+/);
  });

  it('a signal during a pending restart cancels it: the bin exits with the last code, no further run', async () => {
    const run = launch([
      'run',
      '--restart',
      'always',
      '--backoff-initial',
      '3000',
      '--',
      ...nodeScript('process.exit(1)'),
    ]);
    await waitForOutput(run, ({ stderr }) => stderr.includes('restarting in 3000 ms'), 'the pending restart');
    process.kill(run.pid, 'SIGTERM');
    const result = await run.result;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('pending restart canceled');
    expect(startedPids(result.stderr)).toHaveLength(1);
    expect(result.stderr).not.toContain('(restart 1)');
  });
});

/**
 * A child that says `ready` once it answers SIGTERM (by exiting 0), then idles; `marker` in its argv
 * to count it by.
 */
function idle(marker: string): string[] {
  const script = 'process.on("SIGTERM", () => process.exit(0)); console.log("ready"); setInterval(() => {}, 1e9)';
  return [...nodeScript(script), marker];
}

/** How many children of the bin said `ready`. */
function readyChildren(run: Cli): number {
  return run.output.stdout.split('ready').length - 1;
}

describe('the restart-manager bin: killed, then run again', () => {
  it('finds the child its killed run left, stops it, and starts one: never two copies', async () => {
    const marker = `restart-manager-cli-survivor-${process.pid}`;
    // The bins' own argv holds the marker too: only their children count.
    const children = (): number[] => processesWith(marker).filter((pid) => !started.groups.includes(pid));
    const copies = new MostSeen(() => children().length);
    try {
      const stateDir = join(dir, 'state');
      const args = ['run', '--restart', 'always', '--name', 'web', '--state-dir', stateDir, '--', ...idle(marker)];
      const first = launch(args);
      await waitForOutput(first, ({ stderr }) => startedPids(stderr).length === 1, 'the first child');
      const [survivor] = startedPids(first.output.stderr);
      // Killed once the child's handle is on disk (the instant before is the workload id's job).
      const handleOnDisk = (): boolean =>
        (JSON.parse(readFileSync(join(stateDir, 'web.json'), 'utf8')) as { handle?: { pid?: number } }).handle?.pid ===
        survivor;
      await waitFor(handleOnDisk, 10_000, 'the handle on disk');
      process.kill(-first.pid, 'SIGKILL');
      // Not `close`: the child it leaves still holds the pipes it inherited.
      await waitFor(() => errnoOfKill(first.pid) === 'ESRCH', 5_000, 'the killed bin to be gone');
      // The child lives on, in its own process group, as a container outlives a dead daemon.
      expect(children()).toEqual([survivor]);

      const second = launch(args);
      await waitForOutput(second, ({ stderr }) => startedPids(stderr).length === 1, 'the second child');
      expect(second.output.stderr).toContain(`pid ${String(survivor)} of an earlier run is still running: stopping it`);
      const [replacement] = startedPids(second.output.stderr);
      expect(children()).toEqual([replacement]);
      await waitForOutput(second, () => readyChildren(second) === 1, 'the child ready');
      process.kill(second.pid, 'SIGTERM');
      expect((await second.result).code).toBe(0);
      expect(children()).toEqual([]);
    } finally {
      copies.stop();
    }
    expect(copies.most).toBe(1);
  });
});

describe('the restart-manager bin: several on one --state-dir', () => {
  it('a second bin of the same --name exits 125 naming the first one’s pid, starting nothing; one of another name runs', async () => {
    const marker = `restart-manager-cli-twin-${process.pid}`;
    const stateDir = join(dir, 'state');
    const args = (name: string, policy: string, command: string[]): string[] => [
      ...['run', '--restart', policy, '--name', name, '--state-dir', stateDir, '--'],
      ...command,
    ];
    const first = launch(args('web', 'always', idle(marker)));
    await waitForOutput(first, () => readyChildren(first) === 1, 'the first child ready');

    const twin = await cli(args('web', 'always', idle(marker)));
    expect(twin.code).toBe(125);
    expect(twin.stderr.split('\n')).toEqual([
      `restart-manager[web]: policy always: ${idle(marker).join(' ')}`,
      `restart-manager: The state of web in ${stateDir} is locked by process ${first.pid}`,
      '',
    ]);
    expect(twin.stdout).toBe('');

    const other = await cli(args('db', 'no', nodeScript('process.exit(4)')));
    expect(other.code).toBe(4);
    expect((await readdir(stateDir)).sort()).toEqual(['db.json', 'web.json']);

    process.kill(first.pid, 'SIGTERM');
    expect((await first.result).code).toBe(0);
    expect(startedPids(first.output.stderr)).toHaveLength(1);
  });
});

describe('the restart-manager bin: health checks', () => {
  it('--exit-on-unhealthy stops a child whose check starts failing; always restarts it, healthy again', async () => {
    const file = join(dir, 'healthy');
    await writeFile(file, '');
    const run = launch([
      'run',
      '--restart',
      'always',
      '--name',
      'web',
      '--health-cmd',
      `test -f ${file}`,
      '--health-interval',
      '100ms',
      '--health-retries',
      '2',
      '--exit-on-unhealthy',
      '--',
      ...idle(`restart-manager-cli-health-${process.pid}`),
    ]);
    await waitForOutput(run, ({ stderr }) => stderr.includes('health: healthy'), 'healthy');
    await rm(file);
    await waitForOutput(run, ({ stderr }) => startedPids(stderr).length === 2, 'the restart');
    const lines = run.output.stderr.split('\n');
    expect(lines.find((line) => line.includes('health: unhealthy'))).toMatch(
      /health: unhealthy; 2 failure\(s\) in a row; last check: exit 1/,
    );
    expect(lines.find((line) => line.includes('stopped as unhealthy'))).toMatch(
      /stopped as unhealthy with code 0 after \d+ ms; failure count 1; restarting in 100 ms \(policy-always\)/,
    );
    await writeFile(file, '');
    await waitForOutput(run, ({ stderr }) => stderr.split('health: healthy').length === 3, 'healthy again');
    await waitForOutput(run, () => readyChildren(run) === 2, 'the second child ready');
    process.kill(run.pid, 'SIGTERM');
    expect((await run.result).code).toBe(0);
  });
});

describe('the restart-manager bin: watchdog, memory and metrics', () => {
  it('--watchdog kills a child that stops writing WATCHDOG=1, and says so', async () => {
    const script =
      'require("fs").writeSync(Number(process.env.NOTIFY_FD), "READY=1\\n"); console.log("ready"); setInterval(() => {}, 1e9)';
    const run = launch([
      ...['run', '--name', 'w', '--restart', 'on-failure', '--backoff-initial', '5000', '--watchdog', '200ms'],
      ...['--', ...nodeScript(script)],
    ]);
    await waitForOutput(run, ({ stderr }) => stderr.includes('restarting in 5000 ms'), 'the watchdog kill');
    process.kill(run.pid, 'SIGTERM');
    const result = await run.result;
    // SIGABRT: 128 + 6.
    expect(result.code).toBe(134);
    expect(result.stderr).toMatch(
      /killed by the watchdog with code 134 after \d+ ms; failure count 1; restarting in 5000 ms \(watchdog\)/,
    );
  });

  it('--max-memory stops a child whose process group uses more, and says so', async () => {
    const script =
      'globalThis.kept = Buffer.alloc(96 * 1024 * 1024, 1); console.log("ready"); setInterval(() => {}, 1e9)';
    const run = launch([
      ...['run', '--name', 'm', '--restart', 'on-failure', '--backoff-initial', '5000'],
      ...['--max-memory', '64M', '--memory-check', '100ms', '--', ...nodeScript(script)],
    ]);
    await waitForOutput(run, ({ stderr }) => stderr.includes('restarting in 5000 ms'), 'the memory stop');
    process.kill(run.pid, 'SIGTERM');
    const result = await run.result;
    expect(result.code).toBe(143);
    expect(result.stderr).toMatch(
      /stopped over its memory limit with code 143 after \d+ ms; failure count 1; restarting in 5000 ms \(memory\)/,
    );
  });

  it('--metrics-port serves the supervisor metrics as Prometheus text while it runs, and nothing once it ends', async () => {
    const run = launch([
      ...['run', '--name', 'api', '--restart', 'on-failure', '--backoff-initial', '3000', '--metrics-port', '0'],
      ...['--', ...nodeScript('process.exit(3)')],
    ]);
    await waitForOutput(run, ({ stderr }) => stderr.includes('restarting in 3000 ms'), 'the pending restart');
    const port = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(run.output.stderr)?.[1];
    expect(port).toMatch(/^\d+$/);
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(response.status).toBe(200);
    const samples = (await response.text()).split('\n').filter((line) => !line.startsWith('#'));
    expect(samples).toEqual(
      expect.arrayContaining([
        'restart_manager_restarts_total{container="api",reason="policy-on-failure"} 1',
        'restart_manager_exits_total{container="api",exit_code="3"} 1',
        'restart_manager_restart_delay_count 1',
        'restart_manager_restart_delay_sum 3000',
        'restart_manager_restart_delay_bucket{le="1600"} 0',
        'restart_manager_restart_delay_bucket{le="3200"} 1',
        'restart_manager_containers{status="restarting"} 1',
        'restart_manager_containers{status="running"} 0',
      ]),
    );
    process.kill(run.pid, 'SIGTERM');
    expect((await run.result).code).toBe(3);
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });
});
