/**
 * A synchronous stand-in for the Supervisor around one container's pure lifecycle, for the model
 * test (test/lifecycle.model.test.ts). It carries each effect out as src/supervisor/supervisor.ts
 * does, with a real RestartManager (so counts and backoff are real), but with no timers and no I/O:
 * a run is a token, and each asynchronous thing the Supervisor waits on — a start, a run, a stop, the
 * restart timer, a GC entry, a state write, a recovery — is an entry in a queue that a command
 * completes or fails. A crash drops all of the daemon but its processes and the writes that landed;
 * the next daemon reads the state back as restore.ts does.
 */
import { DEFAULT_SUPERVISOR_OPTIONS } from '../../src/supervisor/options.js';
import { RestartCanceledError } from '../../src/errors.js';
import { exitCodeOfStartError } from '../../src/exit-code.js';
import { type RestartDecision, RestartManager } from '../../src/manager.js';
import { decideExit } from '../../src/supervisor/decide.js';
import { resolveManagerOptions } from '../../src/options.js';
import type { RestartPolicyInput } from '../../src/policy.js';
import { type Container, newContainer, snapshotOf } from '../../src/supervisor/container.js';
import {
  type Effect,
  type Lifecycle,
  type LifecycleEvent,
  type Step,
  added,
  transition,
} from '../../src/supervisor/lifecycle.js';
import { persistedOf, restored } from '../../src/supervisor/restore.js';
import type { ContainerState, PhaseName } from '../../src/supervisor/state.js';
import type { RunHandle, Workload } from '../../src/workload.js';

const CONFIG = resolveManagerOptions(undefined);
const {
  stopTimeoutMs: STOP_TIMEOUT_MS,
  restoreDelayMs: RESTORE_DELAY_MS,
  startTimeoutMs: START_TIMEOUT_MS,
} = DEFAULT_SUPERVISOR_OPTIONS;
/** The harness starts runs itself: the container record only needs a workload to exist. */
const NO_WORKLOAD: Workload = { start: () => Promise.reject(new Error('the harness starts runs itself')) };
/** Phases a call waits through (the Supervisor's BUSY). */
const BUSY: ReadonlySet<PhaseName> = new Set(['starting', 'stopping', 'deciding']);

/** A process of the workload: it outlives the daemon that started it. */
export interface Proc {
  readonly id: number;
  alive: boolean;
}

/** One daemon's view of a process: the run the lifecycle holds. */
export interface Token {
  readonly id: number;
  readonly proc: Proc;
  readonly handle: RunHandle;
  /** Its exit or loss was seen. */
  settled: boolean;
}

/** A workload start in flight. */
export interface Attempt {
  readonly id: number;
  readonly generation: number;
  /** The manager whose signal the start was given. */
  readonly manager: RestartManager;
  /** Its outcome was fed, or given up on (a timeout, a close): a later failure is not fed, a later run is. */
  settled: boolean;
}

/** A state write (or, with no content, the removal of the state) in flight or done. */
export interface Write {
  readonly id: number;
  readonly content: ContainerState | undefined;
  settled: boolean;
  failed: boolean;
}

/** A `run.stop()`: it begins once the write of the move that asked for it has settled. */
export interface Stop {
  readonly id: number;
  readonly run: Token;
  readonly timeoutMs: number;
  readonly orphan: boolean;
  readonly after: Write | undefined;
  outcome: 'stopped' | 'failed' | undefined;
}

/** A restart timer: the restart is due once it fired and the write of its `restarting` state settled. */
export interface Timer {
  readonly id: number;
  readonly generation: number;
  readonly delayMs: number;
  readonly manager: RestartManager;
  readonly after: Write | undefined;
  /** The policy that decided the restart. */
  readonly policy: string;
  fired: boolean;
}

/** The second half of a call that waits for the first: `restart` (a start), `remove({ force })` and `shutdown` (a close). */
interface Continuation {
  readonly then: 'start' | 'remove' | 'close';
  readonly stop: Stop | undefined;
  readonly written: Write | undefined;
}

