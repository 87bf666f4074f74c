import { describe, expect, it } from 'vitest';
import { exitCodeOf } from '../src/index.js';

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
  ] as const)('maps (%j, %j) to %d', (code, signal, exitCode) => {
    expect(exitCodeOf(code, signal)).toBe(exitCode);
  });

  it.each([
    [null, null],
    [null, 'SIGNOPE'],
    [-1, null],
    [1.5, null],
  ])('refuses (%j, %j) with a TypeError', (code, signal) => {
    expect(() => exitCodeOf(code, signal as never)).toThrow(TypeError);
    expect(() => exitCodeOf(code, signal as never)).toThrow(
      /Expected `code` to be a non-negative integer or `signal` a signal name/,
    );
  });
});
