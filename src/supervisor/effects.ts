/**
 * The interpreter: the only place where the lifecycle's moves meet the world. It holds each
 * container's lifecycle state, feeds it what happens (with the clock and random readings the table
 * needs), and carries each move's effects out through its ports: the store, the runs, the timers,
 * the health monitors, the garbage collector. It decides nothing.
 *
 * @packageDocumentation
 */
import { drawRandom } from '../backoff.js';
import { HealthMonitor } from '../health/monitor.js';
import type { ResolvedHealthCheck } from '../health/options.js';
import type { WallClock } from '../options.js';
import { RestartCanceledError } from '../errors.js';
import { type TimerHandle, startTimer, stopTimer } from '../timers.js';
import type { Run, Workload } from '../workload.js';
import { emitSafely, type SupervisorEvents } from './events.js';
import type { EventEmitter } from 'node:events';
import { GcQueue } from './gc.js';
import type { CallId, Effect, Emitted, Happening, Model, Move, Readings, TimerName } from './lifecycle/model.js';
import type { World } from './lifecycle/graph.js';
import { Neighbours } from './neighbours.js';
import { CallOutcomes } from './outcomes.js';
import { Writes } from './writes.js';
import { MemorySampler } from '../workloads/memory-sampler.js';
import { settled, step, stray } from './lifecycle/table.js';
import { isGone, snapshotOf } from './lifecycle/view.js';
import { Arrivals } from './arrivals.js';
import { RunPort } from './run-port.js';
import type { StateStore } from '../store/store.js';

/** What hears every event emitted, and every probe's result. */
export interface Observer {
  emitted(id: string, emitted: Emitted): void;
  probed(id: string, passed: boolean): void;
}

/** What the interpreter needs of its owner. */
export interface Ports {
  readonly store: StateStore | undefined;
  readonly emitter: EventEmitter<SupervisorEvents>;
  /** The monotonic clock (the supervisor's `clock` option) and the wall clock. */
  readonly clock: { now(): number };
  readonly wallClock: WallClock;
  readonly random: () => number;
  /** Told of every event emitted and every health check's result (the metrics). */
  readonly observer?: Observer | undefined;
  /** How long the stop of a run nobody owns may take. */
  readonly stopTimeoutMs: number;
}

/** What the interpreter keeps of one container besides its lifecycle state: the handles of what it started. */
interface Resources {
  workload: Workload;
  /** The start signal of the runs since the last manual start or cancel; made when a run first needs it. */
  controller: AbortController | undefined;
  readonly timers: Map<TimerName, TimerHandle>;
  monitor: HealthMonitor | undefined;
  probed: Run | undefined;
  /** The run whose memory is sampled. */
  sampled: Run | undefined;
  /** The latest state write; settles (never rejects) once it is durable or has failed. */
  written: Promise<void>;
}

/** Holds the containers' lifecycle states and carries out their moves. */
export class Interpreter {
  readonly #models = new Map<string, Model<Run>>();
  readonly #resources = new Map<string, Resources>();
  readonly #calls = new CallOutcomes();
  readonly #writes: Writes;
  readonly #ports: Ports;
  readonly #runs: RunPort;
  readonly #gc: GcQueue;
  readonly #arrivals: Arrivals;
  readonly #memory: MemorySampler;
  readonly #neighbours = new Neighbours();