/** What a daemon holds of the container (the Supervisor's `Container`, reduced to what the lifecycle needs). */
export interface Box {
  state: Lifecycle<Token>;
  manager: RestartManager;
  /** Still in the Supervisor's map: not yet removed. */
  inMap: boolean;
  /** The latest state write (`container.written`). */
  lastWrite: Write | undefined;
  /** The latest stop of a run that is not an orphan (`container.stopped`). */
  lastStop: Stop | undefined;
  runStartedAtMs: number;
  /** The Supervisor's record of the container, for `snapshotOf`. */
  readonly record: Container;
}

/** One move, as the observer sees it before its effects are carried out. */
export interface MoveRecord {
  readonly before: Lifecycle<Token>;
  readonly event: LifecycleEvent<Token> | { readonly type: 'restore' };
  readonly step: Step<Token>;
  /** Fed by a call (start, stop, …), not by a run, a timer, the GC or a write. */
  readonly call: boolean;
  /** The timer whose restart is due, for `restart-due`. */
  readonly timer?: Timer | undefined;
}

/** A line of the trace: a string, or a move (formatted only when a failure shows the trace). */
type TraceLine = string | { readonly event: MoveRecord['event']; readonly step: Step<Token>; readonly from: PhaseName };

function describeMove({ event, step, from }: Exclude<TraceLine, string>): string {
  const outcome =
    'refused' in step
      ? `refused (${step.refused})`
      : `${from} → ${step.state.phase.name}` +
        (step.effects.length === 0 ? '' : ` [${step.effects.map(describeEffect).join(', ')}]`);
  return `  ${describeEvent(event)}: ${outcome}`;
}

function describeEvent(event: MoveRecord['event']): string {
  const parts = Object.entries(event)
    .filter(([key]) => key !== 'type' && key !== 'error' && key !== 'handle' && key !== 'pid')
    .map(([key, value]) => `${key} ${describeValue(value)}`);
  return parts.length === 0 ? event.type : `${event.type}(${parts.join(', ')})`;
}

function describeValue(value: unknown): string {
  if (typeof value === 'object' && value !== null && 'proc' in value && 'id' in value) return `r${String(value.id)}`;
  if (typeof value === 'object' && value !== null && 'restart' in value) {
    const { restart, delayMs } = value as RestartDecision;
    return restart ? `restart in ${delayMs} ms` : 'no restart';
  }
  return String(value);
}

function describeEffect(effect: Effect<Token>): string {
  switch (effect.type) {
    case 'emit':
      return `emit ${effect.event}`;
    case 'start-run':
      return `start-run g${effect.generation}${effect.manual ? ' manual' : ''}`;
    case 'stop-run':
      return `stop-run r${effect.run.id}${effect.orphan ? ' orphan' : ''}`;
    case 'schedule':
      return `schedule g${effect.generation} ${effect.delayMs} ms`;
    case 'watch-run':
    case 'kill-run':
    case 'collect':
      return `${effect.type} r${effect.run.id}`;
    default:
      return effect.type;
  }
}

/** The daemon (the Supervisor's shell) and the world around it, for one container. */
export class Harness {
  box: Box | undefined;
  closed = false;
  liveRestore = false;
  /** The wall clock, in ms: exits and timers move it on. */
  nowMs = 1_000_000;
  readonly procs: Proc[] = [];
  attempts: Attempt[] = [];
  /** Runs of this daemon whose exit is followed and not yet seen. */
  tokens: Token[] = [];
  stops: Stop[] = [];
  /** The run the GC keeps stopping (one entry per container, as GcQueue keys them by id). */
  gc: Token | undefined;
  timers: Timer[] = [];
  writes: Write[] = [];
  /** What the store holds: the last write that landed. */
  disk: ContainerState | undefined;
  /** A survivor being looked for at a restore, by its handle. */
  recovery: RunHandle | undefined;
  /** The state removal of an accepted `remove`, until it settles. */
  removal: Write | undefined;
  readonly #trace: TraceLine[] = [];
  observer: ((move: MoveRecord) => void) | undefined;
  #continuations: Continuation[] = [];
  #ids = 0;

