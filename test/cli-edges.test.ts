/**
 * CLI edge cases, in this process: the command-line grammar's corners and exact usage errors, the
 * default output streams, and the lifecycle lines and exit statuses of runs that real processes
 * rarely give (a lost run collected by the GC, a restart that cannot start, a stop that fails, a
 * state write that fails, a second signal during the restart delay). Commands named `fake:…` are
 * scripted workloads; any other command is a real child process.
 */
import { fstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { USAGE, UsageError, parseCommandLine } from '../src/cli/args.js';
import { runCli } from '../src/cli/run.js';
import type { Run, Workload } from '../src/index.js';
import { cli } from './support/cli.js';

const fakes = new Map<string, Workload>();

vi.mock('../src/workloads/process.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/workloads/process.js')>();
  return {
    ...actual,
    processWorkload: (command: string, args?: string[], options?: object): Workload => {
      const fake = fakes.get(command);
      return fake ?? actual.processWorkload(command, args, options);
    },
  };
});

const node = process.execPath;
const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

afterEach(() => {
  fakes.clear();
  vi.restoreAllMocks();
});

/** A scripted run: `exit` settles when the test says so; `stop` does what `onStop` says. */
function scriptedRun(onStop: (run: ScriptedRun) => Promise<void>, pid?: number): ScriptedRun {
  let settle!: { resolve: (code: number) => void; reject: (error: Error) => void };
  const exit = new Promise<number>((resolve, reject) => (settle = { resolve, reject }));
  const run: ScriptedRun = {
    ...(pid !== undefined && { pid }),
    exit,
    exitWith: (code) => {
      settle.resolve(code);
    },
    lose: (error) => {
      settle.reject(error);
    },
    stop: () => onStop(run),
  };
  return run;
}

/** A run that exits with `code` 5 ms after it started, and whose stops succeed. */
function exitingRun(pid: number, code: number): ScriptedRun {
  const run = scriptedRun(() => Promise.resolve(), pid);
  setTimeout(() => {
    run.exitWith(code);
  }, 5);
  return run;
}

interface ScriptedRun extends Run {
  exitWith(code: number): void;
  lose(error: Error): void;
}

/** Replaces each "after N ms" by "after N ms" with N removed. */
function withoutTimes(lines: string[]): string[] {
  return lines.map((line) => line.replace(/after \d+ ms;/, 'after T ms;'));
}

describe('parseCommandLine corners', () => {
  it('names its error class UsageError', () => {
    let error: unknown;
    try {
      parseCommandLine(['start']);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).name).toBe('UsageError');
    expect(String(error)).toBe("UsageError: Unknown command 'start'");
  });

  it('after --, takes a word that looks like an option as the command', () => {
    expect(parseCommandLine(['run', '--', '--weird', 'a'])).toMatchObject({ command: '--weird', args: ['a'] });
    expect(parseCommandLine(['run', '--restart', 'always', '--', '-x'])).toMatchObject({
      command: '-x',
      args: [],
      policy: { name: 'always', maximumRetryCount: 0 },
    });
  });

  it('takes a lone - as the command', () => {
    expect(parseCommandLine(['run', '-', 'a'])).toMatchObject({ command: '-', args: ['a'] });
  });

  it('skips the value of a value option, given apart or with =, to find the command', () => {
    expect(parseCommandLine(['run', '--name', 'web', 'node', 'x'])).toMatchObject({
      name: 'web',
      command: 'node',
      args: ['x'],
    });
    expect(parseCommandLine(['run', '--profile=docker', 'node', 'x'])).toMatchObject({
      options: { profile: 'docker' },
      command: 'node',
      args: ['x'],
    });
    expect(parseCommandLine(['run', '--restart', 'on-failure:2', '--stop-timeout=5', 'sleep', '1'])).toMatchObject({
      policy: { name: 'on-failure', maximumRetryCount: 2 },
      stopTimeoutMs: 5,
      command: 'sleep',
      args: ['1'],
    });
  });

  it('refuses an empty command', () => {
    expect(() => parseCommandLine(['run', '--', ''])).toThrow(new UsageError('Missing COMMAND to run'));
    expect(() => parseCommandLine(['run', '--name', 'x'])).toThrow(new UsageError('Missing COMMAND to run'));
  });

  it('sets only the options given, with nothing undefined (the defaults: cli-args.test.ts)', () => {
    const command = parseCommandLine(['run', '--backoff-initial', '20', '--jitter', '0.5', 'x']);
    expect(command.kind === 'run' && command.options).toStrictEqual({ backoff: { initialMs: 20, jitter: 0.5 } });
    const limited = parseCommandLine(['run', '--max-restarts', '0', '--window', 'Infinity', 'x']);
    expect(limited.kind === 'run' && limited.options).toStrictEqual({
      rateLimit: { maxRestarts: 0, windowMs: Infinity },
    });
  });

  it.each([
    [['--stop-timeout', '0'], { stopTimeoutMs: 0 }],
    [['--backoff-multiplier', '1'], { options: { backoff: { multiplier: 1 } } }],
    [['--backoff-reset', '0'], { options: { backoff: { resetAfterMs: 0 } } }],
    [['--jitter', '0'], { options: { backoff: { jitter: 0 } } }],
    [['--jitter', '1'], { options: { backoff: { jitter: 1 } } }],
    [
      ['--restart-on-exit', '4294967295,0'],
      { options: { exitCodeRules: [{ action: 'restart', exitCodes: [4294967295, 0] }] } },
    ],
    [['--profile', 'isulad'], { options: { profile: 'isulad' } }],
  ])('accepts the boundary %j', (flags, expected) => {
    expect(parseCommandLine(['run', ...flags, '--', 'x'])).toMatchObject(expected);
  });

  it.each([
    ['--max-restarts', 'x', 'a non-negative integer', ['--window', '10']],
    ['--window', '-5', 'a positive number of ms or Infinity', ['--max-restarts', '1']],
    ['--backoff-initial', 'Infinity', 'a positive number of ms', []],
    ['--backoff-multiplier', '0.9', 'a number ≥ 1', []],
    ['--backoff-max', 'Infinity', 'a number of ms', []],
    ['--backoff-reset', 'soon', 'a number of ms or Infinity', []],
    ['--backoff-reset', '-1', 'a number of ms or Infinity', []],
    ['--jitter', '1.5', 'a number in [0, 1]', []],
    ['--jitter', 'half', 'a number in [0, 1]', []],
    ['--stop-timeout', '1e3', 'a number of ms', []],
    ['--restart-on-exit', '-1', 'comma-separated exit codes', []],
    ['--restart-on-exit', '1e3', 'comma-separated exit codes', []],
    ['--stop-on-exit', '0x1', 'comma-separated exit codes', []],
    ['--stop-on-exit', '1.5', 'comma-separated exit codes', []],
    ['--stop-on-exit', '4294967296', 'comma-separated exit codes', []],
  ])('refuses %s %s, saying it expects %s', (flag, value, expected, more) => {
    const call = (): unknown => parseCommandLine(['run', ...more, `${flag}=${value}`, '--', 'x']);
    expect(call).toThrow(UsageError);
    expect(call).toThrow(new UsageError(`Invalid value for ${flag}: expected ${expected}, got '${value}'`));
  });
});

