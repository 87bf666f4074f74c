/**
 * Health probes given as descriptions (SPEC §15): plain JSON that says which ready-made probe to
 * run, so that a health check persists with its container and a restore can rebuild it.
 *
 * @packageDocumentation
 */
import { show } from '../validate.js';
import type { HealthProbe } from './probe.js';
import {
  type OciExecProbeTarget,
  type TcpProbeTarget,
  commandProbe,
  httpProbe,
  ociExecProbe,
  tcpProbe,
} from './probes.js';

/**
 * A ready-made probe as plain JSON: a command's exit status (`{ command: ['pg_isready'] }`), an HTTP
 * status (`{ http: 'http://127.0.0.1:8080/healthz' }`), a TCP connect (`{ tcp: { port: 5432 } }`), or
 * a command run inside an OCI container (`{ ociExec: { id: 'db', command: ['pg_isready'] } }`).
 */
export type ProbeDescription =
  | { readonly command: readonly string[] }
  | { readonly http: string }
  | { readonly tcp: TcpProbeTarget }
  | { readonly ociExec: OciExecProbeTarget };

const SHAPES = ['command', 'http', 'tcp', 'ociExec'] as const;

/**
 * The probe a description stands for, and the description checked.
 *
 * @throws `TypeError`/`RangeError` naming the bad field, as each probe's own checks do.
 */
export function describedProbe(
  description: object,
  name: string,
): { probe: HealthProbe; description: ProbeDescription } {
  const keys = Object.keys(description);
  const kind = SHAPES.find((shape) => keys.length === 1 && keys[0] === shape);
  if (kind === undefined) {
    throw new TypeError(
      `Expected \`${name}\` to be a function or one of { command }, { http }, { tcp }, { ociExec }, got ${show(description)}`,
    );
  }
  const value = (description as Record<string, unknown>)[kind];
  switch (kind) {
    case 'command': {
      if (
        !Array.isArray(value) ||
        value.length === 0 ||
        !value.every((part) => typeof part === 'string' && part !== '')
      ) {
        throw new TypeError(
          `Expected \`${name}.command\` to be a non-empty array of non-empty strings, got ${show(value)}`,
        );
      }
      const [command = '', ...args] = value as string[];
      return { probe: commandProbe(command, args), description: { command: [...(value as string[])] } };
    }
    case 'http':
      if (typeof value !== 'string') throw new TypeError(`Expected \`${name}.http\` to be a URL, got ${show(value)}`);
      return { probe: httpProbe(value), description: { http: value } };
    case 'tcp':
      return { probe: tcpProbe(value as TcpProbeTarget), description: { tcp: { ...(value as TcpProbeTarget) } } };
    case 'ociExec':
      return {
        probe: ociExecProbe(value as OciExecProbeTarget),
        description: { ociExec: { ...(value as OciExecProbeTarget) } },
      };
  }
}
