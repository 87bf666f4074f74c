/** The CLI's command line (`parseCommandLine`): help, version, every option, where the command starts, and usage errors. */
import { describe, expect, it } from 'vitest';
import { USAGE, UsageError, parseCommandLine } from '../../src/cli/args.js';
import { RestartPolicyError } from '../../src/index.js';

describe('parseCommandLine', () => {
  it.each([[[]], [['--help']], [['-h']], [['help']], [['run', '--help']], [['run', '-h', '--', 'x']]])(
    '%j asks for help',
    (argv) => {
      expect(parseCommandLine(argv)).toEqual({ kind: 'help' });
    },
  );

  it.each([[['--version']], [['-V']], [['run', '--version']]])('%j asks for the version', (argv) => {
    expect(parseCommandLine(argv)).toEqual({ kind: 'version' });
  });

  it('reads a run with every option', () => {
    const command = parseCommandLine([
      'run',
      '--restart',
      'on-failure:3',
      '--name',
      'web.1',
      '--stop-timeout',
      '2500',
      '--state-dir',
      '/tmp/state',
      '--profile',
      'docker',
      '--backoff-initial',
      '50',
      '--backoff-multiplier',
      '1.5',
      '--backoff-max=5000',
      '--backoff-reset',
      'Infinity',
      '--jitter',
      '0.25',
      '--max-restarts',
      '5',
      '--window',
      '60000',
      '--restart-on-exit',
      '42, 43',
      '--stop-on-exit',
      '3',
      '--log',
      'web.log',
      '--log-max-size',
      '2M',
      '--log-max-files',
      '5',
      '--notify',
      '--watchdog',
      '1.5s',
      '--max-memory',
      '512M',
      '--memory-check',
      '250ms',
      '--metrics-port',
      '9464',
      '--run-dir',
      '/tmp/runs',
      '--',
      'node',
      '-e',
      'process.exit(1)',
    ]);
    expect(command).toEqual({
      kind: 'run',
      policy: { name: 'on-failure', maximumRetryCount: 3 },
      name: 'web.1',
      stopTimeoutMs: 2_500,
      stateDir: '/tmp/state',
      options: {
        profile: 'docker',
        backoff: { initialMs: 50, multiplier: 1.5, maxMs: 5_000, resetAfterMs: Infinity, jitter: 0.25 },
        rateLimit: { maxRestarts: 5, windowMs: 60_000 },
        exitCodeRules: [
          { action: 'stop', exitCodes: [3] },
          { action: 'restart', exitCodes: [42, 43] },
        ],
      },
      watch: { readiness: 'notify', watchdogMs: 1_500, maxMemoryBytes: 536_870_912, memoryCheckMs: 250 },
      child: { log: { path: 'web.log', maxBytes: 2_097_152, maxFiles: 5 }, notify: true, runDir: '/tmp/runs' },
      metricsPort: 9_464,
      command: 'node',
      args: ['-e', 'process.exit(1)'],
    });
  });

  it('defaults to policy no and no options', () => {
    expect(parseCommandLine(['run', '--', 'true'])).toStrictEqual({
      kind: 'run',
      policy: { name: 'no', maximumRetryCount: 0 },
      name: undefined,
      stopTimeoutMs: undefined,
      stateDir: undefined,
      options: {},
      health: undefined,
      watch: {},
      child: { log: undefined, notify: false, runDir: undefined },
      metricsPort: undefined,
      command: 'true',
      args: [],
    });
  });

  it('reads a health check: a shell command, durations in ms or with a unit, retries, exit-on-unhealthy', () => {
    const argv = ['run', '--health-cmd', 'curl -f localhost', '--health-interval', '5s', '--health-timeout', '750'];
    const more = ['--health-retries', '2', '--health-start-period', '1.5m', '--health-start-interval', '500ms'];
    const command = parseCommandLine([...argv, ...more, '--exit-on-unhealthy', '--', 'x']);
    expect(command.kind === 'run' && command.health).toStrictEqual({
      command: 'curl -f localhost',
      intervalMs: 5_000,
      timeoutMs: 750,
      retries: 2,
      startPeriodMs: 90_000,
      startIntervalMs: 500,
      exitOnUnhealthy: true,
    });
    const plain = parseCommandLine(['run', '--health-cmd', 'true', 'x']);
    expect(plain.kind === 'run' && plain.health).toMatchObject({ intervalMs: undefined, exitOnUnhealthy: false });
  });

  it('sets only the options given, with nothing undefined', () => {
    const command = parseCommandLine(['run', '--backoff-initial', '20', '--jitter', '0.5', 'x']);
    expect(command.kind === 'run' && command.options).toStrictEqual({ backoff: { initialMs: 20, jitter: 0.5 } });
    const limited = parseCommandLine(['run', '--max-restarts', '0', '--window', 'Infinity', 'x']);
    expect(limited.kind === 'run' && limited.options).toStrictEqual({
      rateLimit: { maxRestarts: 0, windowMs: Infinity },
    });
  });

  it.each([
    [['run', '--restart', 'always', 'node', '--inspect', '-e', '1'], 'node', ['--inspect', '-e', '1']],
    [['run', '--', 'npm', 'run', 'x', '--', '--flag'], 'npm', ['run', 'x', '--', '--flag']],
    [['run', '--', '--weird', 'a'], '--weird', ['a']],
    [['run', '--restart', 'always', '--', '-x'], '-x', []],
    [['run', '-', 'a'], '-', ['a']],
    [['run', '--name', 'web', 'node', 'x'], 'node', ['x']],
    [['run', '--profile=docker', 'node', 'x'], 'node', ['x']],
    [['run', '--restart', 'on-failure:2', '--stop-timeout=5', 'sleep', '1'], 'sleep', ['1']],
  ])(
    'finds the command of %j: the first word that is not an option or its value, or the word after --',
    (argv, command, args) => {
      expect(parseCommandLine(argv)).toMatchObject({ kind: 'run', command, args });
    },
  );

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
    [['--health-cmd', 'true', '--health-retries', '1'], { health: { retries: 1 } }],
    [['--health-cmd', 'true', '--health-interval', '1.25s'], { health: { intervalMs: 1_250 } }],
    [['--log', 'x.log'], { child: { log: { path: 'x.log', maxBytes: undefined, maxFiles: undefined } } }],
    [['--log', 'x.log', '--log-max-files', '1'], { child: { log: { maxFiles: 1 } } }],
    [['--log', 'x.log', '--log-max-size', '1'], { child: { log: { maxBytes: 1 } } }],
    [['--log', 'x.log', '--log-max-size', '1K'], { child: { log: { maxBytes: 1_024 } } }],
    [['--max-memory', '2G'], { watch: { maxMemoryBytes: 2_147_483_648 } }],
    [['--max-memory', '1000'], { watch: { maxMemoryBytes: 1_000 } }],
    // A watchdog gives the child its notify fd, but its start is done at once without --notify.
    [['--watchdog', '500'], { watch: { watchdogMs: 500 }, child: { notify: true } }],
    [['--watchdog', '1m'], { watch: { watchdogMs: 60_000 } }],
    [['--metrics-port', '0'], { metricsPort: 0 }],
    [['--metrics-port', '65535'], { metricsPort: 65_535 }],
  ])('accepts the boundary %j', (flags, expected) => {
    expect(parseCommandLine(['run', ...flags, '--', 'x'])).toMatchObject(expected);
  });

  it.each([
    [['start'], "Unknown command 'start'"],
    [['run'], 'Missing COMMAND to run'],
    [['run', '--'], 'Missing COMMAND to run'],
    [['run', '--', ''], 'Missing COMMAND to run'],
    [['run', '--name', 'x'], 'Missing COMMAND to run'],
    [['run', '--bogus', '--', 'x'], "Unknown option '--bogus'"],
    [['run', '--restart'], "Option '--restart <value>' argument missing"],
    [
      ['run', '--name', '../x', '--', 'x'],
      "Invalid container id '../x': expected [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128 characters",
    ],
    [
      ['run', '--name=-rf', '--', 'x'],
      "Invalid container id '-rf': expected [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128 characters",
    ],
    [['run', '--stop-timeout=-1', '--', 'x'], "Invalid value for --stop-timeout: expected a number of ms, got '-1'"],
    [
      ['run', '--stop-timeout', 'Infinity', '--', 'x'],
      "Invalid value for --stop-timeout: expected a number of ms, got 'Infinity'",
    ],
    [
      ['run', '--stop-timeout', '1e3', '--', 'x'],
      "Invalid value for --stop-timeout: expected a number of ms, got '1e3'",
    ],
    [
      ['run', '--backoff-initial', '0', '--', 'x'],
      "Invalid value for --backoff-initial: expected a positive number of ms, got '0'",
    ],
    [
      ['run', '--backoff-initial', '1e3', '--', 'x'],
      "Invalid value for --backoff-initial: expected a positive number of ms, got '1e3'",
    ],
    [
      ['run', '--backoff-initial', 'Infinity', '--', 'x'],
      "Invalid value for --backoff-initial: expected a positive number of ms, got 'Infinity'",
    ],
    [
      ['run', '--backoff-multiplier', '0.9', '--', 'x'],
      "Invalid value for --backoff-multiplier: expected a number ≥ 1, got '0.9'",
    ],
    [
      ['run', '--backoff-max', 'Infinity', '--', 'x'],
      "Invalid value for --backoff-max: expected a number of ms, got 'Infinity'",
    ],
    [
      ['run', '--backoff-max', '50', '--', 'x'],
      'Expected `backoff.maxMs` to be a finite number ≥ backoff.initialMs (100), got 50',
    ],
    [
      ['run', '--backoff-reset', 'soon', '--', 'x'],
      "Invalid value for --backoff-reset: expected a number of ms or Infinity, got 'soon'",
    ],
    [
      ['run', '--backoff-reset=-1', '--', 'x'],
      "Invalid value for --backoff-reset: expected a number of ms or Infinity, got '-1'",
    ],
    [['run', '--jitter', '1.5', '--', 'x'], "Invalid value for --jitter: expected a number in [0, 1], got '1.5'"],
    [['run', '--jitter', 'half', '--', 'x'], "Invalid value for --jitter: expected a number in [0, 1], got 'half'"],
    [['run', '--jitter=-0.5', '--', 'x'], "Invalid value for --jitter: expected a number in [0, 1], got '-0.5'"],
    [['run', '--max-restarts', '3', '--', 'x'], '--max-restarts and --window go together'],
    [['run', '--window', '10', '--', 'x'], '--max-restarts and --window go together'],
    [
      ['run', '--window', '10', '--max-restarts', 'x', '--', 'x'],
      "Invalid value for --max-restarts: expected a non-negative integer, got 'x'",
    ],
    [
      ['run', '--window', '10', '--max-restarts', '1.5', '--', 'x'],
      "Invalid value for --max-restarts: expected a non-negative integer, got '1.5'",
    ],
    [
      ['run', '--max-restarts', '1', '--window', '0', '--', 'x'],
      "Invalid value for --window: expected a positive number of ms or Infinity, got '0'",
    ],
    [
      ['run', '--max-restarts', '1', '--window=-5', '--', 'x'],
      "Invalid value for --window: expected a positive number of ms or Infinity, got '-5'",
    ],
    [
      ['run', '--restart-on-exit=-1', '--', 'x'],
      "Invalid value for --restart-on-exit: expected comma-separated exit codes, got '-1'",
    ],
    [
      ['run', '--restart-on-exit', '1e3', '--', 'x'],
      "Invalid value for --restart-on-exit: expected comma-separated exit codes, got '1e3'",
    ],
    [
      ['run', '--restart-on-exit', '4294967296', '--', 'x'],
      "Invalid value for --restart-on-exit: expected comma-separated exit codes, got '4294967296'",
    ],
    [
      ['run', '--stop-on-exit', '1,x', '--', 'x'],
      "Invalid value for --stop-on-exit: expected comma-separated exit codes, got '1,x'",
    ],
    [['run', '--health-interval', '5s', '--', 'x'], '--health-interval needs --health-cmd'],
    [['run', '--exit-on-unhealthy', '--', 'x'], '--exit-on-unhealthy needs --health-cmd'],
    [['run', '--health-cmd', ' ', '--', 'x'], 'Invalid value for --health-cmd: expected a command, got an empty one'],
    [
      ['run', '--health-cmd', 'true', '--health-interval', '5 s', '--', 'x'],
      "Invalid value for --health-interval: expected a positive duration (ms, or 500ms, 5s, 1m, 1h), got '5 s'",
    ],
    [
      ['run', '--health-cmd', 'true', '--health-interval', 'x5s', '--', 'x'],
      "Invalid value for --health-interval: expected a positive duration (ms, or 500ms, 5s, 1m, 1h), got 'x5s'",
    ],
    [
      ['run', '--health-cmd', 'true', '--health-start-interval', '0', '--', 'x'],
      "Invalid value for --health-start-interval: expected a positive duration (ms, or 500ms, 5s, 1m, 1h), got '0'",
    ],
    [
      ['run', '--health-cmd', 'true', '--health-timeout', '0s', '--', 'x'],
      "Invalid value for --health-timeout: expected a positive duration (ms, or 500ms, 5s, 1m, 1h), got '0s'",
    ],
    [
      ['run', '--health-cmd', 'true', '--health-start-period', '2d', '--', 'x'],
      "Invalid value for --health-start-period: expected a duration (ms, or 500ms, 5s, 1m, 1h), got '2d'",
    ],
    [
      ['run', '--health-cmd', 'true', '--health-retries', '0', '--', 'x'],
      "Invalid value for --health-retries: expected a positive integer, got '0'",
    ],
    [
      ['run', '--stop-on-exit', '0x1', '--', 'x'],
      "Invalid value for --stop-on-exit: expected comma-separated exit codes, got '0x1'",
    ],
    [
      ['run', '--stop-on-exit', '1.5', '--', 'x'],
      "Invalid value for --stop-on-exit: expected comma-separated exit codes, got '1.5'",
    ],
    [['run', '--profile', 'podman', '--', 'x'], "Invalid value for --profile: expected isulad or docker, got 'podman'"],
    [['run', '--log-max-size', '1M', '--', 'x'], '--log-max-size needs --log'],
    [['run', '--log-max-files', '2', '--', 'x'], '--log-max-files needs --log'],
    [['run', '--log', '', '--', 'x'], 'Invalid value for --log: expected a file, got an empty one'],
    ...['10MB', '1.5G', '0', '1e3', 'M'].map((value) => [
      ['run', '--log', 'x.log', '--log-max-size', value, '--', 'x'],
      `Invalid value for --log-max-size: expected a positive number of bytes or a size such as 512M (K, M, G), got '${value}'`,
    ]),
    [
      ['run', '--log', 'x.log', '--log-max-files', '0', '--', 'x'],
      "Invalid value for --log-max-files: expected a positive integer, got '0'",
    ],
    [
      ['run', '--max-memory', '512m', '--', 'x'],
      "Invalid value for --max-memory: expected a positive number of bytes or a size such as 512M (K, M, G), got '512m'",
    ],
    [['run', '--memory-check', '1s', '--', 'x'], '--memory-check needs --max-memory'],
    [
      ['run', '--max-memory', '1G', '--memory-check', '0', '--', 'x'],
      "Invalid value for --memory-check: expected a positive duration (ms, or 500ms, 5s, 1m, 1h), got '0'",
    ],
    [
      ['run', '--watchdog', '0s', '--', 'x'],
      "Invalid value for --watchdog: expected a positive duration (ms, or 500ms, 5s, 1m, 1h), got '0s'",
    ],
    [
      ['run', '--metrics-port', '65536', '--', 'x'],
      "Invalid value for --metrics-port: expected a port number (0 to 65535), got '65536'",
    ],
    [
      ['run', '--metrics-port', '80.5', '--', 'x'],
      "Invalid value for --metrics-port: expected a port number (0 to 65535), got '80.5'",
    ],
    [['run', '--run-dir', '', '--', 'x'], 'Invalid value for --run-dir: expected a directory, got an empty one'],
  ] as [string[], string][])('refuses %j with a usage error', (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(UsageError);
    expect(() => parseCommandLine(argv)).toThrow(new UsageError(message));
  });

  it('names its error class UsageError', () => {
    let error: unknown;
    try {
      parseCommandLine(['start']);
    } catch (caught) {
      error = caught;
    }
    expect((error as Error).name).toBe('UsageError');
    expect(String(error)).toBe("UsageError: Unknown command 'start'");
  });

  it('refuses a bad policy with the policy error', () => {
    expect(() => parseCommandLine(['run', '--restart', 'always:3', '--', 'x'])).toThrow(
      new RestartPolicyError("Maximum retry count cannot be used with restart policy 'always'"),
    );
  });

  it('documents the command, its statuses and every option in the usage', () => {
    expect(USAGE).toMatch(/^Usage: restart-manager run \[OPTIONS\] \[--\] COMMAND \[ARG\.\.\.\]\n/);
    expect(USAGE).toContain('125 for a bad option or policy');
    for (const flag of [
      '--restart',
      '--name',
      '--stop-timeout',
      '--state-dir',
      '--profile',
      '--backoff-initial',
      '--backoff-multiplier',
      '--backoff-max',
      '--backoff-reset',
      '--jitter',
      '--max-restarts',
      '--window',
      '--restart-on-exit',
      '--stop-on-exit',
      '--log',
      '--log-max-size',
      '--log-max-files',
      '--notify',
      '--watchdog',
      '--max-memory',
      '--memory-check',
      '--metrics-port',
      '--run-dir',
      '--help',
      '--version',
    ]) {
      expect(USAGE).toContain(flag);
    }
  });
});