describe('runCli output', () => {
  it('prints the usage for --help, exactly', async () => {
    expect(await cli(['--help'])).toEqual({ code: 0, out: [USAGE], err: [] });
    expect(await cli(['run', '-h'])).toEqual({ code: 0, out: [USAGE], err: [] });
    expect(USAGE).toContain('Usage: restart-manager run [OPTIONS] [--] COMMAND [ARG...]');
    expect(USAGE).toContain('125 for a bad option or policy');
  });

  it('writes to stdout and stderr by default, a line each', async () => {
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await runCli(['--version'])).toBe(0);
    expect(await runCli(['launch'])).toBe(125);
    const outCalls = stdout.mock.calls.map(([chunk]) => chunk);
    const errCalls = stderr.mock.calls.map(([chunk]) => chunk);
    stdout.mockRestore();
    stderr.mockRestore();
    expect(outCalls).toEqual([`${version}\n`]);
    expect(errCalls).toEqual(["restart-manager: Unknown command 'launch'\n", "See 'restart-manager --help'.\n"]);
  });

  it('reports a usage error from a flag with 125', async () => {
    expect(await cli(['run', '--jitter', '2', '--', 'x'])).toEqual({
      code: 125,
      out: [],
      err: [
        "restart-manager: Invalid value for --jitter: expected a number in [0, 1], got '2'",
        "See 'restart-manager --help'.",
      ],
    });
  });

  it('exits 125 when the state directory cannot be made, starting nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'restart-manager-cli-edges-'));
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, '');
    let starts = 0;
    fakes.set('fake:never', {
      start: () => {
        starts++;
        return scriptedRun(() => Promise.resolve());
      },
    });
    try {
      const { code, err } = await cli(['run', '--state-dir', file, '--name', 'job', '--', 'fake:never']);
      expect(code).toBe(125);
      expect(err).toHaveLength(2);
      expect(err[0]).toBe('restart-manager[job]: policy no: fake:never');
      expect(err[1]).toMatch(/^restart-manager: .*(EEXIST|ENOTDIR)/);
      expect(starts).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('removes its signal handlers when it ends', async () => {
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    fakes.set('fake:quick', {
      start: () => {
        const run = scriptedRun(() => Promise.resolve(), 1);
        queueMicrotask(() => {
          run.exitWith(0);
        });
        return run;
      },
    });
    expect((await cli(['run', '--', 'fake:quick'])).code).toBe(0);
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(before);
  });
});

