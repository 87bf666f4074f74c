import { type RestartPolicy, shouldRestart } from '../../src/index.js';

/** One exit fed to a manager and to the model. */
export interface ModelExit {
  exitCode: number;
  manual: boolean;
  execDurationMs: number;
}

/**
 * The SPEC §4 step (iSulad), written from the text: the count, then the backoff, then the decision
 * table — the pure `shouldRestart`, pinned on its own in decision.test.ts — so that what a model
 * test checks is the manager's state.
 */
export class IsuladModel {
  failureCount: number;
  timeoutMs = 0;
  canceled = false;

  constructor(
    public policy: RestartPolicy,
    failureCount = 0,
  ) {
    this.failureCount = failureCount;
  }

  step({ exitCode, manual, execDurationMs }: ModelExit): { restart: boolean; delayMs: number } {
    if (this.canceled) return { restart: false, delayMs: 0 };
    this.failureCount = exitCode !== 0 ? this.failureCount + 1 : 0;
    if (execDurationMs >= 10_000) this.timeoutMs = 0;
    if (this.timeoutMs === 0) this.timeoutMs = 100;
    else if (this.timeoutMs < 60_000) this.timeoutMs *= 2;
    if (this.timeoutMs > 60_000) this.timeoutMs = 60_000;
    const restart = shouldRestart(this.policy, {
      exitCode,
      hasBeenManuallyStopped: manual,
      failureCount: this.failureCount,
    });
    return { restart, delayMs: restart ? this.timeoutMs : 0 };
  }
}

/**
 * moby's `daemon/restartmanager/restartmanager.go` (SPEC §10 `profile: 'docker'`), its rules as moby
 * writes them: a restart count rather than a failure count, and on-failure's `restartCount < max`
 * (on-reboot, which moby lacks, restarts on 129 alone).
 */
export class DockerModel {
  restartCount: number;
  timeoutMs = 0;
  canceled = false;

  constructor(
    public policy: RestartPolicy,
    restartCount = 0,
  ) {
    this.restartCount = restartCount;
  }

  step({ exitCode, manual, execDurationMs }: ModelExit): { restart: boolean; delayMs: number } {
    if (this.policy.name === 'no' || this.canceled) return { restart: false, delayMs: 0 };
    if (execDurationMs >= 10_000) this.timeoutMs = 0;
    if (this.timeoutMs === 0) this.timeoutMs = 100;
    else if (this.timeoutMs < 60_000) this.timeoutMs *= 2;
    if (this.timeoutMs > 60_000) this.timeoutMs = 60_000;
    let restart = false;
    const { name, maximumRetryCount: max } = this.policy;
    if (name === 'always') restart = true;
    else if (name === 'unless-stopped' && !manual) restart = true;
    else if (name === 'on-failure' && (max === 0 || this.restartCount < max)) restart = exitCode !== 0;
    else if (name === 'on-reboot') restart = exitCode === 129;
    if (restart) this.restartCount++;
    return { restart, delayMs: restart ? this.timeoutMs : 0 };
  }
}
