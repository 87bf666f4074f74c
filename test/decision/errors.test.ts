import { describe, expect, it } from 'vitest';
import {
  ContainerError,
  RestartCanceledError,
  RestartPolicyError,
  isContainerError,
  isRestartCanceledError,
  isRestartPolicyError,
} from '../../src/index.js';
import { exitCodeOfStartError } from '../../src/exit-code.js';

describe('errors', () => {
  it('carry a name, a stable code and a cause', () => {
    const cause = new Error('root');
    const policy = new RestartPolicyError('Invalid restart policy format', { cause });
    expect([policy.name, policy.code, policy.message, policy.cause]).toEqual([
      'RestartPolicyError',
      'ERR_INVALID_RESTART_POLICY',
      'Invalid restart policy format',
      cause,
    ]);
    const canceled = new RestartCanceledError();
    expect([canceled.name, canceled.code, canceled.message]).toEqual([
      'RestartCanceledError',
      'ERR_RESTART_CANCELED',
      'The restart manager was canceled',
    ]);
    expect(new RestartCanceledError('by a manual stop').message).toBe('by a manual stop');
    const container = new ContainerError('ERR_NO_SUCH_CONTAINER', 'web', 'No such container: web', { cause });
    expect([container.name, container.code, container.id, container.message, container.cause]).toEqual([
      'ContainerError',
      'ERR_NO_SUCH_CONTAINER',
      'web',
      'No such container: web',
      cause,
    ]);
    for (const error of [policy, canceled, container]) expect(error).toBeInstanceOf(Error);
  });

  it('are recognised by their guards, and only by their own', () => {
    const errors = [
      new RestartPolicyError('x'),
      new RestartCanceledError(),
      new ContainerError('ERR_CONTAINER_STATE', 'a', 'x'),
    ];
    const guards = [isRestartPolicyError, isRestartCanceledError, isContainerError];
    expect(guards.map((guard) => errors.map((error) => guard(error)))).toEqual([
      [true, false, false],
      [false, true, false],
      [false, false, true],
    ]);
    for (const guard of guards) {
      for (const value of [
        null,
        undefined,
        'RestartPolicyError',
        new Error('x'),
        { code: 'ERR_INVALID_RESTART_POLICY' },
        42,
      ])
        expect(guard(value)).toBe(false);
    }
  });

  it('guards work across two copies of the package (a brand, not instanceof)', () => {
    const brand = Symbol.for('restart-manager.error');
    const foreign = Object.assign(new Error('from another copy'), { [brand]: 'RestartPolicyError' });
    expect(foreign).not.toBeInstanceOf(RestartPolicyError);
    expect(isRestartPolicyError(foreign)).toBe(true);
  });

  it('keep the brand out of enumerable properties', () => {
    const error = new RestartCanceledError();
    const descriptor = Object.getOwnPropertyDescriptor(error, Symbol.for('restart-manager.error'));
    expect(descriptor).toMatchObject({ value: 'RestartCanceledError', enumerable: false, writable: false });
  });
});

describe('exitCodeOfStartError (as docker run)', () => {
  it.each([
    ['ENOENT', 127],
    ['EACCES', 126],
    ['EPERM', 126],
    ['ENOEXEC', 126],
    ['EISDIR', 126],
    ['ENOTDIR', 126],
    ['EMFILE', 125],
    ['', 125],
  ])('maps %s to %d', (code, exitCode) => {
    expect(exitCodeOfStartError(Object.assign(new Error('x'), { code }))).toBe(exitCode);
  });

  it.each([[null], [undefined], ['ENOENT'], [new Error('no code')], [{ code: 127 }]])('maps %j to 125', (error) => {
    expect(exitCodeOfStartError(error)).toBe(125);
  });
});
