/**
 * Health check options: Docker's defaults, merged key by key, and every bad field refused with a
 * message that names it; the ready-made probes refuse bad arguments the same way, before starting anything.
 */
import { describe, expect, it } from 'vitest';
import { type HealthCheck, resolveHealthCheck } from '../../src/health/options.js';
import { DEFAULT_HEALTH_CHECK, commandProbe, httpProbe, ociExecProbe, tcpProbe } from '../../src/index.js';

const probe = (): string => 'ok';

/** What `make` throws (the test fails if it returns). */
function thrownBy(make: () => unknown): Error {
  try {
    make();
  } catch (error) {
    return error as Error;
  }
  throw new Error('it did not throw');
}

describe('DEFAULT_HEALTH_CHECK', () => {
  it("is Docker's HEALTHCHECK defaults, frozen", () => {
    expect(DEFAULT_HEALTH_CHECK).toEqual({
      intervalMs: 30_000,
      timeoutMs: 30_000,
      retries: 3,
      startPeriodMs: 0,
      startIntervalMs: 5_000,
      onUnhealthy: 'none',
    });
    expect(Object.isFrozen(DEFAULT_HEALTH_CHECK)).toBe(true);
  });
});

describe('resolveHealthCheck', () => {
  it('fills in every default, and an explicit undefined keeps the default', () => {
    const expected = { probe, ...DEFAULT_HEALTH_CHECK };
    expect(resolveHealthCheck({ probe })).toEqual(expected);
    expect(
      resolveHealthCheck({
        probe,
        intervalMs: undefined,
        timeoutMs: undefined,
        retries: undefined,
        startPeriodMs: undefined,
        startIntervalMs: undefined,
        onUnhealthy: undefined,
      }),
    ).toEqual(expected);
  });

  it('keeps every valid field given, and returns a frozen object', () => {
    const check = {
      probe,
      intervalMs: 0.5,
      timeoutMs: 2 ** 40,
      retries: 1,
      startPeriodMs: 0,
      startIntervalMs: 250,
      onUnhealthy: 'stop',
    } as const;
    const resolved = resolveHealthCheck(check);
    expect(resolved).toEqual(check);
    expect(resolved).not.toBe(check);
    expect(Object.isFrozen(resolved)).toBe(true);
  });

  it.each<[string, unknown, ErrorConstructor, string]>([
    ['not an object', 'ping', TypeError, "Expected `health` to be an object, got 'ping'"],
    ['null', null, TypeError, 'Expected `health` to be an object, got null'],
    ['no probe', {}, TypeError, 'Expected `health.probe` to be a function, got undefined'],
    ['a string probe', { probe: 'curl' }, TypeError, "Expected `health.probe` to be a function, got 'curl'"],
    ['an unknown key', { probe, interval: 5 }, TypeError, 'Unknown option `health.interval`, got 5'],
    [
      'a zero interval',
      { probe, intervalMs: 0 },
      RangeError,
      'Expected `health.intervalMs` to be a positive finite number, got 0',
    ],
    [
      'an infinite interval',
      { probe, intervalMs: Infinity },
      RangeError,
      'Expected `health.intervalMs` to be a positive finite number, got Infinity',
    ],
    [
      'a string interval',
      { probe, intervalMs: '5s' },
      TypeError,
      "Expected `health.intervalMs` to be a positive finite number, got '5s'",
    ],
    [
      'a negative timeout',
      { probe, timeoutMs: -1 },
      RangeError,
      'Expected `health.timeoutMs` to be a positive finite number, got -1',
    ],
    [
      'a NaN timeout',
      { probe, timeoutMs: NaN },
      RangeError,
      'Expected `health.timeoutMs` to be a positive finite number, got NaN',
    ],
    [
      'zero retries',
      { probe, retries: 0 },
      RangeError,
      'Expected `health.retries` to be a positive safe integer, got 0',
    ],
    [
      'fractional retries',
      { probe, retries: 1.5 },
      RangeError,
      'Expected `health.retries` to be a positive safe integer, got 1.5',
    ],
    [
      'string retries',
      { probe, retries: '3' },
      TypeError,
      "Expected `health.retries` to be a positive safe integer, got '3'",
    ],
    [
      'a negative start period',
      { probe, startPeriodMs: -5 },
      RangeError,
      'Expected `health.startPeriodMs` to be a non-negative finite number, got -5',
    ],
    [
      'an infinite start period',
      { probe, startPeriodMs: Infinity },
      RangeError,
      'Expected `health.startPeriodMs` to be a non-negative finite number, got Infinity',
    ],
    [
      'a zero start interval',
      { probe, startIntervalMs: 0 },
      RangeError,
      'Expected `health.startIntervalMs` to be a positive finite number, got 0',
    ],
    [
      'an unknown action',
      { probe, onUnhealthy: 'restart' },
      RangeError,
      "Expected `health.onUnhealthy` to be one of 'none', 'stop', got 'restart'",
    ],
    [
      'a boolean action',
      { probe, onUnhealthy: true },
      TypeError,
      "Expected `health.onUnhealthy` to be one of 'none', 'stop', got true",
    ],
  ])('refuses %s', (_, input, type, message) => {
    const error = thrownBy(() => resolveHealthCheck(input as HealthCheck));
    expect(error).toBeInstanceOf(type);
    expect(error.message).toBe(message);
  });
});

