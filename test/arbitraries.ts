import fc from 'fast-check';
import { MAX_RETRY_COUNT, type RestartPolicy } from '../src/index.js';

/** Any valid, normalised policy. */
export const validPolicyArbitrary: fc.Arbitrary<RestartPolicy> = fc.oneof(
  fc.constantFrom('no', 'always', 'unless-stopped', 'on-reboot').map((name) => ({ name, maximumRetryCount: 0 })),
  fc
    .integer({ min: 0, max: MAX_RETRY_COUNT })
    .map((maximumRetryCount) => ({ name: 'on-failure' as const, maximumRetryCount })),
  fc.integer({ min: 0, max: 6 }).map((maximumRetryCount) => ({ name: 'on-failure' as const, maximumRetryCount })),
);

/** Exit codes that matter to the table, and a few others. */
export const exitCodeArbitrary: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, 1, 2, 129, 137, 255),
  fc.integer({ min: 0, max: 2 ** 32 - 1 }),
);

/** How many runs a property test makes: raised by `npm run test:deep`. */
export const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 1_000);
