/**
 * What a Supervisor does with its store's optional members: it calls `close()` once, from its own
 * `close()`, after every write has settled, and it names a state in its `error` events by the
 * store's `locationOf(id)` (no `file` for a store without it).
 */
import { describe, expect, it } from 'vitest';
import { type ContainerState, Supervisor, type SupervisorEvents } from '../../src/index.js';
import { FakeWorkload } from '../support/fake-workload.js';
import { MemoryStore } from '../support/memory-store.js';

type ErrorEvent = SupervisorEvents['error'][0];

/** A memory store whose writes wait at a gate while one is set, and that says when it is closed. */
class ClosableStore extends MemoryStore {
  readonly calls: string[] = [];
  gate: Promise<void> | undefined;

  override async save(id: string, state: ContainerState): Promise<void> {
    if (this.gate !== undefined) {
      this.calls.push(`save ${id} held`);
      await this.gate;
      this.calls.push(`save ${id} settled`);
    }
    return super.save(id, state);
  }

  close(): Promise<void> {
    this.calls.push('close');
    return Promise.resolve();
  }

  locationOf(id: string): string {
    return `rows/${id}`;
  }
}

describe('a Supervisor and its store', () => {
  it('closes the store once, after the writes under way settled, however often it is closed', async () => {
    const store = new ClosableStore();
    const supervisor = new Supervisor({ store });
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    let release!: () => void;
    store.gate = new Promise((resolve) => (release = resolve));
    // The exit's write is held: the close must wait for it before closing the store.
    workload.last.end(1);
    await new Promise((resolve) => setImmediate(resolve));
    const closed = Promise.all([supervisor.close(), supervisor.close()]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.calls).toEqual(['save web held']);
    release();
    await closed;
    await supervisor.close();
    expect(store.calls).toEqual(['save web held', 'save web settled', 'close']);
  });

  it("names a state that cannot be read by the store's locationOf, and by nothing without it", async () => {
    const events: ErrorEvent[] = [];
    for (const store of [new ClosableStore(), new MemoryStore()]) {
      store.unreadable.push(Object.assign(new Error('bad row'), { id: 'db' }));
      const supervisor = new Supervisor({ store });
      supervisor.on('error', (event) => events.push(event));
      await supervisor.restore(() => new FakeWorkload());
      await supervisor.close();
    }
    expect(events.map(({ id, error, file }) => [id, (error as Error).message, file])).toEqual([
      ['db', 'bad row', 'rows/db'],
      ['db', 'bad row', undefined],
    ]);
  });
});
