/**
 * What a side of the container bench must do. dockerd (dockerd-driver.ts) and the bare-runc floor
 * (runc-floor.ts) implement it; the library's side (a `Supervisor` running `ociWorkload`s) is meant
 * to sit beside them as a third implementation.
 */

/** One container of a scenario: its id, and the `sh -c` script it runs in the busybox rootfs. */
export interface BenchContainer {
  id: string;
  script: string;
}

/** A container runtime under test, restarting containers under `always` (first delay 100 ms). */
export interface ContainerDriver {
  /** Short, for tables: `dockerd`, `runc-floor`, … */
  readonly name: string;
  /**
   * Starts the containers under `always` with `obsDir` bind-mounted read-write at `/obs` and no
   * network. Resolves once each was started (its script may not have run yet).
   */
  start(containers: readonly BenchContainer[], obsDir: string): Promise<void>;
  /** Removes every container it started; resolves once they are gone and nothing restarts them. */
  removeAll(): Promise<void>;
  /** The pids of the runtime's own processes (never the containers'), for the memory figure. */
  runtimePids(): number[];
  /** Ends whatever the driver started (daemons, directories). */
  close(): Promise<void>;
}

/** A driver whose daemon can be restarted with its containers defined (scenario B). */
export interface RestartableDriver extends ContainerDriver {
  /**
   * Ends the daemon (`'kill'`: SIGKILL, `'stop'`: SIGTERM) and starts a new one; resolves with
   * when the new one was spawned and when it answered, on the {@link uptimeMs} clock.
   */
  restartDaemon(how: 'stop' | 'kill'): Promise<{ spawnedAtMs: number; readyAtMs: number }>;
}
