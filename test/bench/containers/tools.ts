/**
 * Finds the programs the container benches and the Docker facts need, and says plainly what to
 * install when one is missing.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A program one of the container benches needs, and the Debian package that brings it. */
export type ToolName = 'dockerd' | 'docker' | 'ctr' | 'runc';

const packages: Readonly<Record<ToolName, string>> = {
  dockerd: 'docker.io',
  docker: 'docker.io',
  ctr: 'containerd',
  runc: 'runc',
};

/**
 * Where to look first: `/usr/bin/docker` is the client Debian's docker.io ships with its daemon; a
 * newer static client elsewhere on the PATH (this machine has a 28.x one in /usr/local/bin) would
 * talk to the 20.10 daemon through API version negotiation, one more moving part in a measurement.
 */
const preferred: Readonly<Record<ToolName, readonly string[]>> = {
  dockerd: ['/usr/sbin/dockerd', '/usr/bin/dockerd'],
  docker: ['/usr/bin/docker'],
  ctr: ['/usr/bin/ctr'],
  runc: ['/usr/sbin/runc', '/usr/bin/runc'],
};

/** Thrown when a program is missing; its message names the Debian package to install. */
export class MissingToolError extends Error {
  override readonly name = 'MissingToolError';
  readonly code = 'ERR_MISSING_TOOL';
  constructor(readonly tool: ToolName) {
    super(
      `${tool} not found (looked in ${preferred[tool].join(', ')} and the PATH): apt-get install -y ${packages[tool]}`,
    );
  }
}

const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** The absolute path of `tool`, or `undefined` when it is not installed. */
export function findTool(tool: ToolName): string | undefined {
  const onPath = (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, tool));
  return [...preferred[tool], ...onPath].find(isExecutable);
}

/**
 * The absolute path of each tool named.
 *
 * @throws {@link MissingToolError} naming the first missing tool and its package.
 */
export function requireTools<T extends ToolName>(...tools: T[]): Record<T, string> {
  const found = {} as Record<T, string>;
  for (const tool of tools) {
    const path = findTool(tool);
    if (path === undefined) throw new MissingToolError(tool);
    found[tool] = path;
  }
  return found;
}
