/**
 * Figure 1: the pure decision table, ns per decision, against its floor — an inline `switch` over
 * the same pre-generated inputs. Both loops consume every result (a count of restarts, checked
 * equal), so that the JIT can drop no work; the loop overhead is the same in both.
 */
import { type DecisionContext, type RestartPolicy, parseRestartPolicy, shouldRestart } from '../../dist/index.js';
import { type Spread, elapsedMs, nowNs, spread } from './measure.js';

// Frozen, normalised policies: what a caller has in hand (parseRestartPolicy's output).
const POLICIES = ['no', 'always', 'on-failure:3', 'unless-stopped', 'on-reboot'].map(parseRestartPolicy);
const EXIT_CODES = [0, 1, 2, 129, 137];
const SIZE = 1024; // a power of two: the index is masked, not taken modulo
const policies: RestartPolicy[] = [];
const contexts: DecisionContext[] = [];
for (let i = 0; i < SIZE; i++) {
  policies.push(POLICIES[i % POLICIES.length] as RestartPolicy);
  contexts.push({
    exitCode: EXIT_CODES[(i * 7) % EXIT_CODES.length] as number,
    hasBeenManuallyStopped: i % 3 === 0,
    failureCount: i % 6,
  });
}

/** The floor: the table by hand, reading only what each branch needs, checking nothing. */
function inlineSwitch(iterations: number): number {
  let restarts = 0;
  for (let i = 0; i < iterations; i++) {
    const policy = policies[i & (SIZE - 1)] as RestartPolicy;
    const context = contexts[i & (SIZE - 1)] as DecisionContext;
    let restart = false;
    switch (policy.name) {
      case 'no':
        restart = false;
        break;
      case 'always':
        restart = true;
        break;
      case 'unless-stopped':
        restart = !context.hasBeenManuallyStopped;
        break;
      case 'on-failure':
        restart =
          context.exitCode !== 0 &&
          (policy.maximumRetryCount === 0 || context.failureCount <= policy.maximumRetryCount);
        break;
      case 'on-reboot':
        restart = context.exitCode === 129;
        break;
    }
    if (restart) restarts++;
  }
  return restarts;
}

/**
 * The floor with SPEC §6's checks added (a whole exit code, a whole failure count, a boolean, and a
 * retry count that fits the policy's name): what the table costs by hand once it may not decide on
 * garbage. It shows where the package's time goes.
 */
function checkedSwitch(iterations: number): number {
  let restarts = 0;
  for (let i = 0; i < iterations; i++) {
    const policy = policies[i & (SIZE - 1)] as RestartPolicy;
    const { exitCode, failureCount, hasBeenManuallyStopped } = contexts[i & (SIZE - 1)] as DecisionContext;
    if (
      exitCode >>> 0 !== exitCode ||
      failureCount >>> 0 !== failureCount ||
      typeof hasBeenManuallyStopped !== 'boolean'
    ) {
      throw new TypeError('bad context');
    }
    const max = policy.maximumRetryCount;
    if (max !== 0 && (policy.name !== 'on-failure' || max >>> 0 !== max || max > 2_147_483_647)) {
      throw new TypeError('bad policy');
    }
    let restart = false;
    switch (policy.name) {
      case 'no':
        restart = false;
        break;
      case 'always':
        restart = true;
        break;
      case 'unless-stopped':
        restart = !hasBeenManuallyStopped;
        break;
      case 'on-failure':
        restart = exitCode !== 0 && (max === 0 || failureCount <= max);
        break;
      case 'on-reboot':
        restart = exitCode === 129;
        break;
    }
    if (restart) restarts++;
  }
  return restarts;
}

function library(iterations: number): number {
  let restarts = 0;
  for (let i = 0; i < iterations; i++) {
    if (shouldRestart(policies[i & (SIZE - 1)] as RestartPolicy, contexts[i & (SIZE - 1)] as DecisionContext))
      restarts++;
  }
  return restarts;
}

/** ns per decision of this package, the floor and the checked floor: medians of interleaved runs, after a warm-up. */
export function benchDecision(): {
  packageNs: number;
  floorNs: number;
  checkedFloorNs: number;
  spread: { packageNs: Spread; floorNs: Spread; checkedFloorNs: Spread };
} {
  const iterations = 10_000_000;
  const warmUps = 2;
  const loops = [
    { loop: library, samples: [] as number[] },
    { loop: inlineSwitch, samples: [] as number[] },
    { loop: checkedSwitch, samples: [] as number[] },
  ];
  for (let run = 0; run < warmUps + 9; run++) {
    const measured = run >= warmUps;
    // Rotate which goes first, so that none always runs on a cooler or warmer core.
    const counts = new Set<number>();
    for (let k = 0; k < loops.length; k++) {
      const { loop, samples } = loops[(run + k) % loops.length] as (typeof loops)[number];
      const start = nowNs();
      counts.add(loop(iterations));
      if (measured) samples.push((elapsedMs(start) * 1e6) / iterations);
    }
    if (counts.size !== 1) throw new Error(`the decisions differ: ${[...counts].join(', ')} restarts`);
  }
  const [ours, floor, checked] = loops.map(({ samples }) => spread(samples)) as [Spread, Spread, Spread];
  return {
    packageNs: ours.median,
    floorNs: floor.median,
    checkedFloorNs: checked.median,
    spread: { packageNs: ours, floorNs: floor, checkedFloorNs: checked },
  };
}
