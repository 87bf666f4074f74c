import { describe, expect, it } from 'vitest';
import { USAGE, UsageError, parseCommandLine } from '../src/cli/args.js';
import { RestartPolicyError } from '../src/index.js';

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
      command: 'true',
      args: [],
    });
  });

  it('takes the command at the first word that is not an option, without --', () => {
    const command = parseCommandLine(['run', '--restart', 'always', 'node', '--inspect', '-e', '1']);
    expect(command).toMatchObject({ command: 'node', args: ['--inspect', '-e', '1'], policy: { name: 'always' } });
  });

  it('keeps a -- that belongs to the command', () => {
    expect(parseCommandLine(['run', '--', 'npm', 'run', 'x', '--', '--flag'])).toMatchObject({
      command: 'npm',
      args: ['run', 'x', '--', '--flag'],
    });
  });

  it.each([
    [['start'], "Unknown command 'start'"],
    [['run'], 'Missing COMMAND to run'],
    [['run', '--'], 'Missing COMMAND to run'],
    [['run', '--bogus', '--', 'x'], "Unknown option '--bogus'"],
    [['run', '--restart'], "Option '--restart <value>' argument missing"],
    [['run', '--name', '../x', '--', 'x'], 'Invalid container id'],
    [['run', '--stop-timeout=-1', '--', 'x'], "Invalid value for --stop-timeout: expected a number of ms, got '-1'"],
    [['run', '--stop-timeout', 'Infinity', '--', 'x'], 'Invalid value for --stop-timeout'],
    [['run', '--backoff-initial', '0', '--', 'x'], 'Invalid value for --backoff-initial'],
    [['run', '--backoff-initial', '1e3', '--', 'x'], 'Invalid value for --backoff-initial'],
    [['run', '--backoff-multiplier', '0.5', '--', 'x'], 'Invalid value for --backoff-multiplier'],
    [
      ['run', '--backoff-max', '50', '--', 'x'],
      'Expected `backoff.maxMs` to be a finite number ≥ backoff.initialMs (100), got 50',
    ],
    [['run', '--jitter', '2', '--', 'x'], 'Invalid value for --jitter'],
    [['run', '--max-restarts', '3', '--', 'x'], '--max-restarts and --window go together'],
    [['run', '--window', '10', '--', 'x'], '--max-restarts and --window go together'],
    [['run', '--max-restarts', '1.5', '--window', '10', '--', 'x'], 'Invalid value for --max-restarts'],
    [['run', '--max-restarts', '1', '--window', '0', '--', 'x'], 'Invalid value for --window'],
    [['run', '--stop-on-exit', '1,x', '--', 'x'], 'Invalid value for --stop-on-exit'],
    [['run', '--restart-on-exit', '4294967296', '--', 'x'], 'Invalid value for --restart-on-exit'],
    [['run', '--profile', 'podman', '--', 'x'], "Invalid value for --profile: expected isulad or docker, got 'podman'"],
  ])('refuses %j with a usage error', (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(UsageError);
    expect(() => parseCommandLine(argv)).toThrow(message);
  });

  it('refuses a bad policy with the policy error', () => {
    expect(() => parseCommandLine(['run', '--restart', 'always:3', '--', 'x'])).toThrow(
      new RestartPolicyError("Maximum retry count cannot be used with restart policy 'always'"),
    );
  });

  it('documents every option in the usage', () => {
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
      '--help',
      '--version',
    ]) {
      expect(USAGE).toContain(flag);
    }
  });
});
