/**
 * The per-test directory of the journal tests: a fresh one before each test, with the fs spy reset
 * and fast file syncs; after it, every store made by `storeOf` idle and closed before the directory
 * (and a `-crashed` copy of it) goes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { ContainerState } from '../../src/index.js';
import { FileStore } from '../../src/store/file-store.js';
import { fsSpy } from './fs-spy.js';

/** The current test's directory, and a store of it (or of `stateDir`) that is idle and closed before it goes. */
export interface StoreDir {
  readonly dir: string;
  readonly storeOf: (stateDir?: string) => FileStore;
}

/** Registers the hooks; `dir` is valid inside each test. */
export function useStoreDir(prefix: string): StoreDir {
  let dir = '';
  const stores: FileStore[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
    fsSpy.reset();
    fsSpy.fastFileSync = true;
  });
  afterEach(async () => {
    fsSpy.reset();
    await Promise.all(
      stores.splice(0).map(async (store) => {
        await store.idle();
        await store.close();
      }),
    );
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}-crashed`, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    storeOf: (stateDir = dir) => {
      const store = new FileStore(stateDir);
      stores.push(store);
      return store;
    },
  };
}

/** A state as the store sees it: any JSON with the container's id. */
export function state(id: string, n: number): ContainerState {
  return { id, n } as unknown as ContainerState;
}
