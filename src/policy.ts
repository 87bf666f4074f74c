/**
 * Restart policies: parse the `--restart` flag grammar, normalise the object shapes, format back.
 *
 * @packageDocumentation
 */
import { RestartPolicyError } from './errors.js';
import { show } from './validate.js';

/** The names of the five restart policies, in the seed's order. */
export const RESTART_POLICY_NAMES = Object.freeze([
  'no',
  'always',
  'on-failure',
  'unless-stopped',
  'on-reboot',
] as const);

/** A restart policy name. */
export type RestartPolicyName = (typeof RESTART_POLICY_NAMES)[number];

/** A normalised restart policy: always both fields. `maximumRetryCount` is 0 unless the name is `on-failure`. */
export interface RestartPolicy {
  /** Which rule decides. */
  readonly name: RestartPolicyName;
  /** For `on-failure`: how many consecutive failures restart; 0 means unlimited. */
  readonly maximumRetryCount: number;
}

/**
 * Anything {@link normalizeRestartPolicy} accepts: the flag text (`'on-failure:3'`), this package's
 * shape, or Docker's API shape (`{ Name, MaximumRetryCount }`).
 */
export type RestartPolicyInput =
  | string
  | { readonly name: RestartPolicyName | ''; readonly maximumRetryCount?: number | undefined }
  | { readonly Name: RestartPolicyName | ''; readonly MaximumRetryCount?: number | undefined };

/** The largest retry count: it must fit iSulad's `int`. */
export const MAX_RETRY_COUNT = 2 ** 31 - 1;

const DECIMAL = /^[+-]?[0-9]+$/;
const NOT_AN_INTEGER = 'Maximum retry count must be an integer';

function isPolicyName(name: unknown): name is RestartPolicyName {
  return RESTART_POLICY_NAMES.includes(name as RestartPolicyName);
}

/** Validates a name and a count in iSulad's order of checks and returns a new frozen policy. */
function makePolicy(name: unknown, maximumRetryCount: unknown): RestartPolicy {
  // iSulad's `int`: −2^31 still fits (and is negative), 2^31 does not.
  if (
    !Number.isInteger(maximumRetryCount) ||
    (maximumRetryCount as number) > MAX_RETRY_COUNT ||
    (maximumRetryCount as number) < -MAX_RETRY_COUNT - 1
  ) {
    throw new RestartPolicyError(NOT_AN_INTEGER);
  }
  const count = (maximumRetryCount as number) + 0; // -0 → 0
  if (count < 0) throw new RestartPolicyError('Maximum retry count cannot be negative');
  const policyName = name === '' ? 'no' : name;
  if (!isPolicyName(policyName)) {
    throw new RestartPolicyError(`Invalid restart policy ${typeof name === 'string' ? `'${name}'` : show(name)}`);
  }
  if (count !== 0 && policyName !== 'on-failure') {
    throw new RestartPolicyError(`Maximum retry count cannot be used with restart policy '${policyName}'`);
  }
  return Object.freeze({ name: policyName, maximumRetryCount: count });
}

/**
 * Parses the `--restart` flag grammar, `NAME` or `NAME:COUNT`, into a new frozen policy.
 * The empty string is `no`; `on-failure` alone is `on-failure:0` (unlimited). COUNT is decimal.
 *
 * @param text - The flag value.
 * @returns A new frozen {@link RestartPolicy}.
 * @throws {@link RestartPolicyError} with iSulad's message when the text is not a valid policy.
 * @throws `TypeError` when `text` is not a string.
 * @example
 * ```ts
 * parseRestartPolicy('on-failure:3'); // { name: 'on-failure', maximumRetryCount: 3 }
 * parseRestartPolicy('always');       // { name: 'always', maximumRetryCount: 0 }
 * ```
 */
export function parseRestartPolicy(text: string): RestartPolicy {
  if (typeof text !== 'string') throw new TypeError(`Expected \`text\` to be a string, got ${show(text)}`);
  const parts = text.split(':');
  if (parts.length > 2) throw new RestartPolicyError('Invalid restart policy format');
  const [name = '', countText] = parts;
  if (countText === undefined) return makePolicy(name, 0);
  if (name === '') throw new RestartPolicyError('Invalid restart policy format');
  if (!DECIMAL.test(countText)) throw new RestartPolicyError(NOT_AN_INTEGER);
  return makePolicy(name, Number(countText));
}

/**
 * Validates any accepted policy shape and returns a new frozen {@link RestartPolicy}.
 *
 * @param input - A flag string, `{ name, maximumRetryCount? }` or Docker's `{ Name, MaximumRetryCount? }`.
 * @throws {@link RestartPolicyError} for anything that is not a valid policy (never another error).
 * @example
 * ```ts
 * normalizeRestartPolicy({ Name: 'on-failure', MaximumRetryCount: 5 }); // { name: 'on-failure', maximumRetryCount: 5 }
 * ```
 */
export function normalizeRestartPolicy(input: RestartPolicyInput): RestartPolicy {
  const value: unknown = input;
  if (typeof value === 'string') return parseRestartPolicy(value);
  if (typeof value === 'object' && value !== null) {
    if ('name' in value)
      return makePolicy(value.name, 'maximumRetryCount' in value ? (value.maximumRetryCount ?? 0) : 0);
    if ('Name' in value)
      return makePolicy(value.Name, 'MaximumRetryCount' in value ? (value.MaximumRetryCount ?? 0) : 0);
  }
  throw new RestartPolicyError(`Invalid restart policy ${show(value)}`);
}

/**
 * Formats a policy in the flag grammar: `'on-failure:3'`, `'on-failure'` (count 0), `'always'`, …
 * `parseRestartPolicy(formatRestartPolicy(p))` deep-equals `p`.
 *
 * @param policy - Any input {@link normalizeRestartPolicy} accepts.
 * @throws {@link RestartPolicyError} when `policy` is not valid.
 * @example
 * ```ts
 * formatRestartPolicy({ name: 'on-failure', maximumRetryCount: 3 }); // 'on-failure:3'
 * ```
 */
export function formatRestartPolicy(policy: RestartPolicyInput): string {
  const { name, maximumRetryCount } = normalizeRestartPolicy(policy);
  return maximumRetryCount === 0 ? name : `${name}:${maximumRetryCount}`;
}
