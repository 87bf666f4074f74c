/**
 * A wrapper of `node:fs/promises` for the state store tests: it counts the handles opened and
 * closed and the syncs by kind (a directory opened with `'r'`, a temp file opened with `'w'`, a
 * journal segment opened with numeric flags), injects errno faults into the next calls of a kind,
 * holds temp file writes back (to look at the directory while the journal is ahead of the files),
 * and can list directories in reverse order. A test file installs it with
 * `vi.mock('node:fs/promises', async (original) => (await import('./fs-spy.js')).spyOnFs(await original()))`.
 */
type FsPromises = typeof import('node:fs/promises');

/** The calls a fault can be injected into, each taking the next fault of its queue. */
export interface Faults {
  /** `sync` of a directory. */
  dirSync: string[];
  /** `writeFile` of a temp file. */
  fileWrite: string[];
  /** `open` of a journal segment. */
  segmentOpen: string[];
  /** `writeFile` of a journal segment. */
  segmentWrite: string[];
  /** `datasync` of a journal segment. */
  datasync: string[];
}

export const fsSpy = {
  opened: 0,
  closed: 0,
  dirSyncs: 0,
  fileSyncs: 0,
  datasyncs: 0,
  faults: { dirSync: [], fileWrite: [], segmentOpen: [], segmentWrite: [], datasync: [] } as Faults,
  /** Skip the (slow) fsync of written files, for the tests that write hundreds. */
  fastFileSync: false,
  /** List directories in reverse name order (Node on Linux lists them sorted; other systems do not). */
  reverseReaddir: false,
  /** While set, opening a temp file waits for it. */
  hold: undefined as Promise<void> | undefined,
  /** Lets the held writes go. */
  release: (): void => undefined,

  /** Back to counting nothing and injecting nothing; held writes go. */
  reset(): void {
    this.opened = this.closed = this.dirSyncs = this.fileSyncs = this.datasyncs = 0;
    for (const queue of Object.values(this.faults) as string[][]) queue.length = 0;
    this.fastFileSync = this.reverseReaddir = false;
    this.release();
  },
};

/** Holds temp file writes back until the returned function (or `fsSpy.reset()`) is called. */
export function holdFileWrites(): () => void {
  let release!: () => void;
  fsSpy.hold = new Promise((resolve) => (release = resolve));
  fsSpy.release = () => {
    fsSpy.hold = undefined;
    release();
  };
  return fsSpy.release;
}

function fail(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected fault`), { code });
}

type Kind = 'dir' | 'file' | 'segment';

function kindOf(flags: unknown): Kind {
  return flags === 'r' ? 'dir' : flags === 'w' ? 'file' : 'segment';
}

/** The handle's methods as the spy changes them, for one kind of file. */
function methodFor(kind: Kind, key: string | symbol, target: Record<string | symbol, unknown>): unknown {
  const { faults } = fsSpy;
  const faulty = (queue: string[], real: () => unknown): unknown => {
    const fault = queue.shift();
    return fault === undefined ? real() : Promise.reject(fail(fault));
  };
  const call = (name: string) => () => (target[name] as () => unknown).call(target);
  if (key === 'close') {
    return () => {
      fsSpy.closed++;
      return call('close')();
    };
  }
  if (key === 'sync' && kind === 'dir') {
    return () => {
      fsSpy.dirSyncs++;
      return faulty(faults.dirSync, call('sync'));
    };
  }
  if (key === 'sync' && kind === 'file') {
    return () => {
      fsSpy.fileSyncs++;
      return fsSpy.fastFileSync ? Promise.resolve() : call('sync')();
    };
  }
  if (key === 'datasync') {
    return () => {
      fsSpy.datasyncs++;
      return faulty(faults.datasync, call('datasync'));
    };
  }
  if (key === 'writeFile' && kind !== 'dir') {
    const write = target.writeFile as (...args: unknown[]) => unknown;
    return (...args: unknown[]) =>
      faulty(kind === 'file' ? faults.fileWrite : faults.segmentWrite, () => write.apply(target, args));
  }
  return undefined;
}

export function spyOnFs(actual: FsPromises): FsPromises {
  return {
    ...actual,
    readdir: (async (path: string, options?: { withFileTypes?: boolean }) => {
      const entries: (string | { name: string })[] = await actual.readdir(path, options as undefined);
      if (!fsSpy.reverseReaddir) return entries;
      const nameOf = (entry: string | { name: string }): string => (typeof entry === 'string' ? entry : entry.name);
      return entries.sort((a, b) => (nameOf(a) < nameOf(b) ? 1 : -1));
    }) as FsPromises['readdir'],
    open: async (...args: Parameters<FsPromises['open']>) => {
      const kind = kindOf(args[1]);
      if (kind === 'file' && fsSpy.hold !== undefined) await fsSpy.hold;
      const fault = kind === 'segment' ? fsSpy.faults.segmentOpen.shift() : undefined;
      if (fault !== undefined) throw fail(fault);
      const handle = await actual.open(...args);
      fsSpy.opened++;
      return new Proxy(handle, {
        get(target, key, receiver) {
          const changed = methodFor(kind, key, target as unknown as Record<string | symbol, unknown>);
          if (changed !== undefined) return changed;
          const value: unknown = Reflect.get(target, key, receiver);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
  };
}
