/** A state store in memory, as a runtime's own database would be plugged in. */
import type { ContainerState, StateStore } from '../../src/index.js';

/** A store in memory that keeps what it was given, as a runtime's database would. */
export class MemoryStore implements StateStore {
  readonly states = new Map<string, ContainerState>();
  readonly removed: string[] = [];
  /** Entries `load` returns in place of states it cannot read. */
  readonly unreadable: Error[] = [];

  load(): Promise<(ContainerState | Error)[]> {
    return Promise.resolve([...this.states.values(), ...this.unreadable]);
  }

  save(id: string, state: ContainerState): Promise<void> {
    this.states.set(id, structuredClone(state));
    return Promise.resolve();
  }

  remove(id: string): Promise<void> {
    this.removed.push(id);
    this.states.delete(id);
    return Promise.resolve();
  }
}
