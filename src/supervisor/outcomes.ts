/**
 * The calls in flight: each has an id the lifecycle settles it by, and the promise its caller awaits.
 *
 * @packageDocumentation
 */
import { ContainerError } from '../errors.js';
import type { CallId, Outcome } from './lifecycle/model.js';

interface Deferred {
  readonly id: string;
  readonly resolve: (value: number | null | undefined) => void;
  readonly reject: (error: unknown) => void;
}

/** The promises of the calls in flight, by id. */
export class CallOutcomes {
  readonly #calls = new Map<CallId, Deferred>();
  #next = 0;

  /** A new call about container `id`: its id, and the promise {@link CallOutcomes.settle} settles. */
  open(id: string): [CallId, Promise<number | null | undefined>] {
    const call = ++this.#next;
    const promise = new Promise<number | null | undefined>((resolve, reject) => {
      this.#calls.set(call, { id, resolve, reject });
    });
    return [call, promise];
  }

  /** Settles a call as the lifecycle says: a value, one of the package's errors (a {@link ContainerError}), or an error as it is. */
  settle(call: CallId, outcome: Outcome): void {
    const deferred = this.#calls.get(call);
    if (deferred === undefined) return;
    this.#calls.delete(call);
    if (outcome.ok) {
      deferred.resolve(outcome.value);
      return;
    }
    const { error } = outcome;
    if ('error' in error) deferred.reject(error.error);
    else {
      const options = error.cause === undefined ? undefined : { cause: error.cause };
      deferred.reject(new ContainerError(error.code, deferred.id, error.message, options));
    }
  }
}