describe('runCli lifecycle', () => {
  it('gives the child the CLI own stdout (inherited)', async () => {
    const own = fstatSync(1, { bigint: true });
    const script =
      "const s = require('fs').fstatSync(1, { bigint: true }); process.exit(`${s.dev}:${s.ino}` === process.argv[1] ? 0 : 3)";
    const { code } = await cli(['run', '--', node, '-e', script, `${own.dev}:${own.ino}`]);
    expect(code).toBe(0);
  });

  it('says "started pid N" without a restart count the first time, with it after', async () => {
    let runs = 0;
    fakes.set('fake:twice', {
      start: () => {
        runs++;
        return exitingRun(1000 + runs, runs === 1 ? 1 : 0);
      },
    });
    const { code, err } = await cli([
      'run',
      '--restart',
      'on-failure',
      '--name',
      'j',
      '--backoff-initial',
      '1',
      'fake:twice',
    ]);
    expect(code).toBe(0);
    expect(withoutTimes(err)).toEqual([
      'restart-manager[j]: policy on-failure: fake:twice',
      'restart-manager[j]: started pid 1001',
      'restart-manager[j]: exited with code 1 after T ms; failure count 1; restarting in 1 ms (policy-on-failure)',
      'restart-manager[j]: started pid 1002 (restart 1)',
      'restart-manager[j]: exited with code 0 after T ms; failure count 0; not restarting (clean-exit)',
    ]);
  });

  it('a restart that cannot start ends the CLI with docker run status (126 for EACCES)', async () => {
    let runs = 0;
    fakes.set('fake:eacces', {
      start: () => {
        runs++;
        if (runs > 1) throw Object.assign(new Error('spawn fake:eacces EACCES'), { code: 'EACCES' });
        return exitingRun(77, 2);
      },
    });
    const { code, err } = await cli([
      'run',
      '--restart',
      'always',
      '--name',
      'j',
      '--backoff-initial',
      '1',
      'fake:eacces',
    ]);
    expect(code).toBe(126);
    expect(err.at(-1)).toBe('restart-manager[j]: failed to start: spawn fake:eacces EACCES');
    expect(runs).toBe(2);
  });

  it('a lost run is collected by the GC, then decided as exit 255', async () => {
    let stops = 0;
    fakes.set('fake:lost', {
      start: () => {
        const run = scriptedRun(() => {
          stops++;
          return stops === 1 ? Promise.reject(new Error('still there')) : Promise.resolve();
        });
        setTimeout(() => {
          run.lose(new Error('lost track'));
        }, 5);
        return run;
      },
    });
    const { code, err } = await cli(['run', '--name', 'g', 'fake:lost']);
    expect(code).toBe(255);
    expect(withoutTimes(err)).toEqual([
      'restart-manager[g]: policy no: fake:lost',
      'restart-manager[g]: started pid ?',
      'restart-manager[g]: garbage collection queued: lost track',
      'restart-manager[g]: garbage collection retry-failed after 1 attempt(s): still there',
      'restart-manager[g]: garbage collection collected after 2 attempt(s)',
      'restart-manager[g]: exited with code 255 after T ms; failure count 1; not restarting (policy-no)',
    ]);
  });

  it('a stop that fails is reported, and the CLI ends with the last exit code', async () => {
    fakes.set('fake:stuck', {
      start: () => scriptedRun(() => Promise.reject(new Error('refused')), 55),
    });
    const { code, err } = await cli(['run', '--restart', 'always', '--name', 's', 'fake:stuck'], (line) => {
      if (line.endsWith('started pid 55')) process.emit('SIGTERM', 'SIGTERM');
    });
    expect(code).toBe(0);
    expect(err.slice(2)).toEqual([
      'restart-manager[s]: SIGTERM: stopping (SIGTERM, SIGKILL after 10000 ms)',
      'restart-manager[s]: garbage collection queued: refused',
      'restart-manager[s]: stop failed: Container s could not be stopped: Error: refused',
    ]);
  });

  it('a second signal while no child runs kills nothing', async () => {
    fakes.set('fake:exit4', {
      start: () => {
        return exitingRun(44, 4);
      },
    });
    const { code, err } = await cli(
      ['run', '--restart', 'always', '--backoff-initial', '5000', '--name', 'w', 'fake:exit4'],
      (line) => {
        if (line.includes('restarting in 5000 ms')) process.emit('SIGTERM', 'SIGTERM');
        if (line.includes('SIGTERM: stopping')) process.emit('SIGINT', 'SIGINT');
      },
    );
    expect(code).toBe(4);
    expect(err.slice(3)).toEqual([
      'restart-manager[w]: SIGTERM: stopping (SIGTERM, SIGKILL after 10000 ms)',
      'restart-manager[w]: SIGINT again: killing',
      'restart-manager[w]: pending restart canceled',
    ]);
  });

  it('reports an error event as a line and goes on (here: its own output failing once)', async () => {
    fakes.set('fake:exit3', {
      start: () => {
        return exitingRun(33, 3);
      },
    });
    let thrown = false;
    const { code, err } = await cli(['run', '--name', 'p', 'fake:exit3'], (line) => {
      if (!thrown && line.includes('started pid')) {
        thrown = true;
        throw new Error('output broke');
      }
    });
    expect(code).toBe(3);
    expect(withoutTimes(err)).toEqual([
      'restart-manager[p]: policy no: fake:exit3',
      'restart-manager[p]: started pid 33',
      'restart-manager[p]: error: output broke',
      'restart-manager[p]: exited with code 3 after T ms; failure count 1; not restarting (policy-no)',
    ]);
  });
});
