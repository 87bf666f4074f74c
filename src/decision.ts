/**
 * The decision table: whether a policy restarts one exit. Pure — no state, no time.
 *
 * @packageDocumentation
 */
import { REBOOT_EXIT_CODE } from './exit-code.js';
import { MAX_RETRY_COUNT, type RestartPolicy } from './policy.js';
import { assertBoolean, assertCount, assertExitCode, assertObject, show } from './validate.js';

/** What {@link shouldRestart} decides on. */
export interface DecisionContext {
  /** The exit code of the run that ended, in [0, 2^32 − 1]. */
  readonly exitCode: number;
  /** Whether the user stopped the container (`docker stop`), rather than it exiting by itself. */
  readonly hasBeenManuallyStopped: boolean;
  /** Consecutive failed exits, this one included. */
  readonly failureCount: number;
}

/**
 * Which rule decided a step of a {@link RestartManager}, stable across versions:
 *
 * | reason | restart | when |
 * |---|---|---|
 * | `canceled` | no | the manager was canceled |
 * | `exit-code-rule` | per rule | an `exitCodeRules` entry lists the exit code |
 * | `rate-limited` | no | the restart would exceed `rateLimit` |
 * | `policy-no` | no | policy `no` |
 * | `policy-always` | yes | policy `always` |
 * | `policy-unless-stopped` | yes | policy `unless-stopped`, not manually stopped |
 * | `manually-stopped` | no | policy `unless-stopped`, manually stopped |
 * | `policy-on-failure` | yes | policy `on-failure`, a failure within the retry count |
 * | `clean-exit` | no | policy `on-failure`, exit code 0 |
 * | `retry-limit` | no | policy `on-failure`, the retry count is used up |
 * | `policy-on-reboot` | yes | policy `on-reboot`, exit code 129 |
 * | `not-reboot` | no | policy `on-reboot`, any other exit code |
 */
export type DecisionReason =
  | 'canceled'
  | 'exit-code-rule'
  | 'rate-limited'
  | 'policy-no'
  | 'policy-always'
  | 'policy-unless-stopped'
  | 'manually-stopped'
  | 'policy-on-failure'
  | 'clean-exit'
  | 'retry-limit'
  | 'policy-on-reboot'
  | 'not-reboot';

/** The one error of a policy that is not normalised; a string says what makes one of it. */
function invalidPolicy(policy: RestartPolicy): never {
  const hint = typeof policy === 'string' ? ` (parseRestartPolicy(${show(policy)}) makes one)` : '';
  throw new TypeError(`Expected \`policy\` to be a normalised restart policy${hint}, got ${show(policy)}`);
}

function assertContext(policy: RestartPolicy, context: DecisionContext): void {
  // A policy string fails as it does on the fast path, whatever the context.
  if (typeof policy === 'string') invalidPolicy(policy);
  assertObject(policy, 'policy');
  assertObject(context, 'context');
  assertExitCode(context.exitCode, 'exitCode');
  assertBoolean(context.hasBeenManuallyStopped, 'hasBeenManuallyStopped');
  assertCount(context.failureCount, 'failureCount');
}

/**
 * The decision table: whether `policy` restarts a container after this exit.
 *
 * | policy | restart when |
 * |---|---|
 * | `no` | never |
 * | `always` | always (a manual stop is handled by cancelling the manager) |
 * | `unless-stopped` | `!hasBeenManuallyStopped` |
 * | `on-failure[:N]` | `exitCode !== 0 && (N === 0 \|\| failureCount <= N)` |
 * | `on-reboot` | `exitCode === 129` |
 *
 * @param policy - A normalised policy (see {@link normalizeRestartPolicy}).
 * @param context - The exit to decide on.
 * @throws `TypeError` or `RangeError` naming the argument when an input is not valid.
 * @example
 * ```ts
 * shouldRestart(parseRestartPolicy('on-failure:3'), { exitCode: 1, hasBeenManuallyStopped: false, failureCount: 3 }); // true
 * ```
 */
export function shouldRestart(policy: RestartPolicy, context: DecisionContext): boolean {
  // `== null` and three primitive checks cover the common case; the slow path names what is wrong.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- callers from JavaScript may pass anything
  if (policy == null || context == null) assertContext(policy, context);
  const { exitCode, failureCount, hasBeenManuallyStopped } = context;
  if (
    exitCode >>> 0 !== exitCode ||
    failureCount >>> 0 !== failureCount ||
    typeof hasBeenManuallyStopped !== 'boolean'
  ) {
    assertContext(policy, context);
  }
  return tableDecision(policy, exitCode, hasBeenManuallyStopped, failureCount);
}

/** {@link shouldRestart} on checked arguments. @internal */
export function tableDecision(
  policy: RestartPolicy,
  exitCode: number,
  hasBeenManuallyStopped: boolean,
  failureCount: number,
): boolean {
  const { name, maximumRetryCount: max } = policy;
  // A count is an int32 ≥ 0, and only `on-failure` has one other than 0 (as normalising ensures).
  if (max !== 0 && (name !== 'on-failure' || max >>> 0 !== max || max > MAX_RETRY_COUNT)) invalidPolicy(policy);
  switch (name) {
    case 'no':
      return false;
    case 'always':
      return true;
    case 'unless-stopped':
      return !hasBeenManuallyStopped;
    case 'on-failure':
      return exitCode !== 0 && (max === 0 || failureCount <= max);
    case 'on-reboot':
      return exitCode === REBOOT_EXIT_CODE;
    default:
      return invalidPolicy(policy);
  }
}

/** The reason for a decision of the table (the table's verdict is `restart`). @internal */
export function policyReason(policy: RestartPolicy, restart: boolean, exitCode: number): DecisionReason {
  switch (policy.name) {
    case 'no':
      return 'policy-no';
    case 'always':
      return 'policy-always';
    case 'unless-stopped':
      return restart ? 'policy-unless-stopped' : 'manually-stopped';
    case 'on-failure':
      if (restart) return 'policy-on-failure';
      return exitCode === 0 ? 'clean-exit' : 'retry-limit';
    case 'on-reboot':
      return restart ? 'policy-on-reboot' : 'not-reboot';
  }
}
