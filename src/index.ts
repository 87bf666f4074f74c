export {
  RestartPolicyError,
  RestartCanceledError,
  ContainerError,
  isRestartPolicyError,
  isRestartCanceledError,
  isContainerError,
  type ContainerErrorCode,
} from './errors.js';
export {
  RESTART_POLICY_NAMES,
  MAX_RETRY_COUNT,
  parseRestartPolicy,
  normalizeRestartPolicy,
  formatRestartPolicy,
  type RestartPolicy,
  type RestartPolicyName,
  type RestartPolicyInput,
} from './policy.js';
export { REBOOT_EXIT_CODE, exitCodeOf } from './exit-code.js';
export { shouldRestart, type DecisionContext, type DecisionReason } from './decision.js';
export { nextBackoffMs, jitteredDelayMs, type Backoff } from './backoff.js';
export {
  DEFAULT_MANAGER_OPTIONS,
  type RestartManagerOptions,
  type ResolvedRestartManagerOptions,
  type BackoffOptions,
  type RestartProfile,
  type ExitCodeRule,
  type ExitCodeAction,
  type RateLimit,
  type Clock,
  type WallClock,
} from './options.js';
export { RestartManager, type RestartDecision, type RestartManagerJSON } from './manager.js';
export {
  restartInThread,
  type ExitInfo,
  type RestartInThreadOptions,
  type StartCallback,
  type RestartOutcome,
  type RestartOutcomeStatus,
  type RestartHandle,
} from './restart-in-thread.js';
export type { Workload, Run, RunHandle, RunNotification } from './workload.js';
export { processWorkload, RUN_ID_ENV, type ProcessRun, type ProcessWorkloadOptions } from './workloads/process.js';
export { ociWorkload, type OciWorkloadOptions, type OciRun } from './workloads/oci.js';
export {
  ociBundle,
  DEFAULT_OCI_BUNDLE_OPTIONS,
  type OciBundleOptions,
  type OciBundleMount,
  type OciBundleUser,
} from './workloads/oci-bundle.js';
export { KILL_GRACE_MS } from './workloads/stop.js';
export {
  Supervisor,
  DEFAULT_SUPERVISOR_OPTIONS,
  type SupervisorOptions,
  type SupervisorEvents,
  type ExitReason,
  type RestartReason,
  type ExhaustedReason,
  type WaitCondition,
  type ContainerSpec,
  type RestoredContainer,
  type ContainerUpdate,
  type ContainerInfo,
  type ContainerStatus,
  type ContainerRestartOptions,
  type DependencyOptions,
  type DependencyCondition,
  type GroupSpec,
  type GroupStrategy,
  type RunWatchOptions,
  type RestoreFactory,
} from './supervisor/supervisor.js';
export type { InstrumentOptions, ObservationResult, SupervisorMeter } from './supervisor/metrics.js';
export type { Dependency, Group } from './supervisor/lifecycle/following.js';
export type { LogOptions } from './workloads/log-file.js';
export {
  CONTAINER_STATUSES,
  CONTAINER_PHASES,
  MAX_ID_LENGTH,
  type ContainerState,
  type PhaseName,
} from './supervisor/state.js';
export type { StateStore } from './store/store.js';
export { MAX_STATE_FILE_BYTES } from './store/state-dir.js';
export {
  DEFAULT_HEALTH_CHECK,
  type HealthCheck,
  type HealthProbe,
  type ResolvedHealthCheck,
  type UnhealthyAction,
} from './health/options.js';
export type { HealthInfo, HealthStatus } from './health/monitor.js';
export type { HealthLogEntry } from './health/log.js';
export type { ProbeDescription } from './health/described.js';
export {
  commandProbe,
  httpProbe,
  ociExecProbe,
  tcpProbe,
  type CommandProbeOptions,
  type HttpProbeOptions,
  type OciExecProbeTarget,
  type TcpProbeTarget,
} from './health/probes.js';
