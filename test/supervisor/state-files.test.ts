/**
 * A container's persisted state at the unit level: what `validateContainerState` accepts and the
 * exact `ERR_STATE_FILE` message (and `cause`) for each kind of bad state, and the id a bad container
 * id is reported under. What the file store writes and reads is in test/store/.
 */
import { describe, expect, it } from 'vitest';
import { assertContainerId, validateContainerState } from '../../src/supervisor/state.js';
import { isContainerError } from '../../src/index.js';

const FILE = '/var/lib/rm/web.json';
const VALID = Object.freeze({
  version: 1,
  id: 'web',
  status: 'exited',
  restartCount: 2,
  failureCount: 1,
  exitCode: 137,
  startedAt: '2026-11-28T10:00:00.000Z',
  finishedAt: '2026-11-28T10:00:01.000Z',
  hasBeenManuallyStopped: false,
  policy: { name: 'on-failure', maximumRetryCount: 3 },
  pid: 4242,
});

/** Validates `VALID` with `changes` applied (or `value` instead), expecting an `ERR_STATE_FILE`; returns it. */
function corrupt(changes: Record<string, unknown>, value?: unknown): Error & { code?: string; id?: string } {
  try {
    validateContainerState(value ?? { ...VALID, ...changes }, 'web', () => FILE);
  } catch (error) {
    return error as Error & { code?: string; id?: string };
  }
  throw new Error('validateContainerState accepted a bad state');
}

describe('validateContainerState', () => {
  it('returns a valid state with its policy normalized and no options', () => {
    const state = validateContainerState(VALID, 'web', () => FILE);
    expect(state).toEqual({ ...VALID, policy: { name: 'on-failure', maximumRetryCount: 3 } });
    expect(state.options).toBeUndefined();
  });

  it('accepts null timestamps, a null exit code and a null pid (a container never started)', () => {
    const fresh = { ...VALID, status: 'created', exitCode: null, startedAt: null, finishedAt: null, pid: null };
    expect(validateContainerState(fresh, 'web', () => FILE)).toMatchObject({
      status: 'created',
      exitCode: null,
      startedAt: null,
      finishedAt: null,
      pid: null,
    });
  });

  it.each([
    ['not an object', {}, [], 'Expected `state` to be an object, got []'],
    ['another version', { version: 2 }, undefined, 'Unsupported state version 2'],
    ['an unknown status', { status: 'paused' }, undefined, "Invalid status 'paused'"],
    [
      'a negative restartCount',
      { restartCount: -1 },
      undefined,
      'Expected `restartCount` to be a non-negative safe integer, got -1',
    ],
    [
      'a fractional failureCount',
      { failureCount: 1.5 },
      undefined,
      'Expected `failureCount` to be a non-negative safe integer, got 1.5',
    ],
    [
      'a negative exitCode',
      { exitCode: -1 },
      undefined,
      'Expected `exitCode` to be an integer in [0, 4294967295], got -1',
    ],
    [
      'a startedAt that is no date',
      { startedAt: 'yesterday' },
      undefined,
      "Expected `startedAt` to be an ISO date or null, got 'yesterday'",
    ],
    [
      'a startedAt that is a number',
      { startedAt: 2024 },
      undefined,
      'Expected `startedAt` to be an ISO date or null, got 2024',
    ],
    [
      'a finishedAt that is an object',
      { finishedAt: {} },
      undefined,
      'Expected `finishedAt` to be an ISO date or null, got {}',
    ],
    [
      'a string hasBeenManuallyStopped',
      { hasBeenManuallyStopped: 'no' },
      undefined,
      "Expected `hasBeenManuallyStopped` to be a boolean, got 'no'",
    ],
    ['a negative pid', { pid: -5 }, undefined, 'Expected `pid` to be a non-negative safe integer, got -5'],
  ])('a state with %s is ERR_STATE_FILE naming the file and the reason', (_, changes, value, reason) => {
    const error = corrupt(changes, value);
    expect(isContainerError(error)).toBe(true);
    expect(error.code).toBe('ERR_STATE_FILE');
    expect(error.id).toBe('web');
    expect(error.message).toBe(`Corrupt state file ${FILE}: ${reason}`);
    expect(error.cause).toBeInstanceOf(Error);
    expect((error.cause as Error).message).toBe(reason);
  });

  it('a state whose id is not a container id is ERR_STATE_FILE with the id error as cause', () => {
    const error = corrupt({ id: '../x' });
    expect(error.code).toBe('ERR_STATE_FILE');
    expect(error.cause).toMatchObject({ code: 'ERR_INVALID_CONTAINER_ID' });
  });
});

describe('assertContainerId', () => {
  it.each([
    ['a string id, as given', 'bad id', 'bad id', "'bad id'"],
    ['a number, shown', 42, '42', '42'],
    ['undefined, shown', undefined, 'undefined', 'undefined'],
  ])('reports %s', (_, id, reportedId, shown) => {
    let thrown: unknown;
    try {
      assertContainerId(id);
    } catch (error) {
      thrown = error;
    }
    expect(isContainerError(thrown)).toBe(true);
    expect(thrown).toMatchObject({
      code: 'ERR_INVALID_CONTAINER_ID',
      id: reportedId,
      message: `Invalid container id ${shown}: expected [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128 characters`,
    });
  });

  it('reports a too long id as given (the message shortens it)', () => {
    const id = 'a'.repeat(129);
    expect(() => {
      assertContainerId(id);
    }).toThrow(expect.objectContaining({ code: 'ERR_INVALID_CONTAINER_ID', id }));
  });

  it('accepts a Docker-style name', () => {
    expect(() => {
      assertContainerId('web-1_a.b');
    }).not.toThrow();
  });
});