  /** A container added with `policy`: `add` resolved, so its state is in the store. */
  constructor(policy: string) {
    this.box = this.#newBox(new RestartManager(policy, 0));
    this.#trace.push(`add ${policy}`);
    this.#persist(this.box);
    this.writeSettles(true);
  }

  /** What happened, one line per call, arrival and move, for a failure's message. */
  get trace(): string {
    return this.#trace.map((line) => (typeof line === 'string' ? line : describeMove(line))).join('\n');
  }

  /** The writes not yet settled, oldest first. */
  get pendingWrites(): Write[] {
    return this.writes.filter((write) => !write.settled);
  }

  /**
   * What the lifecycle last asked the store to hold: what it holds once the writes land, unless one
   * fails (a removal that failed is taken back by `remove-failed`, so it no longer counts).
   */
  get lastAsked(): ContainerState | undefined {
    const asked = this.writes.filter((write) => !(write.failed && write.content === undefined));
    const last = asked[asked.length - 1];
    return last === undefined ? this.disk : last.content;
  }

  /**
   * A call that waits for another is under way (`restart`, `remove({ force })`): the Supervisor
   * queues the calls on a container behind it, so no other call comes in the meantime.
   */
  get serialized(): boolean {
    return this.#continuations.some((continuation) => continuation.then !== 'close');
  }

  /** Whether a call's state, once durable, lets the next daemon find `proc` (restore.ts looks up any handle). */
  static reaches(state: ContainerState | undefined, proc: Proc): boolean {
    const handle = state?.handle as { proc?: number } | undefined;
    return state !== undefined && state.status !== 'created' && handle?.proc === proc.id;
  }

  // Calls.

  start(): void {
    this.#call({ type: 'start' });
  }

  stop(timeoutMs: number): void {
    this.#call({ type: 'stop', timeoutMs });
  }

  kill(signal: NodeJS.Signals): void {
    this.#call({ type: 'kill', signal });
  }

  update(policy: RestartPolicyInput): void {
    // As the Supervisor: the live manager takes the policy, then the move persists it.
    this.#open().manager.setPolicy(policy);
    this.#call({ type: 'update' });
  }

  /** `restart`: a manual stop, then (once it is done) a manual start. */
  restart(timeoutMs: number): void {
    this.#stopThen('start', timeoutMs);
  }

  /** `remove`: an idle container at once; a busy one with `force` after a stop without grace. */
  remove(force: boolean): void {
    const { name } = this.#open().state.phase;
    if (force && name !== 'created' && name !== 'exited') this.#stopThen('remove', 0);
    else this.#removeNow(force);
    this.#continue();
  }

  /** `shutdown`: every run stopped (not as a manual stop), then a close once nothing is busy. */
  shutdown(timeoutMs: number): void {
    if (this.closed) return;
    this.#trace.push(`shutdown ${timeoutMs} ms`);
    if (this.box?.inMap === true) this.#feed(this.box, { type: 'shutdown', timeoutMs }, true);
    this.#continuations.push({ then: 'close', stop: undefined, written: undefined });
    this.#continue();
  }

  /** `close`: the GC forgets its runs, pending starts are given up on, nothing is stopped. */
  close(): void {
    if (this.closed) return;
    this.#trace.push('close');
    this.closed = true;
    this.gc = undefined;
    if (this.box?.inMap === true) this.#feed(this.box, { type: 'close' }, true);
    for (const attempt of this.attempts) attempt.settled = true;
    this.#continue();
  }

  // Arrivals.

  startSucceeds(attempt: Attempt): void {
    this.attempts = this.attempts.filter((a) => a !== attempt);
    const proc: Proc = { id: this.procs.length, alive: true };
    this.procs.push(proc);
    const run = this.#token(proc);
    this.#trace.push(`start a${attempt.id} succeeds: r${run.id}`);
    attempt.settled = true;
    const box = this.#box();
    box.runStartedAtMs = this.nowMs;
    this.#feed(box, { type: 'started', generation: attempt.generation, run, pid: 1000 + proc.id, handle: run.handle });
    this.#continue();
  }

