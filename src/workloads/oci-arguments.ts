/**
 * What a user puts on an OCI runtime's command line, checked: a container id (runc's grammar, never
 * beginning with `-`, which would be read as a flag), and the global flags of `runtimeArgs`.
 *
 * @packageDocumentation
 */
import { show } from '../validate.js';

/** runc's container id grammar (`.` and `..` would name a directory in its state root). */
const CONTAINER_ID = /^[\w+.-]+$/;

/** The global flags the library sets itself, each with what to use instead. */
const LIBRARY_FLAGS = [
  ['root', (rootOption: string) => `use the \`${rootOption}\` option`],
  ['log', () => "restart-manager reads the runtime's errors through it"],
  ['log-format', () => "restart-manager reads the runtime's errors through it"],
] as const;

/**
 * A container id as runc and crun take it: letters, digits, `_`, `+`, `-` and `.`, not beginning with
 * `-` (a runtime would take it for a flag), and not `.` or `..`.
 *
 * @throws `TypeError` naming `name` when `id` is not a string; `RangeError` when it breaks the grammar.
 */
export function assertOciId(id: unknown, name: string): asserts id is string {
  if (typeof id !== 'string') throw new TypeError(`Expected \`${name}\` to be a container id, got ${show(id)}`);
  if (!CONTAINER_ID.test(id) || id.startsWith('-') || id === '.' || id === '..') {
    throw new RangeError(
      `Expected \`${name}\` to be a container id (letters, digits, '_', '+', '-' and '.'; not beginning with '-'; not '.' or '..'), got ${show(id)}`,
    );
  }
}

/**
 * The library flag that `arg` sets, if any: `--root`, `--log` or `--log-format`, also as `--root=DIR`,
 * as Go's single-dash `-root` (runc), or abbreviated as getopt takes it (`--roo`, crun).
 */
function libraryFlagOf(arg: string): (typeof LIBRARY_FLAGS)[number] | undefined {
  const long = arg.startsWith('--');
  const flagName = arg.slice(long ? 2 : 1).split('=')[0] ?? '';
  if (flagName === '') return undefined;
  return LIBRARY_FLAGS.find(([flag]) => (long ? flag.startsWith(flagName) : flag === flagName));
}

/**
 * Checks the global flags given for a runtime (`['--systemd-cgroup']`, `['--debug']`, `['--criu',
 * '/usr/sbin/criu']`): an array of non-empty strings without NUL, whose first item is a flag, that
 * sets none of the flags the library sets itself and holds no `--`.
 *
 * @param rootOption - The option that sets `--root`, named in the error for it.
 * @returns A copy of `value`.
 * @throws `TypeError` or `RangeError` naming `name` (or the item) and showing the value.
 */
export function checkRuntimeArgs(value: unknown, name: string, rootOption: string): readonly string[] {
  if (!Array.isArray(value) || !value.every((arg) => typeof arg === 'string' && arg !== '')) {
    throw new TypeError(`Expected \`${name}\` to be an array of non-empty strings, got ${show(value)}`);
  }
  const args = value as readonly string[];
  args.forEach((arg, index) => {
    const item = `${name}[${index}]`;
    if (arg.includes('\0')) throw new RangeError(`Expected \`${item}\` to hold no NUL byte, got ${show(arg)}`);
    if (index === 0 && !arg.startsWith('-')) {
      throw new RangeError(`Expected \`${item}\` to be a global flag (beginning with '-'), got ${show(arg)}`);
    }
    if (arg === '--') throw new RangeError(`Expected \`${item}\` to be a flag, not the end of the flags, got '--'`);
    const flag = arg.startsWith('-') ? libraryFlagOf(arg) : undefined;
    if (flag !== undefined) {
      throw new RangeError(`Expected \`${item}\` not to set --${flag[0]} (${flag[1](rootOption)}), got ${show(arg)}`);
    }
  });
  return [...args];
}
