import { describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../src/index.js';

describe('exitCodeOf', () => {
  it.each([
    [0, null, 0],
    [1, null, 1],
    [255, null, 255],
    [null, 'SIGHUP', 129],
    [null, 'SIGINT', 130],
    [null, 'SIGKILL', 137],
    [null, 'SIGTERM', 143],
    [null, 'SIGSEGV', 139],
    [0, 'SIGKILL', 0],
  ] as const)('maps (%j, %j) to %d', (code, signal, exitCode) => {
    expect(exitCodeOf(code, signal)).toBe(exitCode);
  });

  it.each([
    [null, null, 'null and null'],
    [null, 'SIGNOPE', "null and 'SIGNOPE'"],
    [-1, null, '-1 and null'],
    [1.5, null, '1.5 and null'],
    [-1, 'SIGKILL', "-1 and 'SIGKILL'"],
    [1.5, 'SIGTERM', "1.5 and 'SIGTERM'"],
    [null, ['SIGTERM'], "null and [ 'SIGTERM' ]"],
  ])('refuses (%j, %j) with a TypeError, even with a signal', (code, signal, shown) => {
    expect(() => exitCodeOf(code, signal as never)).toThrow(
      new TypeError(`Expected \`code\` to be a non-negative integer or \`signal\` a signal name, got ${shown}`),
    );
    expect(() => exitCodeOf(code, signal as never)).toThrow(TypeError);
  });
});