  startFails(attempt: Attempt, exitCode: number): void {
    this.attempts = this.attempts.filter((a) => a !== attempt);
    this.#trace.push(`start a${attempt.id} fails with ${exitCode}${attempt.settled ? ' (given up on)' : ''}`);
    if (!attempt.settled) this.#startFailed(attempt, new Error('spawn failed'), exitCode, false);
  }

  /** The start rejects with its manager's abort reason (the manager was canceled). */
  startAborted(attempt: Attempt): void {
    this.attempts = this.attempts.filter((a) => a !== attempt);
    this.#trace.push(`start a${attempt.id} aborted${attempt.settled ? ' (given up on)' : ''}`);
    const error = new RestartCanceledError();
    if (!attempt.settled) this.#startFailed(attempt, error, exitCodeOfStartError(error), true);
  }

  /** `startTimeoutMs` is over: the start fails, and its run, if it still comes, is a late one. */
  startTimesOut(attempt: Attempt): void {
    this.#trace.push(`start a${attempt.id} times out`);
    const error = new Error(`The workload did not start within ${START_TIMEOUT_MS} ms`);
    this.#startFailed(attempt, error, exitCodeOfStartError(error), false);
  }

  runExits(run: Token, exitCode: number, elapsedMs: number): void {
    this.nowMs += elapsedMs;
    this.#trace.push(`r${run.id} exits with ${exitCode} after ${elapsedMs} ms`);
    run.proc.alive = false;
    this.#seen(run);
    const box = this.#box();
    const { phase } = box.state;
    // As the Supervisor's watch: a run being collected that ends by itself is collected.
    if (phase.name === 'collecting' && phase.run === run) {
      const collected = this.gc;
      this.gc = undefined;
      if (collected !== undefined) this.#collected(box, collected);
    } else {
      const execDurationMs = Math.max(0, this.nowMs - box.runStartedAtMs);
      this.#feed(box, { type: 'exit', run, exitCode, execDurationMs });
    }
    this.#continue();
  }

  /** The run's exit rejects: the runtime lost track of it (its process may live on). */
  runLost(run: Token): void {
    this.#trace.push(`r${run.id} is lost`);
    this.#seen(run);
    this.#feed(this.#box(), { type: 'lost', run, error: new Error('lost') });
    this.#continue();
  }

  runUnhealthy(run: Token): void {
    this.#trace.push(`r${run.id} is unhealthy`);
    this.#feed(this.#box(), { type: 'unhealthy', run, timeoutMs: STOP_TIMEOUT_MS });
    this.#continue();
  }

  /** A process nobody follows ends by itself. */
  procEnds(proc: Proc): void {
    this.#trace.push(`process ${proc.id} ends by itself`);
    proc.alive = false;
  }

  stopSucceeds(stop: Stop): void {
    this.#trace.push(`stop s${stop.id} of r${stop.run.id} (${stop.timeoutMs} ms) succeeds`);
    this.stops = this.stops.filter((s) => s !== stop);
    stop.outcome = 'stopped';
    stop.run.proc.alive = false;
    this.#continue();
  }

  stopFails(stop: Stop): void {
    this.#trace.push(`stop s${stop.id} of r${stop.run.id} (${stop.timeoutMs} ms) fails`);
    this.stops = this.stops.filter((s) => s !== stop);
    stop.outcome = 'failed';
    // An orphan's failure can only be reported (an `error` event).
    if (!stop.orphan) this.#feed(this.#box(), { type: 'stop-failed', run: stop.run, error: new Error('EPERM') });
    this.#continue();
  }

