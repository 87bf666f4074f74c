/**
 * The example runtime's control protocol (examples/mini-runtime/src/protocol.ts), pure: the requests
 * its daemon takes from a client it does not trust, and the table `mrt ps` prints.
 */
import { describe, expect, it } from 'vitest';
import { formatTable, parseRequest } from '../../examples/mini-runtime/src/protocol.js';

describe('a request line', () => {
  it.each([
    ['{"op":"ps"}', { op: 'ps' }],
    [
      '{"op":"run","name":"web","policy":"always","bundle":"/srv/web"}',
      { op: 'run', name: 'web', policy: 'always', bundle: '/srv/web' },
    ],
    ['{"op":"stop","name":"web","extra":1}', { op: 'stop', name: 'web' }],
    ['{"op":"rm","name":"web"}', { op: 'rm', name: 'web', force: false }],
    ['{"op":"rm","name":"web","force":true}', { op: 'rm', name: 'web', force: true }],
    ['{"op":"rm","name":"web","force":"yes"}', { op: 'rm', name: 'web', force: false }],
  ])('%s is read as %j', (line, expected) => {
    expect(parseRequest(line)).toEqual(expected);
  });

  it.each([
    ['[]', TypeError, 'Unknown request undefined'],
    ['null', TypeError, 'Expected a request object, got null'],
    ['{"op":"exec","name":"web"}', TypeError, 'Unknown request "exec"'],
    ['{"op":"start"}', TypeError, 'Expected `name` to be a non-empty string, got undefined'],
    ['{"op":"logs","name":""}', TypeError, 'Expected `name` to be a non-empty string, got ""'],
    [
      '{"op":"run","name":"web","policy":"always"}',
      TypeError,
      'Expected `bundle` to be a non-empty string, got undefined',
    ],
    [
      '{"op":"run","name":"web","policy":"always","bundle":"srv/web"}',
      TypeError,
      'Expected `bundle` to be an absolute path, got "srv/web"',
    ],
    [
      '{"op":"run","name":"web","policy":3,"bundle":"/srv/web"}',
      TypeError,
      'Expected `policy` to be a non-empty string, got 3',
    ],
    ['{"op":"ps"', SyntaxError, /JSON/],
  ])('%s is refused', (line, type, message) => {
    expect(() => parseRequest(line)).toThrow(type);
    expect(() => parseRequest(line)).toThrow(message);
  });
});

describe('the ps table', () => {
  it('pads each column to its widest cell, with - for what is not known', () => {
    const table = formatTable([
      {
        name: 'web',
        status: 'running',
        restarts: 12,
        failures: 0,
        pid: 4242,
        exitCode: 255,
        startedAt: '2026-12-07T11:33:17.946Z',
      },
      {
        name: 'flaky-one',
        status: 'exited',
        restarts: 2,
        failures: 3,
        pid: null,
        exitCode: 1,
        startedAt: '2026-12-07T11:33:04.453Z',
      },
      { name: 'new', status: 'created', restarts: 0, failures: 0, pid: null, exitCode: null, startedAt: null },
    ]);
    expect(table).toBe(
      [
        'NAME       STATUS   RESTARTS  FAILURES  PID   EXIT CODE  STARTED',
        'web        running  12        0         4242  255        2026-12-07T11:33:17.946Z',
        'flaky-one  exited   2         3         -     1          2026-12-07T11:33:04.453Z',
        'new        created  0         0         -     -          -',
        '',
      ].join('\n'),
    );
  });

  it('is the header alone without containers', () => {
    expect(formatTable([])).toBe('NAME  STATUS  RESTARTS  FAILURES  PID  EXIT CODE  STARTED\n');
  });
});