  constructor(ports: Ports) {
    this.#ports = ports;
    this.#arrivals = new Arrivals();
    const report = (id: string, happening: Happening<Run>): void => {
      this.#arrivals.arrive(() => {
        this.feed(id, happening);
      });
    };
    this.#runs = new RunPort(report);
    this.#memory = new MemorySampler((id, bytes) => {
      const run = this.#resources.get(id)?.sampled;
      if (run !== undefined) report(id, { type: 'memory', run, bytes });
    });
    this.#writes = new Writes(ports.store, {
      settle: (call, outcome) => {
        this.#calls.settle(call, outcome);
      },
      report: (id, happening) => {
        this.feed(id, happening);
      },
    });
    this.#gc = new GcQueue({
      retryFailed: (id, attempts, error) => {
        report(id, { type: 'gc-retry-failed', attempts, error });
      },
      collected: (id, attempts, run) => {
        report(id, { type: 'collected', run, attempts });
      },
    });
  }

  /** What the table reads of the other containers. */
  readonly #world: World = {
    get: (id) => this.#models.get(id),
    dependentsOf: (id) => this.#neighbours.dependentsOf(id),
  };

  /** What the table reads of the containers, for a check before a call (a cycle, a dependent). */
  get world(): World {
    return this.#world;
  }

  /** The lifecycle state of container `id`. */
  get(id: string): Model<Run> | undefined {
    return this.#models.get(id);
  }

  /** Every container's lifecycle state, in the order they were added. */
  all(): IterableIterator<Model<Run>> {
    return this.#models.values();
  }

  /** The health of container `id`, as its monitor says. */
  healthOf(id: string): HealthMonitor['info'] | null {
    return this.#resources.get(id)?.monitor?.info ?? null;
  }

  /** A new call's id and the promise its `settle` will settle. */
  newCall(id: string): [CallId, Promise<number | null | undefined>] {
    return this.#calls.open(id);
  }

  /** Makes a container from its first move (an add, a restore), with the workload it runs. */
  create(move: Move<Run>, workload: Workload): void {
    const { id } = move.state;
    const resources: Resources = {
      workload,
      controller: undefined,
      timers: new Map(),
      monitor: undefined,
      probed: undefined,
      sampled: undefined,
      written: Promise.resolve(),
    };
    this.#resources.set(id, resources);
    this.#commit(id, settled(move, this.#world, this.now()));
  }

  /** The clocks' readings now. */
  now(): Readings {
    return { nowMs: this.#ports.clock.now(), wallMs: this.#ports.wallClock.now() };
  }

  /** The readings an event needs, taken now (a random number only for a decision that may jitter). */
  readings(model: Model<Run>, happening: Happening<Run>): Readings {
    const { nowMs, wallMs } = this.now();
    const decides = happening.type === 'exit' || happening.type === 'collected';
    if (!decides || model.config.backoff.jitter === 0) return { nowMs, wallMs };
    try {
      return { nowMs, wallMs, random: drawRandom(this.#ports.random) };
    } catch (error) {
      // Only the caller's `random` can fail here: nothing is decided on it.
      emitSafely(this.#ports.emitter, 'error', { id: model.id, error });
      return { nowMs, wallMs, failed: true };
    }
  }

  /** Feeds what happened to container `id` into its lifecycle, and carries out the move. */
  feed(id: string, happening: Happening<Run>): void {
    const model = this.#models.get(id);
    if (model === undefined) {
      for (const effect of stray({ ...happening, ...this.now() }, this.#ports.stopTimeoutMs)) {
        if (effect.type === 'stop-orphan') this.#runs.stopOrphan(id, effect.run, effect.timeoutMs);
        else if (effect.type === 'emit') emitSafely(this.#ports.emitter, effect.event, { id, ...effect.payload });
      }
      return;
    }
    // The readings are a new object: the happening's fields go onto it (spreading both into a new
    // literal makes V8 build the event key by key, some 4 µs against 0.1).
    const event = Object.assign(this.readings(model, happening), happening);
    this.#commit(id, step(model, event, this.#world));
  }

  /** Hears at once every run report a long burst deferred (before a close, so that a late run is stopped). */
  drain(): void {
    this.#arrivals.flush();
  }

  /** Resolves once every state write asked for so far has settled. */
  writesSettled(): Promise<void> {
    return this.#writes.settled();
  }

  #commit(id: string, move: Move<Run>): void {
    const { state } = move;
    this.#neighbours.follow(id, this.#models.get(id), isGone(state) ? undefined : state);
    this.#models.set(id, state);
    for (const effect of move.effects) this.#carry(id, effect);
    if (isGone(state) && this.#models.get(id) === state) {
      this.#models.delete(id);
      this.#resources.delete(id);
    }
  }

  #carry(id: string, effect: Effect<Run>): void {
    const resources = this.#resources.get(id);
    const model = this.#models.get(id);
    if (resources === undefined || model === undefined) return;
    switch (effect.type) {
      case 'persist':
        resources.written = this.#writes.save(id, snapshotOf(model), effect.calls ?? [], effect.ack);
        break;
      case 'forget':
        resources.written = this.#writes.forget(id, effect.call);
        break;
      case 'emit':
        this.#ports.observer?.emitted(id, effect);
        emitSafely(this.#ports.emitter, effect.event, { id, ...effect.payload });
        break;
      case 'settle':
        if (effect.afterWrites)
          void resources.written.then(() => {
            this.#calls.settle(effect.call, effect.outcome);
          });
        else this.#calls.settle(effect.call, effect.outcome);
        break;
      case 'cancel':
        resources.controller?.abort(new RestartCanceledError());
        resources.controller = undefined;
        break;
      case 'start-run':
        if (effect.manual || resources.controller === undefined) resources.controller = new AbortController();
        this.#runs.start(id, resources.workload, resources.controller.signal, effect.generation);
        break;
      case 'watch':
        this.#runs.watch(id, effect.run);
        break;
      case 'stop-run':
        this.#runs.stop(id, effect.run, effect.timeoutMs, resources.written);
        break;
      case 'stop-orphan':
        this.#runs.stopOrphan(id, effect.run, effect.timeoutMs);
        break;
      case 'kill-run':
        this.#runs.kill(id, effect.call, effect.run, effect.signal);
        break;
      case 'timer':
        this.#timer(id, resources, effect.timer, effect.generation, effect.delayMs, effect.afterWrites);
        break;
      case 'clear-timer':
        stopTimer(resources.timers.get(effect.timer));
        resources.timers.delete(effect.timer);
        break;
      case 'collect':
        this.#gc.add(id, effect.run, effect.timeoutMs);
        break;
      case 'uncollect':
        this.#gc.delete(id);
        break;
      case 'collect-now':
        this.#gc.collect(id);
        break;
      case 'recover':
        this.#runs.recover(
          id,
          resources.workload,
          effect.handle,
          model.pid,
          (resources.controller ??= new AbortController()).signal,
          effect.timeoutMs,
        );
        break;
      case 'health-check':
        this.#healthCheck(id, resources, effect.check, effect.run);
        break;
      case 'probe':
        resources.probed = effect.run;
        resources.monitor?.start();
        break;
      case 'unprobe':
        resources.probed = undefined;
        resources.monitor?.stop();
        break;
      case 'announce':
        for (const other of this.#neighbours.toTell(id, model)) this.feed(other, { type: 'neighbour', id });
        break;
      case 'start-dependency':
        this.#startDependency(id, effect.dependency);
        break;
      case 'group-restarted':
        this.#groupRestarted(id, model);
        break;
      case 'sample-memory':
        this.#sample(id, resources, effect.run, effect.everyMs);
        break;
      case 'unsample':
        resources.sampled = undefined;
        this.#memory.unwatch(id);
        break;
    }
  }

  /** Starts a dependency by hand, for a start that needs it; a failure fails that start. */
  #startDependency(id: string, dependency: string): void {
    if (this.#models.get(dependency) === undefined) return;
    const [call, done] = this.newCall(dependency);
    this.feed(dependency, { type: 'start', call });
    done.catch((error: unknown) => {
      this.feed(id, { type: 'dependency-failed', dependency, error });
    });
  }

  /** A member of a group restarts: its budget counts it; the strategy takes others down, or the group gives up. */
  #groupRestarted(id: string, model: Model<Run>): void {
    if (model.group === undefined) return;
    const { feed, exhausted } = this.#neighbours.memberRestarted(model.group, id, this.now().nowMs);
    if (exhausted !== undefined) emitSafely(this.#ports.emitter, 'group-exhausted', exhausted);
    for (const [member, happening] of feed) this.feed(member, happening);
  }

  /** A timer of the container; with `afterWrites`, it fires once its delay is over and the writes so far have settled. */
  #timer(
    id: string,
    resources: Resources,
    name: TimerName,
    generation: number,
    delayMs: number,
    afterWrites: boolean,
  ): void {
    stopTimer(resources.timers.get(name));
    const fire = (): void => {
      this.#arrivals.arrive(() => {
        this.feed(id, { type: 'timer', timer: name, generation });
      });
    };
    let pending = afterWrites ? 2 : 1;
    const due = (): void => {
      if (--pending === 0) fire();
    };
    const handle = startTimer(() => {
      if (resources.timers.get(name) === handle) resources.timers.delete(name);
      due();
    }, delayMs);
    resources.timers.set(name, handle);
    if (afterWrites) void resources.written.then(due);
  }

  #healthCheck(id: string, resources: Resources, check: ResolvedHealthCheck | undefined, run: Run | undefined): void {
    resources.monitor?.stop();
    resources.monitor =
      check === undefined
        ? undefined
        : new HealthMonitor(
            check,
            this.#ports.wallClock,
            (info, unhealthy) => {
              this.feed(id, { type: 'health', run: resources.probed, info, unhealthy });
            },
            this.#ports.observer === undefined
              ? undefined
              : (passed) => {
                  this.#ports.observer?.probed(id, passed);
                },
          );
    if (run !== undefined) {
      resources.probed = run;
      resources.monitor?.start();
    }
  }

  /** Samples a run's memory every `everyMs` (a run without a pid cannot be). */
  #sample(id: string, resources: Resources, run: Run, everyMs: number): void {
    if (run.pid === undefined) return;
    resources.sampled = run;
    this.#memory.watch(id, run.pid, run.memorySource ?? 'process-group', everyMs);
  }

  /** Stops every GC retry and every memory sample (a close). */
  stopBackground(): void {
    this.#gc.clear();
    this.#memory.close();
  }
}