  /** The GC's stop of its run succeeds. */
  gcCollects(): void {
    const run = this.gc;
    if (run === undefined) return;
    this.#trace.push(`the GC stops r${run.id}`);
    this.gc = undefined;
    run.proc.alive = false;
    this.#collected(this.#box(), run);
    this.#continue();
  }

  timerFires(timer: Timer): void {
    this.#trace.push(`timer t${timer.id} fires after ${timer.delayMs} ms`);
    this.nowMs += timer.delayMs;
    timer.fired = true;
    this.#due(timer);
    this.#continue();
  }

  /** The oldest pending write lands, or fails (the store keeps the writes' order). */
  writeSettles(ok: boolean): void {
    const write = this.pendingWrites[0];
    if (write === undefined) return;
    this.#trace.push(`write w${write.id} ${ok ? 'lands' : 'fails'}`);
    write.settled = true;
    write.failed = !ok;
    if (ok) this.disk = write.content;
    const box = this.#box();
    if (write === this.removal) {
      this.removal = undefined;
      if (ok) {
        this.#feed(box, { type: 'removed' });
        box.inMap = false;
      } else if (box.state.phase.name === 'removing') this.#feed(box, { type: 'remove-failed' });
    }
    for (const timer of this.timers.filter((t) => t.after === write)) this.#due(timer);
    this.#continue();
  }

  /** The workload's `recover` answers: the run if its process is alive, else nothing. */
  recoverSettles(): void {
    const handle = this.recovery as { proc: number };
    this.recovery = undefined;
    const proc = this.procs[handle.proc] as Proc;
    const box = this.#box();
    const run = proc.alive ? this.#token(proc) : undefined;
    this.#trace.push(run === undefined ? 'recover finds nothing' : `recover finds r${run.id}`);
    if (run !== undefined) box.runStartedAtMs = box.state.startedAtMs ?? this.nowMs;
    this.#feed(box, { type: 'recovered', run, liveRestore: this.liveRestore, timeoutMs: STOP_TIMEOUT_MS });
    this.#continue();
  }

  /** The workload's `recover` throws: the survivor is collected by its handle. */
  recoverFails(): void {
    const handle = this.recovery as { proc: number };
    this.recovery = undefined;
    const run = this.#token(this.procs[handle.proc] as Proc);
    this.#trace.push(`recover fails: survivor r${run.id}`);
    this.#feed(this.#box(), { type: 'recover-failed', run, error: new Error('cannot tell') });
    this.#continue();
  }

