/**
 * The CLI's `run` in this process (so that its code is measured): over real child processes, and
 * over scripted workloads (runCli's `workload` option) for what real processes rarely give — a run
 * lost and collected by the GC, a restart that cannot start, a stop that fails, a signal at each
 * moment of the lifecycle. Scripted runs end when the test says so, on fake time.
 * test/integration/cli.test.ts runs the built bin the way a user does.
 */
import { fstatSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { useFakeClock } from '../support/fake-clock.js';
import { USAGE } from '../../src/cli/args.js';
import { FileStore } from '../../src/store/file-store.js';
import type { Run, RunNotification, Workload } from '../../src/index.js';
import { type ProcessRun, RUN_ID_ENV, processWorkload } from '../../src/workloads/process.js';
import { type CliTestOptions, cli } from '../support/cli.js';
import { writeStateFile } from '../support/supervisor-helpers.js';

const node = process.execPath;
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** A run the test ends by hand; a `stop` ends it with 143 unless `onStop` says otherwise. */
interface ScriptedRun extends Run {
  exitWith(code: number): void;
  lose(error: Error): void;
}

function scriptedRun(pid: number | undefined, onStop?: (run: ScriptedRun) => Promise<void>): ScriptedRun {
  let settle!: { resolve: (code: number) => void; reject: (error: Error) => void };
  const exit = new Promise<number>((resolve, reject) => (settle = { resolve, reject }));
  const run: ScriptedRun = {
    pid,
    exit,
    exitWith: (code) => {
      settle.resolve(code);
    },
    lose: (error) => {
      settle.reject(error);
    },
    stop: () => {
      if (onStop !== undefined) return onStop(run);
      run.exitWith(143);
      return Promise.resolve();
    },
  };
  return run;
}

/**
 * A scripted run that has written `notifications` on its notify fd: each listener gets them at once
 * (as a real run's kept ones); `kill` ends it with `onKill`'s code.
 */
function notifyingRun(pid: number, notifications: RunNotification[], onKill: (signal: string) => number): ScriptedRun {
  const run = scriptedRun(pid);
  return Object.assign(run, {
    onNotify: (listener: (notification: RunNotification) => void) => {
      notifications.forEach(listener);
      return () => undefined;
    },
    kill: (signal: NodeJS.Signals) => {
      run.exitWith(onKill(signal));
    },
  });
}

/** A workload whose n-th start (from 1) is `start(n)`, which may throw; the runs it made, in order. */
function scripted(start: (n: number) => ScriptedRun): {
  workload: () => Workload;
  runs: ScriptedRun[];
  readonly starts: number;
} {
  const runs: ScriptedRun[] = [];
  let starts = 0;
  return {
    workload: () => ({
      start: () => {
        const run = start(++starts);
        runs.push(run);
        return run;
      },
    }),
    runs,
    get starts() {
      return starts;
    },
  };
}

/** Ends the latest run with the next of `codes` each time the CLI says a run started. */
function exitOnStart(runs: ScriptedRun[], codes: number[]): (line: string) => void {
  return (line) => {
    if (line.includes('started pid')) runs.at(-1)?.exitWith(codes.shift() ?? 0);
  };
}

/** Replaces each "after N ms;" by "after T ms;". */
function withoutTimes(lines: string[]): string[] {
  return lines.map((line) => line.replace(/after \d+ ms;/, 'after T ms;'));
}

describe('runCli: help, version and usage errors', () => {
  it('prints the usage for --help and the version for --version, exactly, on stdout', async () => {
    expect(await cli(['--help'])).toEqual({ code: 0, out: [USAGE], err: [] });
    expect(await cli(['run', '-h'])).toEqual({ code: 0, out: [USAGE], err: [] });
    expect(await cli(['--version'])).toEqual({ code: 0, out: [version], err: [] });
  });

  it('refuses a bad policy or flag with 125, before making any workload', async () => {
    const workload = vi.fn(() => scripted((n) => scriptedRun(n)).workload());
    expect(await cli(['run', '--restart', 'always:3', '--', node, '-e', ''], { workload })).toEqual({
      code: 125,
      out: [],
      err: [
        "restart-manager: Maximum retry count cannot be used with restart policy 'always'",
        "See 'restart-manager --help'.",
      ],
    });
    expect(await cli(['run', '--jitter', '2', '--', 'x'], { workload })).toEqual({
      code: 125,
      out: [],
      err: [
        "restart-manager: Invalid value for --jitter: expected a number in [0, 1], got '2'",
        "See 'restart-manager --help'.",
      ],
    });
    expect((await cli(['run', '--nope'], { workload })).code).toBe(125);
    expect(workload).not.toHaveBeenCalled();
  });
});

describe('runCli: real child processes', () => {
  it('ends when the policy stops restarting, with the child exit code, one line per event', async () => {
    const { code, err } = await cli([
      'run',
      '--restart',
      'on-failure:2',
      '--name',
      'job',
      '--backoff-initial',
      '10',
      '--',
      node,
      '-e',
      'process.exit(3)',
    ]);
    expect(code).toBe(3);
    expect(err[0]).toBe(`restart-manager[job]: policy on-failure:2: ${node} -e process.exit(3)`);
    expect(err.filter((line) => line.includes('started pid'))).toHaveLength(3);
    const exits = err.filter((line) => line.includes('exited with code 3'));
    expect(withoutTimes(exits)).toEqual([
      'restart-manager[job]: exited with code 3 after T ms; failure count 1; restarting in 10 ms (policy-on-failure)',
      'restart-manager[job]: exited with code 3 after T ms; failure count 2; restarting in 20 ms (policy-on-failure)',
      'restart-manager[job]: exited with code 3 after T ms; failure count 3; not restarting (retry-limit)',
    ]);
    expect(err.find((line) => line.includes('(restart 2)'))).toMatch(
      /^restart-manager\[job\]: started pid \d+ \(restart 2\)$/,
    );
  });

  it('maps a command that is not found to 127 and one that cannot run to 126', async () => {
    const missing = await cli(['run', '--', '/nonexistent/command']);
    expect(missing.code).toBe(127);
    expect(missing.err.at(-1)).toMatch(/failed to start: spawn \/nonexistent\/command ENOENT/);
    expect((await cli(['run', '--', tmpdir()])).code).toBe(126);
  });

  it('gives the child the CLI own stdout (inherited)', async () => {
    const own = fstatSync(1, { bigint: true });
    const script =
      "const s = require('fs').fstatSync(1, { bigint: true }); process.exit(`${s.dev}:${s.ino}` === process.argv[1] ? 0 : 3)";
    const { code } = await cli(['run', '--', node, '-e', script, `${own.dev}:${own.ino}`]);
    expect(code).toBe(0);
  });

  it('a SIGTERM is a manual stop: the child is stopped and its code is the CLI status', async () => {
    let pid = 0;
    const { code, err } = await cli(
      [
        'run',
        '--restart',
        'always',
        '--name',
        'web',
        '--stop-timeout',
        '5000',
        '--',
        node,
        '-e',
        'setInterval(() => {}, 1000)',
      ],
      {
        onStderr: (line) => {
          const started = /started pid (\d+)/.exec(line);
          if (started !== null) {
            pid = Number(started[1]);
            process.emit('SIGTERM', 'SIGTERM');
          }
        },
      },
    );
    expect(code).toBe(143);
    expect(err).toContain('restart-manager[web]: SIGTERM: stopping (SIGTERM, SIGKILL after 5000 ms)');
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('a second signal kills a child that ignores SIGTERM at once', async () => {
    // The child says when it ignores SIGTERM and when it got one; the test signals on those lines.
    const script =
      "process.on('SIGTERM', () => console.log('got SIGTERM')); console.log('ready'); setInterval(() => {}, 1000)";
    const onChildLine = (line: string): void => {
      if (line === 'ready' || line === 'got SIGTERM') process.emit('SIGINT', 'SIGINT');
    };
    const piped = (command: string, args: readonly string[]): Workload => {
      const inner = processWorkload(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
      return {
        async start(signal) {
          const run = (await inner.start(signal)) as ProcessRun;
          let pending = '';
          run.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
            const lines = (pending + chunk).split('\n');
            pending = lines.pop() ?? '';
            lines.forEach(onChildLine);
          });
          return run;
        },
      };
    };
    // The stop would wait ten minutes before its own SIGKILL: the kill can only be the second signal's.
    const argv = ['run', '--restart', 'always', '--name', 'web', '--stop-timeout', '600000'];
    const { code, err } = await cli([...argv, '--', node, '-e', script], { workload: piped });
    expect(code).toBe(137);
    expect(err).toContain('restart-manager[web]: SIGINT: stopping (SIGTERM, SIGKILL after 600000 ms)');
    expect(err.some((line) => /^restart-manager\[web\]: SIGINT again: killing pid \d+$/.test(line))).toBe(true);
  });

  it('a state write that fails after the child started stops the child and ends with 125', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'restart-manager-cli-'));
    const dir = join(parent, 'state');
    let pid = 0;
    try {
      const { code, err } = await cli(
        ['run', '--state-dir', dir, '--name', 'b', '--', node, '-e', 'setTimeout(() => process.exit(5), 5000)'],
        {
          onStderr: (line) => {
            const started = /started pid (\d+)/.exec(line);
            if (started === null) return;
            pid = Number(started[1]);
            // The state dir becomes a regular file: the write of the running state fails.
            rmSync(dir, { recursive: true });
            writeFileSync(dir, '');
          },
        },
      );
      expect(code).toBe(125);
      expect(err.some((line) => /^restart-manager\[b\]: error: .*ENOTDIR.*; stopping$/.test(line))).toBe(true);
      expect(err.some((line) => line.startsWith('restart-manager[b]: exited with code 143'))).toBe(true);
      expect(() => process.kill(pid, 0)).toThrow();
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('says each health status, with the failures and the last output; --exit-on-unhealthy stops the child', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'restart-manager-cli-'));
    const file = join(dir, 'healthy');
    writeFileSync(file, '');
    try {
      const { code, err } = await cli(
        [
          'run',
          '--name',
          'web',
          '--health-cmd',
          `test -f ${file} || { echo sick; exit 1; }`,
          '--health-interval',
          '20ms',
          '--health-retries',
          '2',
          '--exit-on-unhealthy',
          '--',
          node,
          '-e',
          'setInterval(() => {}, 1e9)',
        ],
        {
          onStderr: (line) => {
            if (line.endsWith('health: healthy')) rmSync(file);
          },
        },
      );
      expect(code).toBe(143);
      expect(err.filter((line) => line.includes('health:'))).toEqual([
        // A check that printed nothing adds no "last check".
        'restart-manager[web]: health: healthy',
        'restart-manager[web]: health: unhealthy; 2 failure(s) in a row; last check: exit 1: sick',
      ]);
      expect(withoutTimes(err.filter((line) => line.includes('with code')))).toEqual([
        'restart-manager[web]: stopped as unhealthy with code 143 after T ms; failure count 1; not restarting (policy-no)',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exits 1, not 0, when a child stopped as unhealthy leaves 0 (it handles SIGTERM): the stop was a failure', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'restart-manager-cli-'));
    // The check fails once the child has made the file: once it handles SIGTERM.
    const file = join(dir, 'handles-sigterm');
    const { code, err } = await cli([
      'run',
      '--name',
      'web',
      '--health-cmd',
      `test ! -f ${file}`,
      '--health-interval',
      '20ms',
      '--health-retries',
      '1',
      '--exit-on-unhealthy',
      '--',
      node,
      '-e',
      `process.on("SIGTERM", () => process.exit(0)); require("fs").writeFileSync(${JSON.stringify(file)}, ""); setInterval(() => {}, 1e9)`,
    ]);
    await rm(dir, { recursive: true, force: true });
    expect(code).toBe(1);
    expect(withoutTimes(err.filter((line) => line.includes('with code')))).toEqual([
      'restart-manager[web]: stopped as unhealthy with code 0 after T ms; failure count 1; not restarting (policy-no)',
    ]);
  });

  it('--log sends the child stdout and stderr to the file, the CLI lines still to stderr; --run-dir holds the run directories, removed after', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'restart-manager-cli-'));
    const file = join(dir, 'child.log');
    const runs = join(dir, 'runs');
    // The run's directory is in --run-dir while it runs: the child lists it.
    const script = `console.log("out", require("fs").readdirSync(${JSON.stringify(runs)}).length); console.error("err"); process.exit(2)`;
    try {
      const { code, out, err } = await cli([
        'run',
        '--name',
        'job',
        '--log',
        file,
        '--run-dir',
        runs,
        '--',
        node,
        '-e',
        script,
      ]);
      expect(code).toBe(2);
      expect(out).toEqual([]);
      expect(await readFile(file, 'utf8')).toBe('out 1\nerr\n');
      expect(withoutTimes(err.slice(1))).toEqual([
        'restart-manager[job]: starting',
        expect.stringMatching(/^restart-manager\[job\]: started pid \d+$/) as unknown,
        'restart-manager[job]: exited with code 2 after T ms; failure count 1; not restarting (policy-no)',
      ]);
      expect(await readdir(runs)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--notify gives the child NOTIFY_FD=3: its STATUS= lines and its READY=1 are said', async () => {
    const script = [
      'const fs = require("fs"); const fd = Number(process.env.NOTIFY_FD);',
      'fs.writeSync(fd, "STATUS=warming up\\n");',
      'setTimeout(() => { fs.writeSync(fd, "READY=1\\nSTATUS=serving\\n"); setTimeout(() => process.exit(0), 50); }, 50);',
    ].join(' ');
    const { code, err } = await cli(['run', '--name', 'n', '--notify', '--', node, '-e', script]);
    expect(code).toBe(0);
    const said = err.filter((line) => /: (status|ready|started)/.test(line)).map((line) => line.replace(/\d+$/, 'N'));
    expect(said).toEqual([
      'restart-manager[n]: status: warming up',
      // READY=1 and the next STATUS= arrive together: the supervisor's start may be told after the status.
      ...(said[1]?.endsWith('serving') === true
        ? ['restart-manager[n]: status: serving', 'restart-manager[n]: started pid N', 'restart-manager[n]: ready']
        : ['restart-manager[n]: started pid N', 'restart-manager[n]: ready', 'restart-manager[n]: status: serving']),
    ]);
  });

  it('--metrics-port on a port that is taken exits 125 and starts nothing', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const script = scripted((n) => scriptedRun(n));
    try {
      const { code, err } = await cli(['run', '--name', 'm', '--metrics-port', String(port), '--', 'x'], {
        workload: script.workload,
      });
      expect(code).toBe(125);
      expect(err).toEqual([
        'restart-manager[m]: policy no: x',
        `restart-manager: Cannot serve metrics on 127.0.0.1:${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port}`,
      ]);
      expect(script.starts).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('persists the container with --state-dir, names its child by the state file, and drops a stopped earlier state', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'restart-manager-cli-'));
    const file = join(dir, 'job.json');
    const exitSixIfNamed = `process.exit(process.env.${RUN_ID_ENV} === process.argv[1] ? 6 : 3)`;
    try {
      for (let runs = 1; runs <= 2; runs++) {
        const { code, err } = await cli([
          'run',
          '--state-dir',
          dir,
          '--name',
          'job',
          '--',
          node,
          '-e',
          exitSixIfNamed,
          file,
        ]);
        expect(code).toBe(6);
        expect(err[2]).toMatch(/^restart-manager\[job\]: started pid \d+$/);
      }
      const state = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      expect(state).toMatchObject({
        id: 'job',
        status: 'exited',
        exitCode: 6,
        policy: { name: 'no', maximumRetryCount: 0 },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('with --state-dir, says why an earlier state file of the same name cannot be read, and runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'restart-manager-cli-'));
    writeFileSync(join(dir, 'job.json'), '{');
    const script = scripted((n) => scriptedRun(n));
    try {
      const { code, err } = await cli(['run', '--state-dir', dir, '--name', 'job', '--', 'x'], {
        workload: script.workload,
        onStderr: exitOnStart(script.runs, [0]),
      });
      expect(code).toBe(0);
      expect(err[1]).toMatch(/^restart-manager\[job\]: error: .*job\.json.*JSON/);
      expect(err.slice(2, 4)).toEqual(['restart-manager[job]: starting', 'restart-manager[job]: started pid 1']);
      expect(script.starts).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('with --state-dir, first stops the run an earlier CLI of the same name left, and no other', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'restart-manager-cli-'));
    await writeStateFile(dir, 'job', { status: 'running', pid: 77, handle: { run: 'earlier' } });
    await writeStateFile(dir, 'other', { status: 'running', pid: 88, handle: { run: 'other' } });
    const earlier = scriptedRun(77);
    const recovered: unknown[] = [];
    const script = scripted((n) => scriptedRun(n));
    const workload = (): Workload => ({
      ...script.workload(),
      recover: (handle) => {
        recovered.push(handle);
        return earlier;
      },
    });
    try {
      const { code, err } = await cli(['run', '--state-dir', dir, '--name', 'job', '--', 'x'], {
        workload,
        onStderr: exitOnStart(script.runs, [0]),
      });
      expect(code).toBe(0);
      expect(recovered).toEqual([{ run: 'earlier' }]);
      await expect(earlier.exit).resolves.toBe(143);
      expect(err.slice(0, 4)).toEqual([
        'restart-manager[job]: policy no: x',
        'restart-manager[job]: pid 77 of an earlier run is still running: stopping it',
        'restart-manager[job]: starting',
        'restart-manager[job]: started pid 1',
      ]);
      expect(JSON.parse(await readFile(join(dir, 'other.json'), 'utf8'))).toMatchObject({ status: 'running', pid: 88 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('with --state-dir, a second CLI of the same name is refused (125, starting nothing); one of another name runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'restart-manager-cli-'));
    const first = scripted((n) => scriptedRun(n));
    let firstStarted!: () => void;
    const started = new Promise<void>((resolve) => (firstStarted = resolve));
    const running = cli(['run', '--state-dir', dir, '--name', 'web', '--', 'x'], {
      workload: first.workload,
      onStderr: (line) => {
        if (line.includes('started pid')) firstStarted();
      },
    });
    try {
      await started;
      const twin = scripted((n) => scriptedRun(n));
      const refused = await cli(['run', '--state-dir', dir, '--name', 'web', '--', 'x'], { workload: twin.workload });
      expect(refused).toMatchObject({ code: 125 });
      expect(refused.err).toEqual([
        'restart-manager[web]: policy no: x',
        `restart-manager: The state of web in ${dir} is locked by process ${process.pid}`,
      ]);
      expect(twin.starts).toBe(0);

      const other = scripted((n) => scriptedRun(n));
      const { code } = await cli(['run', '--state-dir', dir, '--name', 'db', '--', 'x'], {
        workload: other.workload,
        onStderr: exitOnStart(other.runs, [4]),
      });
      expect(code).toBe(4);
    } finally {
      first.runs[0]?.exitWith(0);
      expect((await running).code).toBe(0);
      await rm(dir, { recursive: true, force: true });
    }
    expect(first.starts).toBe(1);
  });

  it('with --state-dir, is refused (125, starting nothing) while a store holds the whole directory; runs once it is closed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'restart-manager-cli-'));
    // A Supervisor's `stateDir` on the directory the CLIs share.
    const holder = new FileStore(dir);
    try {
      await holder.load();
      const refused = scripted((n) => scriptedRun(n));
      expect(
        await cli(['run', '--state-dir', dir, '--name', 'web', '--', 'x'], { workload: refused.workload }),
      ).toEqual({
        code: 125,
        out: [],
        err: [
          'restart-manager[web]: policy no: x',
          `restart-manager: State directory ${dir} is locked by process ${process.pid}`,
        ],
      });
      expect(refused.starts).toBe(0);
      expect(await readdir(dir)).toEqual([]);

      await holder.close();
      const script = scripted((n) => scriptedRun(n));
      const { code } = await cli(['run', '--state-dir', dir, '--name', 'web', '--', 'x'], {
        workload: script.workload,
        onStderr: exitOnStart(script.runs, [3]),
      });
      expect(code).toBe(3);
      expect(await readdir(dir)).toEqual(['web.json']);
    } finally {
      await holder.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exits 125 when the state directory cannot be made, starting nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'restart-manager-cli-'));
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, '');
    const script = scripted((n) => scriptedRun(n));
    try {
      const { code, err } = await cli(['run', '--state-dir', file, '--name', 'job', '--', 'x'], {
        workload: script.workload,
      });
      expect(code).toBe(125);
      expect(err).toHaveLength(2);
      expect(err[0]).toBe('restart-manager[job]: policy no: x');
      expect(err[1]).toMatch(/^restart-manager: .*(EEXIST|ENOTDIR)/);
      expect(script.starts).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('runCli: scripted workloads, on fake time', () => {
  useFakeClock();

  /** Runs the CLI, moving the fake clock from timer to timer until it ends. */
  async function cliOnFakeTime(
    argv: string[],
    options: CliTestOptions,
  ): Promise<{ code: number; out: string[]; err: string[] }> {
    let result: { code: number; out: string[]; err: string[] } | undefined;
    const running = cli(argv, options).then((value) => (result = value));
    for (let turn = 0; turn < 100 && result === undefined; turn++) await vi.advanceTimersToNextTimerAsync();
    if (result === undefined) throw new Error('the CLI did not end');
    return running;
  }

  it('says "started pid N" without a restart count the first time, with it after', async () => {
    const { workload, runs } = scripted((n) => scriptedRun(1000 + n));
    const { code, err } = await cliOnFakeTime(
      ['run', '--restart', 'on-failure', '--name', 'j', '--backoff-initial', '1', 'x'],
      { workload, onStderr: exitOnStart(runs, [1, 0]) },
    );
    expect(code).toBe(0);
    expect(withoutTimes(err)).toEqual([
      'restart-manager[j]: policy on-failure: x',
      'restart-manager[j]: starting',
      'restart-manager[j]: started pid 1001',
      'restart-manager[j]: exited with code 1 after T ms; failure count 1; restarting in 1 ms (policy-on-failure)',
      'restart-manager[j]: started pid 1002 (restart 1)',
      'restart-manager[j]: exited with code 0 after T ms; failure count 0; not restarting (clean-exit)',
    ]);
  });

  it('removes its signal handlers when it ends', async () => {
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const { workload, runs } = scripted((n) => scriptedRun(n));
    expect((await cliOnFakeTime(['run', 'x'], { workload, onStderr: exitOnStart(runs, [0]) })).code).toBe(0);
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(before);
  });

  it('a signal before the container is added starts nothing and ends with 128 + the signal', async () => {
    const script = scripted((n) => scriptedRun(n));
    const { code, err } = await cliOnFakeTime(['run', '--name', 'early', '--', 'x', 'y'], {
      workload: script.workload,
      onStderr: (line) => {
        if (line.includes('policy no')) process.emit('SIGTERM', 'SIGTERM');
      },
    });
    expect(code).toBe(143);
    expect(err).toEqual(['restart-manager[early]: policy no: x y', 'restart-manager[early]: SIGTERM: not starting']);
    expect(script.starts).toBe(0);
  });

  it('a restart that cannot start ends the CLI with docker run status (126 for EACCES)', async () => {
    const script = scripted((n) => {
      if (n > 1) throw Object.assign(new Error('spawn x EACCES'), { code: 'EACCES' });
      return scriptedRun(77);
    });
    const { code, err } = await cliOnFakeTime(['run', '--restart', 'always', '--name', 'j', 'x'], {
      workload: script.workload,
      onStderr: exitOnStart(script.runs, [2]),
    });
    expect(code).toBe(126);
    expect(err.at(-1)).toBe('restart-manager[j]: failed to start: spawn x EACCES');
    expect(script.starts).toBe(2);
  });

  it('a lost run is collected by the GC, then decided as exit 255', async () => {
    let stops = 0;
    const { workload, runs } = scripted(() =>
      scriptedRun(undefined, () => (++stops === 1 ? Promise.reject(new Error('still there')) : Promise.resolve())),
    );
    const { code, err } = await cliOnFakeTime(['run', '--name', 'g', 'x'], {
      workload,
      onStderr: (line) => {
        if (line.includes('started pid')) runs[0]?.lose(new Error('lost track'));
      },
    });
    expect(code).toBe(255);
    expect(withoutTimes(err)).toEqual([
      'restart-manager[g]: policy no: x',
      'restart-manager[g]: starting',
      'restart-manager[g]: started pid ?',
      'restart-manager[g]: garbage collection queued: lost track',
      'restart-manager[g]: garbage collection retry-failed after 1 attempt(s): still there',
      'restart-manager[g]: garbage collection collected after 2 attempt(s)',
      'restart-manager[g]: exited with code 255 after T ms; failure count 1; not restarting (policy-no)',
    ]);
  });

  it('a stop that fails is reported, and the CLI ends with the last exit code', async () => {
    const { workload } = scripted(() => scriptedRun(55, () => Promise.reject(new Error('refused'))));
    const { code, err } = await cliOnFakeTime(['run', '--restart', 'always', '--name', 's', 'x'], {
      workload,
      onStderr: (line) => {
        if (line.endsWith('started pid 55')) process.emit('SIGTERM', 'SIGTERM');
      },
    });
    expect(code).toBe(0);
    expect(err.slice(3)).toEqual([
      'restart-manager[s]: SIGTERM: stopping (SIGTERM, SIGKILL after 10000 ms)',
      'restart-manager[s]: garbage collection queued: refused',
      'restart-manager[s]: stop failed: Container s could not be stopped: Error: refused',
    ]);
  });

  it('a second signal whose kill fails says so; the run ending still ends the CLI', async () => {
    // The run takes no signal (no `kill`) and its stop does not end it: it ends when the test says.
    const { workload, runs } = scripted(() => scriptedRun(55, () => new Promise<void>(() => undefined)));
    const { code, err } = await cliOnFakeTime(['run', '--name', 'k', 'x'], {
      workload,
      onStderr: (line) => {
        if (line.endsWith('started pid 55')) process.emit('SIGTERM', 'SIGTERM');
        if (line.includes('SIGTERM: stopping')) process.emit('SIGINT', 'SIGINT');
        if (line.includes('kill failed')) runs[0]?.exitWith(137);
      },
    });
    expect(code).toBe(137);
    expect(withoutTimes(err.slice(3, 6))).toEqual([
      'restart-manager[k]: SIGTERM: stopping (SIGTERM, SIGKILL after 10000 ms)',
      'restart-manager[k]: SIGINT again: killing pid 55',
      'restart-manager[k]: kill failed: Cannot kill container k: its run takes no signal',
    ]);
  });

  it('a signal during the restart delay cancels the restart; a second one kills nothing', async () => {
    const script = scripted(() => scriptedRun(44));
    const { code, err } = await cliOnFakeTime(
      ['run', '--restart', 'always', '--backoff-initial', '5000', '--name', 'w', 'x'],
      {
        workload: script.workload,
        onStderr: (line) => {
          exitOnStart(script.runs, [4])(line);
          if (line.includes('restarting in 5000 ms')) process.emit('SIGTERM', 'SIGTERM');
          if (line.includes('SIGTERM: stopping')) process.emit('SIGINT', 'SIGINT');
        },
      },
    );
    expect(code).toBe(4);
    expect(err.slice(4)).toEqual([
      'restart-manager[w]: SIGTERM: stopping (SIGTERM, SIGKILL after 10000 ms)',
      'restart-manager[w]: SIGINT again: killing',
      'restart-manager[w]: pending restart canceled',
    ]);
    expect(script.starts).toBe(1);
  });

  it('reports an error event as a line and goes on (here: its own output failing once)', async () => {
    const { workload, runs } = scripted(() => scriptedRun(33));
    let thrown = false;
    const { code, err } = await cliOnFakeTime(['run', '--name', 'p', 'x'], {
      workload,
      onStderr: (line) => {
        if (!thrown && line.includes('started pid')) {
          thrown = true;
          runs[0]?.exitWith(3);
          throw new Error('output broke');
        }
      },
    });
    expect(code).toBe(3);
    expect(withoutTimes(err)).toEqual([
      'restart-manager[p]: policy no: x',
      'restart-manager[p]: starting',
      'restart-manager[p]: started pid 33',
      'restart-manager[p]: error: output broke',
      'restart-manager[p]: exited with code 3 after T ms; failure count 1; not restarting (policy-no)',
    ]);
  });

  it('--notify: says each new STATUS= text once, and ready once READY=1 is written', async () => {
    const ready: RunNotification[] = [
      { type: 'status', text: 'warming up' },
      { type: 'ready' },
      { type: 'status', text: 'serving' },
      { type: 'status', text: 'serving' },
    ];
    const { workload, runs } = scripted((n) => notifyingRun(n, ready, () => 134));
    const { code, err } = await cliOnFakeTime(['run', '--name', 'n', '--notify', 'x'], {
      workload,
      onStderr: (line) => {
        if (line.endsWith(': ready')) runs[0]?.exitWith(0);
      },
    });
    expect(code).toBe(0);
    expect(withoutTimes(err)).toEqual([
      'restart-manager[n]: policy no: x',
      'restart-manager[n]: starting',
      'restart-manager[n]: status: warming up',
      'restart-manager[n]: status: serving',
      'restart-manager[n]: started pid 1',
      'restart-manager[n]: ready',
      'restart-manager[n]: exited with code 0 after T ms; failure count 0; not restarting (policy-no)',
    ]);
  });

  it('--watchdog: a run silent past it is killed (SIGABRT), said so; a 0 it leaves makes the CLI exit 1', async () => {
    const signals: string[] = [];
    const { workload } = scripted((n) =>
      notifyingRun(n, [{ type: 'ready' }], (signal) => {
        signals.push(signal);
        return 0;
      }),
    );
    const { code, err } = await cliOnFakeTime(
      ['run', '--name', 'w', '--restart', 'always', '--backoff-initial', '5000', '--watchdog', '100ms', 'x'],
      {
        workload,
        onStderr: (line) => {
          if (line.includes('restarting in 5000 ms')) process.emit('SIGTERM', 'SIGTERM');
        },
      },
    );
    expect(code).toBe(1);
    expect(signals).toEqual(['SIGABRT']);
    expect(withoutTimes(err.slice(3))).toEqual([
      'restart-manager[w]: killed by the watchdog with code 0 after T ms; failure count 1; restarting in 5000 ms (watchdog)',
      'restart-manager[w]: SIGTERM: stopping (SIGTERM, SIGKILL after 10000 ms)',
      'restart-manager[w]: pending restart canceled',
    ]);
  });

  it('exits 1 for a 0 that on-failure gives up on (retry-limit): a watchdog kill decided as a failure', async () => {
    const { workload } = scripted((n) => notifyingRun(n, [{ type: 'ready' }], () => 0));
    const { code, err } = await cliOnFakeTime(
      ['run', '--name', 'w', '--restart', 'on-failure:1', '--backoff-initial', '1', '--watchdog', '100ms', 'x'],
      { workload },
    );
    expect(code).toBe(1);
    expect(withoutTimes(err.filter((line) => line.includes('with code')))).toEqual([
      'restart-manager[w]: killed by the watchdog with code 0 after T ms; failure count 1; restarting in 1 ms (watchdog)',
      'restart-manager[w]: killed by the watchdog with code 0 after T ms; failure count 2; not restarting (retry-limit)',
    ]);
  });

  it('exits 1 for a 0 left after a watchdog kill under --restart no, and says what killed it', async () => {
    const { workload } = scripted((n) => notifyingRun(n, [{ type: 'ready' }], () => 0));
    const { code, err } = await cliOnFakeTime(['run', '--name', 'w', '--restart', 'no', '--watchdog', '100ms', 'x'], {
      workload,
    });
    expect(code).toBe(1);
    expect(withoutTimes(err.filter((line) => line.includes('with code')))).toEqual([
      'restart-manager[w]: killed by the watchdog with code 0 after T ms; failure count 1; not restarting (policy-no)',
    ]);
  });
});
