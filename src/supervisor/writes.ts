/**
 * The state writes: each container's state saved or deleted through the store, the calls that wait
 * on a write settled with it, a failure reported back to the lifecycle, and every write in flight
 * remembered until it settles (for a close).
 *
 * @packageDocumentation
 */
import type { StateStore } from '../store/store.js';
import type { Run } from '../workload.js';
import type { Ack, CallId, Happening, Outcome } from './lifecycle/model.js';
import type { ContainerState } from './state.js';

/** What the writes tell their owner: a call's outcome, and what happened to a container. */
export interface WriteReports {
  settle(call: CallId, outcome: Outcome): void;
  report(id: string, happening: Happening<Run>): void;
}

/** Writes through one store. */
export class Writes {
  readonly #store: StateStore | undefined;
  readonly #reports: WriteReports;
  readonly #unsettled = new Set<Promise<unknown>>();

  constructor(store: StateStore | undefined, reports: WriteReports) {
    this.#store = store;
    this.#reports = reports;
  }

  /**
   * Saves container `id`'s `state`; `calls` settle with the write, and a failure comes back as
   * `write-failed` (with `ack`). Resolves (never rejects) once the write has settled.
   */
  save(id: string, state: ContainerState, calls: readonly CallId[], ack: Ack | undefined): Promise<void> {
    const store = this.#store;
    const settleAll = (outcome: Outcome): void => {
      for (const call of calls) this.#reports.settle(call, outcome);
    };
    if (store === undefined) {
      settleAll({ ok: true });
      return Promise.resolve();
    }
    return this.#tracked(
      store.save(id, state),
      () => {
        settleAll({ ok: true });
      },
      (error) => {
        settleAll({ ok: false, error: { error } });
        this.#reports.report(id, { type: 'write-failed', calls, ack, error, file: store.locationOf?.(id) });
      },
    );
  }

  /** Deletes container `id`'s state: then `forgotten`, or `forget-failed`. Resolves once that settled. */
  forget(id: string, call: CallId): Promise<void> {
    const removed = this.#store === undefined ? Promise.resolve() : this.#store.remove(id);
    return this.#tracked(
      removed,
      () => {
        this.#reports.report(id, { type: 'forgotten', call });
      },
      (error) => {
        this.#reports.report(id, { type: 'forget-failed', call, error });
      },
    );
  }

  /** Resolves once every write asked for so far has settled, and what it settled has been told. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#unsettled]);
  }

  /** `write.then(done, failed)`, remembered until one of them has run (a close waits for it). */
  #tracked(write: Promise<void>, done: () => void, failed: (error: unknown) => void): Promise<void> {
    const told: Promise<void> = write.then(
      () => {
        this.#unsettled.delete(told);
        done();
      },
      (error: unknown) => {
        this.#unsettled.delete(told);
        failed(error);
      },
    );
    this.#unsettled.add(told);
    return told;
  }
}