  /**
   * The daemon dies: the first `landed` pending writes land, everything else of it is gone but the
   * processes (which die with it when the workload `canRecover` not, see the model test). The next
   * daemon restores what the store holds.
   */
  crash(landed: number, canRecover: boolean, liveRestore: boolean): void {
    for (const write of this.pendingWrites.slice(0, landed)) this.disk = write.content;
    this.#trace.push(
      `crash (${landed} pending writes land); restore: ${this.disk?.status ?? 'nothing'}, ` +
        `${canRecover ? 'can' : 'cannot'} recover, liveRestore ${String(liveRestore)}`,
    );
    this.closed = false;
    this.liveRestore = liveRestore;
    this.attempts = [];
    this.tokens = [];
    this.stops = [];
    this.gc = undefined;
    this.timers = [];
    this.writes = [];
    this.recovery = undefined;
    this.removal = undefined;
    this.#continuations = [];
    if (!canRecover) for (const proc of this.procs) proc.alive = false;
    const state = this.disk;
    if (state === undefined) {
      this.box = undefined;
      return;
    }
    const box = this.#newBox(new RestartManager(state.policy, state.failureCount));
    this.box = box;
    const step = restored<Token>(persistedOf(state), canRecover, RESTORE_DELAY_MS, this.nowMs);
    this.#record(box, { type: 'restore' }, step, false);
    box.state = step.state;
    this.#carryOut(box, step.effects);
    this.#continue();
  }

  #call(event: LifecycleEvent<Token>): Step<Token> {
    this.#trace.push(describeEvent(event));
    const step = this.#feed(this.#open(), event, true);
    this.#continue();
    return step;
  }

  #open(): Box {
    const box = this.box;
    if (box?.inMap !== true) throw new Error('no container: a command checked for one');
    return box;
  }

  #box(): Box {
    if (this.box === undefined) throw new Error('no container: a command checked for one');
    return this.box;
  }

  /** A call that stops first and goes on once the stop is done (the Supervisor's `#stop`, then the next call). */
  #stopThen(then: 'start' | 'remove', timeoutMs: number): void {
    const box = this.#open();
    const earlier = box.lastStop;
    const write = box.lastWrite;
    this.#trace.push(`${then === 'start' ? 'restart' : 'remove(force)'}: stop ${timeoutMs} ms first`);
    const step = this.#feed(box, { type: 'stop', timeoutMs }, true);
    if ('refused' in step) return;
    const stop = box.lastStop === earlier ? undefined : box.lastStop;
    const written = box.lastWrite === write ? undefined : box.lastWrite;
    this.#continuations.push({ then, stop, written });
    this.#continue();
  }

  #removeNow(force: boolean): void {
    const box = this.#open();
    this.#trace.push(`remove${force ? '(force)' : ''}`);
    const before = this.writes.length;
    const step = this.#feed(box, { type: 'remove', force }, true);
    if (!('refused' in step)) this.removal = this.writes[before];
  }

  /** Carries out the second halves of calls whose first half is done (the Supervisor's awaits). */
  #continue(): void {
    for (let progress = true; progress;) {
      progress = false;
      // A shutdown's close comes first: it waits for nothing more than the runs.
      const ordered = [...this.#continuations].sort((a, b) => Number(b.then === 'close') - Number(a.then === 'close'));
      for (const continuation of ordered) {
        const outcome = this.#ready(continuation);
        if (outcome === 'wait') continue;
        this.#continuations = this.#continuations.filter((c) => c !== continuation);
        progress = true;
        if (continuation.then === 'close') this.close();
        else if (outcome === 'rejected' || this.box?.inMap !== true) continue;
        else if (continuation.then === 'start') this.#call({ type: 'start' });
        else this.#removeNow(true);
      }
    }
  }

  #ready({ then, stop, written }: Continuation): 'go' | 'wait' | 'rejected' {
    const box = this.box;
    const busy = box !== undefined && BUSY.has(box.state.phase.name) && !this.closed;
    if (then === 'close') return busy ? 'wait' : 'go';
    if (stop !== undefined && stop.outcome === undefined) return 'wait';
    if (stop?.outcome === 'failed') return 'rejected';
    if (busy || this.stops.some((s) => s.orphan)) return 'wait';
    if (box?.lastWrite?.settled === false || written?.settled === false) return 'wait';
    return written?.failed === true ? 'rejected' : 'go';
  }

  #startFailed(attempt: Attempt, error: Error, exitCode: number, canceled: boolean): void {
    attempt.settled = true;
    const { generation } = attempt;
    this.#feed(this.#box(), { type: 'start-failed', generation, error, exitCode, canceled });
    this.#continue();
  }

  #seen(run: Token): void {
    run.settled = true;
    this.tokens = this.tokens.filter((t) => t !== run);
  }

  #collected(box: Box, run: Token): void {
    if (!box.inMap) return;
    const execDurationMs = Math.max(0, this.nowMs - box.runStartedAtMs);
    this.#feed(box, { type: 'collected', run, execDurationMs });
  }

  #due(timer: Timer): void {
    if (!timer.fired || timer.after?.settled === false || !this.timers.includes(timer)) return;
    this.timers = this.timers.filter((t) => t !== timer);
    this.#feed(this.#box(), { type: 'restart-due', generation: timer.generation }, false, timer);
  }

  #token(proc: Proc): Token {
    return { id: ++this.#ids, proc, handle: { proc: proc.id }, settled: false };
  }

  #feed(box: Box, event: LifecycleEvent<Token>, call = false, timer?: Timer): Step<Token> {
    const step = transition(box.state, event, this.nowMs);
    this.#record(box, event, step, call, timer);
    if ('refused' in step) return step;
    box.state = step.state;
    this.#carryOut(box, step.effects);
    return step;
  }

  #record(box: Box, event: MoveRecord['event'], step: Step<Token>, call: boolean, timer?: Timer): void {
    const before = box.state;
    this.#trace.push({ event, step, from: before.phase.name });
    this.observer?.({ before, event, step, call, timer });
  }

  /** Carries out a move's effects in order, as the Supervisor's `#commit`. */
  #carryOut(box: Box, effects: readonly Effect<Token>[]): void {
    let written: Write | undefined;
    for (const effect of effects) {
      switch (effect.type) {
        case 'persist':
          written = this.#persist(box);
          break;
        case 'forget':
          written = this.#write(undefined);
          break;
        case 'cancel':
          // The manager is canceled and the restart timer stopped; one that fired already waits on its write.
          box.manager.cancel();
          this.timers = this.timers.filter((timer) => timer.fired);
          break;
        case 'start-run':
          if (effect.manual) {
            box.manager.cancel();
            box.manager = new RestartManager(box.manager.policy, 0);
          }
          this.attempts.push({
            id: ++this.#ids,
            generation: effect.generation,
            manager: box.manager,
            settled: false,
          });
          break;
        case 'watch-run':
          if (!effect.run.settled) this.tokens.push(effect.run);
          break;
        case 'stop-run': {
          const { run, orphan } = effect;
          const timeoutMs = effect.timeoutMs ?? STOP_TIMEOUT_MS;
          const stop: Stop = { id: ++this.#ids, run, timeoutMs, orphan, after: written, outcome: undefined };
          this.stops.push(stop);
          if (!orphan) box.lastStop = stop;
          break;
        }
        case 'collect':
          // GcQueue.add ignores a container it already collects.
          this.gc ??= effect.run;
          break;
        case 'uncollect':
          this.gc = undefined;
          break;
        case 'decide':
          this.#decide(box, effect);
          break;
        case 'schedule':
          this.timers.push({
            id: ++this.#ids,
            generation: effect.generation,
            delayMs: effect.delayMs,
            manager: box.manager,
            after: box.lastWrite,
            policy: box.manager.policy.name,
            fired: false,
          });
          break;
        case 'recover':
          this.recovery = box.state.handle;
          break;
        // Events, signals and health checks change nothing the lifecycle waits on: the model reads them from the effects.
        case 'emit':
        case 'kill-run':
        case 'probe':
        case 'unprobe':
          break;
      }
    }
  }

  /** As the Supervisor's `#decide`: a restore does not use up a backoff step and keeps a manual stop sticky. */
  #decide(
    box: Box,
    { exitCode, execDurationMs, restored: isRestore }: Extract<Effect<Token>, { type: 'decide' }>,
  ): void {
    const { manager, state } = box;
    const decision = decideExit(manager, state.hasBeenManuallyStopped, exitCode, execDurationMs, isRestore);
    this.#feed(box, { type: 'decided', decision, failureCount: manager.failureCount });
  }

  #newBox(manager: RestartManager): Box {
    const state = added<Token>();
    const fields = { workload: NO_WORKLOAD, meta: undefined, options: undefined, config: CONFIG, manager };
    const record = newContainer('c', state as Lifecycle<never>, fields);
    return { state, manager, inMap: true, lastWrite: undefined, lastStop: undefined, runStartedAtMs: 0, record };
  }

  /** Writes what the Supervisor's `#write` would: `snapshotOf` the container, as JSON. */
  #persist(box: Box): Write {
    box.record.state = box.state as Lifecycle<never>;
    box.record.manager = box.manager;
    const write = this.#write(structuredClone(snapshotOf(box.record)));
    box.lastWrite = write;
    return write;
  }

  #write(content: ContainerState | undefined): Write {
    const write: Write = { id: ++this.#ids, content, settled: false, failed: false };
    this.writes.push(write);
    return write;
  }
}
