/** Figure 1: the pure decision table, ns per decision, against an inline switch over the same inputs. */
import { shouldRestart, type DecisionContext, type RestartPolicy } from '../../dist/index.js';
import { elapsedMs, median, nowNs } from './measure.js';

const POLICIES: RestartPolicy[] = [
  { name: 'no', maximumRetryCount: 0 },
  { name: 'always', maximumRetryCount: 0 },
  { name: 'on-failure', maximumRetryCount: 3 },
  { name: 'unless-stopped', maximumRetryCount: 0 },
  { name: 'on-reboot', maximumRetryCount: 0 },
];
const SIZE = 1024;
const policies: RestartPolicy[] = [];
const contexts: DecisionContext[] = [];
for (let i = 0; i < SIZE; i++) {
  policies.push(POLICIES[i % POLICIES.length] as RestartPolicy);
  contexts.push({
    exitCode: [0, 1, 2, 129, 137][(i * 7) % 5] as number,
    hasBeenManuallyStopped: i % 3 === 0,
    failureCount: i % 6,
  });
}

/** The floor: the table by hand, no checks. */
function inlineSwitch(iterations: number): number {
  let restarts = 0;
  for (let i = 0; i < iterations; i++) {
    const policy = policies[i & (SIZE - 1)] as RestartPolicy;
    const context = contexts[i & (SIZE - 1)] as DecisionContext;
    let restart: boolean;
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

function library(iterations: number): number {
  let restarts = 0;
  for (let i = 0; i < iterations; i++) {
    if (shouldRestart(policies[i & (SIZE - 1)] as RestartPolicy, contexts[i & (SIZE - 1)] as DecisionContext))
      restarts++;
  }
  return restarts;
}

/** ns per decision of this package and of the floor (medians of interleaved runs). */
export function benchDecision(): { packageNs: number; floorNs: number } {
  const iterations = 10_000_000;
  const ours: number[] = [];
  const floor: number[] = [];
  for (let run = 0; run < 9; run++) {
    let start = nowNs();
    const a = library(iterations);
    if (run >= 2) ours.push((elapsedMs(start) * 1e6) / iterations);
    start = nowNs();
    const b = inlineSwitch(iterations);
    if (run >= 2) floor.push((elapsedMs(start) * 1e6) / iterations);
    if (a !== b) throw new Error(`the decisions differ: ${a} and ${b}`);
  }
  return { packageNs: median(ours), floorNs: median(floor) };
}