describe('httpProbe', () => {
  it('takes an http: or an https: URL, as a string or a URL', () => {
    for (const url of [
      'http://127.0.0.1:8080/healthz',
      'https://example.com/health',
      new URL('https://example.com/'),
    ]) {
      expect(httpProbe(url)).toBeTypeOf('function');
    }
  });
});

describe('the ready-made probes refuse bad arguments', () => {
  it.each<[string, () => unknown, ErrorConstructor, string]>([
    [
      'commandProbe without a command',
      () => commandProbe(''),
      TypeError,
      "Expected `command` to be a non-empty string, got ''",
    ],
    [
      'commandProbe with a non-array args',
      () => commandProbe('true', 'x' as unknown as string[]),
      TypeError,
      "Expected `args` to be an array of strings, got 'x'",
    ],
    [
      'commandProbe with a number among args',
      () => commandProbe('true', ['a', 1] as unknown as string[]),
      TypeError,
      "Expected `args` to be an array of strings, got [ 'a', 1 ]",
    ],
    [
      'commandProbe with an unknown option',
      () => commandProbe('true', [], { shell: true } as never),
      TypeError,
      'Unknown option `options.shell`, got true',
    ],
    [
      'commandProbe with a null env',
      () => commandProbe('true', [], { env: null } as never),
      TypeError,
      'Expected `options.env` to be an object, got null',
    ],
    [
      'commandProbe with an empty cwd',
      () => commandProbe('true', [], { cwd: '' }),
      TypeError,
      "Expected `options.cwd` to be a non-empty string, got ''",
    ],
    [
      'httpProbe with an unknown option',
      () => httpProbe('http://127.0.0.1/', { timeout: 1 } as never),
      TypeError,
      'Unknown option `options.timeout`, got 1',
    ],
    [
      'tcpProbe with an unknown key',
      () => tcpProbe({ hostname: 'db', port: 5432 } as never),
      TypeError,
      "Unknown option `target.hostname`, got 'db'",
    ],
    [
      'ociExecProbe with an empty runtime',
      () => ociExecProbe({ id: 'web', command: ['true'], runtime: '' }),
      TypeError,
      "Expected `target.runtime` to be a non-empty string, got ''",
    ],
    [
      'httpProbe with a URL that does not parse',
      () => httpProbe('localhost:8080'),
      TypeError,
      "Expected `url` to be an http: or https: URL, got 'localhost:8080'",
    ],
    [
      'httpProbe with a ftp: URL',
      () => httpProbe('ftp://example.com/'),
      TypeError,
      "Expected `url` to be an http: or https: URL, got 'ftp://example.com/'",
    ],
    [
      'httpProbe with headers that are not an object',
      () => httpProbe('http://127.0.0.1/', { headers: 'x' } as never),
      TypeError,
      "Expected `options.headers` to be an object, got 'x'",
    ],
    [
      'tcpProbe without a port',
      () => tcpProbe({} as never),
      TypeError,
      'Expected `target.port` to be an integer in [1, 65535], got undefined',
    ],
    [
      'tcpProbe with port 0',
      () => tcpProbe({ port: 0 }),
      RangeError,
      'Expected `target.port` to be an integer in [1, 65535], got 0',
    ],
    [
      'tcpProbe with an empty host',
      () => tcpProbe({ host: '', port: 80 }),
      TypeError,
      "Expected `target.host` to be a non-empty string, got ''",
    ],
    [
      'ociExecProbe without an id',
      () => ociExecProbe({ command: ['true'] } as never),
      TypeError,
      'Expected `target.id` to be a container id, got undefined',
    ],
    [
      'ociExecProbe with an id that begins with a dash',
      () => ociExecProbe({ id: '-rf', command: ['true'] }),
      RangeError,
      "Expected `target.id` to be a container id (letters, digits, '_', '+', '-' and '.'; not beginning with '-'; not '.' or '..'), got '-rf'",
    ],
    [
      'ociExecProbe with runtimeArgs that set --root',
      () => ociExecProbe({ id: 'web', command: ['true'], runtimeArgs: ['--root=/run/x'] }),
      RangeError,
      "Expected `target.runtimeArgs[0]` not to set --root (use the `target.root` option), got '--root=/run/x'",
    ],
    [
      'ociExecProbe with runtimeArgs that are not an array',
      () => ociExecProbe({ id: 'web', command: ['true'], runtimeArgs: '--debug' as never }),
      TypeError,
      "Expected `target.runtimeArgs` to be an array of non-empty strings, got '--debug'",
    ],
    [
      'ociExecProbe with an empty command',
      () => ociExecProbe({ id: 'web', command: [] }),
      TypeError,
      'Expected `target.command` to be a non-empty array of strings, got []',
    ],
    [
      'ociExecProbe with an unknown key',
      () => ociExecProbe({ id: 'web', command: ['true'], detach: true } as never),
      TypeError,
      'Unknown option `target.detach`, got true',
    ],
    [
      'ociExecProbe with an empty root',
      () => ociExecProbe({ id: 'web', command: ['true'], root: '' }),
      TypeError,
      "Expected `target.root` to be a non-empty string, got ''",
    ],
  ])('%s', (_, make, type, message) => {
    const error = thrownBy(make);
    expect(error).toBeInstanceOf(type);
    expect(error.message).toBe(message);
  });
});
