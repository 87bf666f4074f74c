/** How the tests read a call's outcome: its rejection, its error code, and whether it has settled yet. */
import { expect } from 'vitest';
import { type ContainerError, type ContainerErrorCode, isContainerError } from '../../src/index.js';

/** The error `call` rejects (or throws) with; fails the test if it does not. */
export async function rejection(call: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof call === 'function' ? call() : call);
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** The {@link ContainerError} `call` rejects with, checked to carry `code`. */
export async function expectCode(
  call: Promise<unknown> | (() => unknown),
  code: ContainerErrorCode,
): Promise<ContainerError> {
  const error = await rejection(call);
  expect(isContainerError(error), String(error)).toBe(true);
  expect((error as ContainerError).code).toBe(code);
  return error as ContainerError;
}

/** What became of a promise so far (read after the test lets it settle), and the promise itself. */
export interface Tracked<T> {
  settled: boolean;
  value?: T;
  error?: unknown;
  readonly result: Promise<T>;
}

/** Follows `promise`: whether it has settled yet, and how. */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const tracked: Tracked<T> = { settled: false, result: promise };
  promise.then(
    (value) => {
      Object.assign(tracked, { settled: true, value });
    },
    (error: unknown) => {
      Object.assign(tracked, { settled: true, error });
    },
  );
  return tracked;
}
