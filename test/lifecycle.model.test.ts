/**
 * The lifecycle of one container as a fast-check model (SPEC §8, §11, §13). Random sequences of
 * calls (start, stop, kill, update, remove, restart, shutdown, close) and of what the world answers
 * (a start succeeds, fails, is aborted or times out; a run exits, is lost or turns unhealthy; a
 * process ends; a stop succeeds or fails; the GC collects; the restart timer fires; a state write
 * lands or fails; a recovery answers; the daemon crashes and the next one restores) drive the pure
 * lifecycle through test/support/lifecycle-harness.ts, which carries its effects out as the
 * Supervisor does. After every move and every command, the SPEC's promises are checked.
 *
 * Calls go straight to the lifecycle, as if each came from another caller at that instant, except
 * while a call that waits for another (`restart`, `remove({ force })`) is under way, when the
 * Supervisor queues them. A failure prints the commands and, below the claim that broke, the trace
 * of every call, arrival and move (`rN` a run, `gN` a generation, `wN` a write, `sN` a stop, `tN` a timer).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Effect, type LifecycleEvent, statusOf, transition } from '../src/supervisor/lifecycle.js';
import { DEFAULT_SUPERVISOR_OPTIONS } from '../src/supervisor/options.js';
import { CONTAINER_STATUSES, type ContainerState, type PhaseName } from '../src/supervisor/state.js';
import { NUM_RUNS } from './arbitraries.js';
import { Harness, type MoveRecord, type Proc, type Token } from './support/lifecycle-harness.js';

/**
 * Why a process may be alive beside a run of the container: a late run stopped as an orphan (SPEC
 * §13: stopped at once; a failure to stop it is an `error` event); the run of a container
 * force-removed while being collected (let go of); or a run whose start was never acknowledged when
 * the daemon died (§8 promises only what was acknowledged: the write of its handle had not landed).
 */
type Exemption = 'orphan' | 'released' | 'unacknowledged';

type Call = 'start' | 'stop' | 'kill' | 'update' | 'remove' | 'remove(force)';

/**
 * Where each call is accepted, by phase (SPEC §8: start only from created or exited, remove without
 * force likewise; §13: kill only with a run; the Supervisor's TSDoc: a stop of a stopped container
 * only sets the flag, one being collected resolves at once, `remove({ force })` lets a collected run
 * go). `shutdown` and `close` are always accepted, and after a close no call is.
 */
const ACCEPTS: Record<PhaseName, readonly Call[]> = {
  created: ['start', 'stop', 'update', 'remove', 'remove(force)'],
  starting: ['stop', 'update'],
  running: ['stop', 'kill', 'update'],
  stopping: ['stop', 'kill', 'update'],
  deciding: ['update'],
  restarting: ['stop', 'update'],
  exited: ['start', 'stop', 'update', 'remove', 'remove(force)'],
  collecting: ['stop', 'update', 'remove(force)'],
  recovering: ['update'],
  removing: [],
  removed: [],
};

function callOf(event: MoveRecord['event']): Call | 'shutdown' | 'close' | undefined {
  switch (event.type) {
    case 'start':
    case 'stop':
    case 'kill':
    case 'update':
    case 'shutdown':
    case 'close':
      return event.type;
    case 'remove':
      return event.force ? 'remove(force)' : 'remove';
    default:
      return undefined;
  }
}

const RESTORE_DELAY_MS = DEFAULT_SUPERVISOR_OPTIONS.restoreDelayMs;

/** Phases the model reached, over every run of the property (to show that it goes everywhere). */
const reached = new Set<PhaseName>();

/** Each call as the lifecycle takes it, to ask (transition is pure) what it would answer in any state. */
const CALL_EVENTS: readonly [Call, LifecycleEvent<Token>][] = [
  ['start', { type: 'start' }],
  ['stop', { type: 'stop', timeoutMs: 0 }],
  ['kill', { type: 'kill', signal: 'SIGKILL' }],
  ['update', { type: 'update' }],
  ['remove', { type: 'remove', force: false }],
  ['remove(force)', { type: 'remove', force: true }],
];
/** Phases that hold a run that may be alive, whose handle the state keeps (SPEC §11). */
const WITH_RUN: ReadonlySet<PhaseName> = new Set(['running', 'stopping', 'collecting', 'recovering']);
/** Phases that wait on something: with nothing pending, they would wait forever. */
const WAITING: ReadonlySet<PhaseName> = new Set([
  'starting',
  'stopping',
  'deciding',
  'restarting',
  'collecting',
  'recovering',
  'removing',
]);

/** The SPEC's promises, checked against the harness after every move and every command. */
class Spec {
  readonly exempt = new Map<Proc, Exemption>();
  /**
   * SPEC §8: a manual stop in force, from an accepted stop (`here`) or read back from the store at a
   * restore (`restored`), until a run starts.
   */
  manualStop: 'none' | 'here' | 'restored' = 'none';
  /** Runs whose end was decided. */
  readonly decided = new Set<Token>();
  /** The decision under way was taken at a restore. */
  decidingAtRestore = false;
  /** What the store held at the last crash, and whether the workload can recover, for the restore's move. */
  restoring: { readonly state: ContainerState; readonly canRecover: boolean } | undefined;

  constructor(readonly h: Harness) {
    h.observer = (move) => {
      this.onMove(move);
    };
  }

  fail(claim: string): never {
    throw new Error(`${claim}\n${this.h.trace}`);
  }

  /** Live processes the container answers for. */
  inCharge(): Proc[] {
    return this.h.procs.filter((proc) => proc.alive && !this.exempt.has(proc));
  }

  onMove(move: MoveRecord): void {
    const { before, event, step, call } = move;
    const name = callOf(event);
    if (call && name !== undefined) {
      // Calls are refused exactly where the table says; after a close, all are.
      const accepted =
        !before.closed && (name === 'shutdown' || name === 'close' || ACCEPTS[before.phase.name].includes(name));
      if (accepted === 'refused' in step) {
        const after = before.closed ? ' after a close' : '';
        this.fail(`${name} was ${accepted ? 'refused' : 'accepted'} in phase ${before.phase.name}${after}`);
      }
    } else if ('refused' in step) {
      // An arrival is fed from a promise callback: a refusal would be thrown into it, unhandled.
      this.fail(`the arrival ${event.type} was refused in phase ${step.refused}`);
    }
    if ('refused' in step) return;
    const { state, effects } = step;
    reached.add(state.phase.name);
    // SPEC §8: the status is one of five.
    if (!CONTAINER_STATUSES.includes(statusOf(state))) this.fail(`status ${statusOf(state)} is not one of the five`);
    // SPEC §8 close(): after a close nothing moves; a run that still arrives is stopped (§13).
    if (before.closed && effects.some((effect) => effect.type !== 'stop-run' || !effect.orphan)) {
      this.fail(`after a close, ${event.type} had effects other than stopping a late run`);
    }
    this.checkRestartCount(event, before.restartCount, state.restartCount, effects);
    for (const effect of effects) this.checkEffect(move, effect);
    const has = (type: Effect<Token>['type']): boolean => effects.some((effect) => effect.type === type);
    this.checkArrival(move);
    switch (event.type) {
      case 'stop':
        // SPEC §8 manual stop: cancel the manager (a pending restart is canceled), set the flag, persist, then stop.
        if (call) {
          const stopAt = effects.findIndex((effect) => effect.type === 'stop-run');
          const persistAt = effects.findIndex((effect) => effect.type === 'persist');
          if (!has('cancel') || !state.hasBeenManuallyStopped || persistAt < 0 || (stopAt >= 0 && stopAt < persistAt)) {
            this.fail('a manual stop did not cancel, set the flag and persist it before stopping');
          }
          const canceled = effects.some((effect) => effect.type === 'emit' && effect.event === 'restart-canceled');
          if (before.phase.name === 'restarting' && !canceled) this.fail('a pending restart was canceled silently');
          this.manualStop = 'here';
        }
        break;
      case 'lost':
      case 'stop-failed': {
        // SPEC §8: a run lost, or not stopped, goes to the GC (a shutdown leaves it to the next daemon).
        const owned = 'run' in before.phase && before.phase.run === event.run && before.phase.name !== 'collecting';
        const shutdown = before.phase.name === 'stopping' && before.phase.cause === 'shutdown';
        const collected = effects.some((effect) => effect.type === 'collect' && effect.run === event.run);
        if (owned && !before.closed && !shutdown && !collected)
          this.fail(`r${event.run.id} was ${event.type} and not collected`);
        break;
      }
      case 'restore':
        this.checkRestore(step);
        break;
      default:
        break;
    }
    // SPEC §13 shutdown: NOT a manual stop, nothing of it decided or persisted (a restore brings it back),
    // but for the handle of a run that arrives as it is being stopped (so that no crash can lose it).
    const byShutdown =
      event.type === 'shutdown' ||
      (!call &&
        ((before.phase.name === 'stopping' && before.phase.cause === 'shutdown') ||
          (before.phase.name === 'starting' && before.phase.stop?.cause === 'shutdown' && event.type !== 'started')));
    if (byShutdown && (has('persist') || has('decide'))) this.fail(`the shutdown persisted or decided ${event.type}`);
    this.trackExemptions(move);
  }

  checkEffect(move: MoveRecord, effect: Effect<Token>): void {
    const { before, event, step } = move;
    const state = 'refused' in step ? before : step.state;
    switch (effect.type) {
      case 'emit': {
        // SPEC §8: an exit is reported with its decision; only a shutdown's stop reports one undecided.
        const shutdown = event.type === 'exit' && before.phase.name === 'stopping' && before.phase.cause === 'shutdown';
        if (effect.event === 'exit' && event.type !== 'decided' && !shutdown) {
          this.fail(`an exit was reported by ${event.type}, not by a decision`);
        }
        break;
      }
      case 'persist':
        // SPEC §11: the state keeps the handle of a run that may be alive, and only then.
        if ((state.handle !== undefined) !== WITH_RUN.has(state.phase.name)) {
          this.fail(
            `the state of a container ${state.phase.name} was written with handle ${JSON.stringify(state.handle)}`,
          );
        }
        break;
      case 'start-run':
        this.checkStart(move, effect.manual);
        break;
      case 'stop-run':
        if (effect.orphan) this.exempt.set(effect.run.proc, 'orphan');
        break;
      case 'decide': {
        // SPEC §8: a run's end is decided once, after its process is gone; a collected one as 255;
        // §12: one stopped as unhealthy as a failure.
        const run = 'run' in before.phase ? before.phase.run : undefined;
        if (run !== undefined && this.decided.has(run)) this.fail(`r${run.id}'s end was decided twice`);
        if (run?.proc.alive === true) this.fail(`r${run.id}'s end was decided while its process lives`);
        if (run !== undefined) this.decided.add(run);
        if (event.type === 'collected' && effect.exitCode !== 255) this.fail('a collected run was not decided as 255');
        const unhealthy = before.phase.name === 'stopping' && before.phase.cause === 'unhealthy';
        if (unhealthy && effect.exitCode === 0) this.fail('a run stopped as unhealthy was decided as a success');
        this.decidingAtRestore = effect.restored;
        break;
      }
      case 'schedule':
        // SPEC §8: a restart decided at a restore waits the fixed restore delay, not the backoff.
        if (this.decidingAtRestore && effect.delayMs !== RESTORE_DELAY_MS) {
          this.fail(`a restart decided at a restore waits ${effect.delayMs} ms, not ${RESTORE_DELAY_MS}`);
        }
        break;
      case 'collect': {
        const held = this.h.gc;
        if (held !== undefined && held !== effect.run) {
          this.fail(`the GC already collects r${held.id}, so r${effect.run.id} would never be collected`);
        }
        break;
      }
      default:
        break;
    }
  }
  /** SPEC §8: the restart count grows by one at each decided restart, and goes back to 0 at a manual start. */
  checkRestartCount(
    event: MoveRecord['event'],
    beforeCount: number,
    count: number,
    effects: readonly Effect<Token>[],
  ): void {
    let expected = beforeCount;
    if (effects.some((effect) => effect.type === 'schedule')) expected = beforeCount + 1;
    if (effects.some((effect) => effect.type === 'start-run' && effect.manual)) expected = 0;
    if (event.type === 'restore') expected = this.restoring?.state.restartCount ?? 0;
    if (count !== expected) this.fail(`the restart count went from ${beforeCount} to ${count} on ${event.type}`);
  }

  /**
   * SPEC §11: never two runs at once (a start waits until every run it answers for is gone). SPEC §8:
   * a manual start comes from a call; a restart only from its own timer, never from a canceled
   * manager, and never after a manual stop — except under `always` after a restore (§8: sticky for the
   * others, and "a manually stopped on-failure container whose stop left a non-zero code" we do not restart).
   */
  checkStart({ before, event, timer }: MoveRecord, manual: boolean): void {
    const alive = this.inCharge();
    if (alive.length > 0) this.fail(`a run starts while process ${alive.map((proc) => proc.id).join(', ')} lives`);
    if (manual) {
      if (event.type !== 'start') this.fail(`a manual start came from ${event.type}`);
    } else {
      if (event.type !== 'restart-due' || timer === undefined) this.fail(`a restart came from ${event.type}`);
      if (timer.generation !== before.generation) this.fail(`t${timer.id} of an earlier restart started this one`);
      if (timer.manager.canceled) this.fail(`t${timer.id}'s manager was canceled, yet its restart started a run`);
      if (this.manualStop === 'here') this.fail('a restart started after a manual stop');
      if (this.manualStop === 'restored' && timer.policy !== 'always') {
        this.fail(`a restart (${timer.policy}) started after a manual stop read back at a restore`);
      }
    }
    this.manualStop = 'none';
  }

  /**
   * SPEC §13: a run that arrives is followed if it is the one the container waits for (the current
   * start, not removed or closed meanwhile); if a stop came while it started it is also stopped at
   * once (followed, so that a stop that fails goes to the GC); any other is only stopped at once.
   */
  checkArrival({ before, event, step }: MoveRecord): void {
    if (event.type !== 'started' || 'refused' in step) return;
    const { effects } = step;
    const followed = effects.some((effect) => effect.type === 'watch-run' && effect.run === event.run);
    const stopped = effects.some((effect) => effect.type === 'stop-run' && effect.run === event.run);
    const current = before.phase.name === 'starting' && event.generation === before.generation && !before.closed;
    const awaited = current && before.phase.stop === undefined;
    if (followed !== current || stopped === awaited) {
      this.fail(
        `r${event.run.id} arrived ${awaited ? '' : 'late '}and was ${followed ? 'followed' : 'not followed'}${stopped ? ', stopped' : ''}`,
      );
    }
  }

  /**
   * SPEC §8 restore: `created` stays; a run that may have survived is looked for first (§11); one
   * persisted running, restarting (or removing) counts as exited with 255; `exited` keeps its code.
   */
  checkRestore(step: MoveRecord['step']): void {
    const { restoring } = this;
    if (restoring === undefined || 'refused' in step) return;
    const { state, canRecover } = restoring;
    const decide = step.effects.find((effect) => effect.type === 'decide');
    const { name } = step.state.phase;
    let expected: string;
    if (state.status === 'created') expected = 'created';
    else if (state.handle !== undefined && canRecover) expected = 'recovering';
    else expected = `decide ${state.status === 'exited' && state.handle === undefined ? (state.exitCode ?? 255) : 255}`;
    const got = decide === undefined ? name : `decide ${decide.exitCode}`;
    if (got !== expected) this.fail(`a container persisted ${state.status} was restored as ${got}, not ${expected}`);
    this.restoring = undefined;
  }

  trackExemptions({ before, event, step }: MoveRecord): void {
    if ('refused' in step) return;
    const { phase } = step.state;
    if (event.type === 'remove' && before.phase.name === 'collecting' && before.phase.run.proc.alive) {
      this.exempt.set(before.phase.run.proc, 'released');
    }
    if (
      event.type === 'remove-failed' &&
      phase.name === 'collecting' &&
      this.exempt.get(phase.run.proc) === 'released'
    ) {
      this.exempt.delete(phase.run.proc);
    }
    // The daemon answers again for a survivor it found.
    if ((event.type === 'recovered' || event.type === 'recover-failed') && event.run !== undefined) {
      this.exempt.delete(event.run.proc);
    }
  }

  /**
   * After every command: at most one live run the container answers for (SPEC §11); the state the
   * lifecycle last asked the store to hold lets a restore find it (§8: a crash at any instant loses
   * nothing acknowledged; a write that fails is the store's, reported, and its call rejects); every
   * call would be refused exactly where the table says; a close leaves no restart or GC retry
   * pending (§8); and nothing waits with nothing pending that could end the wait.
   */
  afterCommand(): void {
    const { h } = this;
    const alive = this.inCharge();
    if (alive.length > 1) this.fail(`processes ${alive.map((proc) => proc.id).join(' and ')} live at once`);
    const state = h.lastAsked;
    for (const proc of alive) {
      if (!Harness.reaches(state, proc)) {
        const shown = state === undefined ? 'no state' : `${state.status} with handle ${JSON.stringify(state.handle)}`;
        this.fail(`process ${proc.id} lives, but the state last written (${shown}) would not let a restore find it`);
      }
    }
    const box = h.box;
    if (box?.inMap !== true) return;
    const { phase, closed } = box.state;
    for (const [name, event] of CALL_EVENTS) {
      const refused = 'refused' in transition(box.state, event, h.nowMs);
      if (refused === (!closed && ACCEPTS[phase.name].includes(name))) {
        this.fail(
          `${name} would be ${refused ? 'refused' : 'accepted'} in phase ${phase.name}${closed ? ' after a close' : ''}`,
        );
      }
    }
    if (closed && (h.gc !== undefined || h.timers.some((timer) => !timer.fired))) {
      this.fail('a close left a restart timer or a GC retry behind');
    }
    const idle =
      h.attempts.length === 0 &&
      h.tokens.length === 0 &&
      h.stops.length === 0 &&
      h.gc === undefined &&
      h.timers.length === 0 &&
      h.pendingWrites.length === 0 &&
      h.recovery === undefined;
    if (!closed && idle && WAITING.has(phase.name)) this.fail(`the container waits ${phase.name} on nothing`);
  }

  /**
   * The daemon dies with `landed` pending writes landing. SPEC §11: what it leaves alive, the next
   * daemon must know of. A run that arrived while a stop was pending is persisted while it is stopped;
   * one that arrives after its start timed out, or after a close, is only stopped: a daemon dying in
   * that instant leaves it to the workload's own stale-run removal (processWorkload's `id`,
   * ociWorkload's container id), which the shell and the integration tests check.
   */
  beforeCrash(landed: number, canRecover: boolean): void {
    let state = this.h.disk;
    for (const write of this.h.pendingWrites.slice(0, landed)) state = write.content;
    if (canRecover) {
      for (const proc of this.inCharge()) if (!Harness.reaches(state, proc)) this.exempt.set(proc, 'unacknowledged');
    }
    this.manualStop = state?.hasBeenManuallyStopped === true ? 'restored' : 'none';
    this.restoring = state === undefined ? undefined : { state, canRecover };
  }
}

interface World {
  readonly h: Harness;
  readonly spec: Spec;
}
type Command = fc.Command<World, World>;

/** A kind of command: drawn from `arbitrary`, runnable when `can` holds, shown as `show`. */
interface Kind<A> {
  readonly weight: number;
  readonly arbitrary: fc.Arbitrary<A>;
  show(a: A): string;
  can(h: Harness, a: A): boolean;
  act(h: Harness, a: A, spec: Spec): void;
}

/** The command of `kind` with `a`; the invariants of {@link Spec.afterCommand} follow its run. */
function commandOf<A>(kind: Kind<A>, a: A): Command {
  return {
    check: ({ h }) => kind.can(h, a),
    run: (_, { h, spec }) => {
      kind.act(h, a, spec);
      spec.afterCommand();
    },
    toString: () => kind.show(a),
  };
}

/** The `index`-th entry of `list`, wrapping around (commands are drawn before the list exists). */
function nth<T>(list: readonly T[], index: number): T {
  return list[index % list.length] as T;
}

const index = fc.nat({ max: 3 });
const none = fc.constant(undefined);
const timeoutMs = fc.constantFrom(0, 2_500);
const policy = fc.constantFrom('no', 'always', 'unless-stopped', 'on-failure', 'on-failure:2', 'on-reboot');
const open = (h: Harness): boolean => h.box?.inMap === true;
/** The Supervisor's calls that queue behind one another on a container. */
const serial = (h: Harness): boolean => open(h) && !h.serialized;
const began = (h: Harness): Harness['stops'] => h.stops.filter((stop) => stop.after?.settled !== false);
const unfollowed = (h: Harness): Proc[] =>
  h.procs.filter((proc) => proc.alive && !h.tokens.some((token) => token.proc === proc));
const canceled = (h: Harness): Harness['attempts'] => h.attempts.filter((attempt) => attempt.manager.canceled);
const unsettled = (h: Harness): Harness['attempts'] => h.attempts.filter((attempt) => !attempt.settled);
const unfired = (h: Harness): Harness['timers'] => h.timers.filter((timer) => !timer.fired);
const pending = (h: Harness): boolean => h.pendingWrites.length > 0;

/** A kind of command, its argument's type inferred from its arbitrary. */
function kind<A>(k: Kind<A>): Kind<A> {
  return k;
}

/**
 * The calls and the arrivals. The weights keep a container alive long enough to go deep: what
 * unblocks the most (writes, starts, exits, timers) comes often, what ends a life (remove, close,
 * shutdown) rarely.
 */
const K = {
  start: kind({
    weight: 12,
    arbitrary: none,
    show: () => 'start()',
    can: serial,
    act: (h) => {
      h.start();
    },
  }),
  stop: kind({
    weight: 6,
    arbitrary: timeoutMs,
    show: (ms) => `stop(${ms})`,
    can: serial,
    act: (h, ms) => {
      h.stop(ms);
    },
  }),
  kill: kind({
    weight: 2,
    arbitrary: fc.constantFrom<NodeJS.Signals>('SIGKILL', 'SIGTERM'),
    show: (signal) => `kill(${signal})`,
    can: open,
    act: (h, signal) => {
      h.kill(signal);
    },
  }),
  update: kind({
    weight: 2,
    arbitrary: policy,
    show: (p) => `update(${p})`,
    can: serial,
    act: (h, p) => {
      h.update(p);
    },
  }),
  remove: kind({
    weight: 1,
    arbitrary: fc.boolean(),
    show: (force) => `remove(${force ? 'force' : ''})`,
    can: serial,
    act: (h, force) => {
      h.remove(force);
    },
  }),
  restart: kind({
    weight: 4,
    arbitrary: timeoutMs,
    show: (ms) => `restart(${ms})`,
    can: serial,
    act: (h, ms) => {
      h.restart(ms);
    },
  }),
  shutdown: kind({
    weight: 1,
    arbitrary: timeoutMs,
    show: (ms) => `shutdown(${ms})`,
    can: (h) => !h.closed,
    act: (h, ms) => {
      h.shutdown(ms);
    },
  }),
  close: kind({
    weight: 1,
    arbitrary: none,
    show: () => 'close()',
    can: (h) => !h.closed,
    act: (h) => {
      h.close();
    },
  }),
  startSucceeds: kind({
    weight: 16,
    arbitrary: index,
    show: (i) => `startSucceeds(#${i})`,
    can: (h) => h.attempts.length > 0,
    act: (h, i) => {
      h.startSucceeds(nth(h.attempts, i));
    },
  }),
  startFails: kind({
    weight: 4,
    arbitrary: fc.tuple(index, fc.constantFrom(125, 126, 127)),
    show: ([i, code]) => `startFails(#${i}, ${code})`,
    can: (h) => h.attempts.length > 0,
    act: (h, [i, code]) => {
      h.startFails(nth(h.attempts, i), code);
    },
  }),
  startAborted: kind({
    weight: 2,
    arbitrary: index,
    show: (i) => `startAborted(#${i})`,
    can: (h) => canceled(h).length > 0,
    act: (h, i) => {
      h.startAborted(nth(canceled(h), i));
    },
  }),
  startTimesOut: kind({
    weight: 2,
    arbitrary: index,
    show: (i) => `startTimesOut(#${i})`,
    can: (h) => unsettled(h).length > 0,
    act: (h, i) => {
      h.startTimesOut(nth(unsettled(h), i));
    },
  }),
  runExits: kind({
    weight: 12,
    arbitrary: fc.tuple(index, fc.constantFrom(0, 1, 2, 129, 137, 143, 255), fc.constantFrom(0, 50, 9_999, 10_000)),
    show: ([i, code, ms]) => `runExits(#${i}, ${code}, after ${ms} ms)`,
    can: (h) => h.tokens.length > 0,
    act: (h, [i, code, ms]) => {
      h.runExits(nth(h.tokens, i), code, ms);
    },
  }),
  runLost: kind({
    weight: 4,
    arbitrary: index,
    show: (i) => `runLost(#${i})`,
    can: (h) => h.tokens.length > 0,
    act: (h, i) => {
      h.runLost(nth(h.tokens, i));
    },
  }),
  runUnhealthy: kind({
    weight: 2,
    arbitrary: none,
    show: () => 'runUnhealthy()',
    can: (h) => h.box?.state.phase.name === 'running',
    act: (h) => {
      const phase = h.box?.state.phase;
      if (phase?.name === 'running') h.runUnhealthy(phase.run);
    },
  }),
  procEnds: kind({
    weight: 2,
    arbitrary: index,
    show: (i) => `procEnds(#${i})`,
    can: (h) => unfollowed(h).length > 0,
    act: (h, i) => {
      h.procEnds(nth(unfollowed(h), i));
    },
  }),
  stopSucceeds: kind({
    weight: 10,
    arbitrary: index,
    show: (i) => `stopSucceeds(#${i})`,
    can: (h) => began(h).length > 0,
    act: (h, i) => {
      h.stopSucceeds(nth(began(h), i));
    },
  }),
  stopFails: kind({
    weight: 4,
    arbitrary: index,
    show: (i) => `stopFails(#${i})`,
    can: (h) => began(h).length > 0,
    act: (h, i) => {
      h.stopFails(nth(began(h), i));
    },
  }),
  gcCollects: kind({
    weight: 6,
    arbitrary: none,
    show: () => 'gcCollects()',
    can: (h) => h.gc !== undefined,
    act: (h) => {
      h.gcCollects();
    },
  }),
  timerFires: kind({
    weight: 12,
    arbitrary: index,
    show: (i) => `timerFires(#${i})`,
    can: (h) => unfired(h).length > 0,
    act: (h, i) => {
      h.timerFires(nth(unfired(h), i));
    },
  }),
  writeLands: kind({
    weight: 20,
    arbitrary: none,
    show: () => 'writeLands()',
    can: pending,
    act: (h) => {
      h.writeSettles(true);
    },
  }),
  writeFails: kind({
    weight: 2,
    arbitrary: none,
    show: () => 'writeFails()',
    can: pending,
    act: (h) => {
      h.writeSettles(false);
    },
  }),
  recoverAnswers: kind({
    weight: 6,
    arbitrary: none,
    show: () => 'recoverAnswers()',
    can: (h) => h.recovery !== undefined,
    act: (h) => {
      h.recoverSettles();
    },
  }),
  recoverFails: kind({
    weight: 2,
    arbitrary: none,
    show: () => 'recoverFails()',
    can: (h) => h.recovery !== undefined,
    act: (h) => {
      h.recoverFails();
    },
  }),
  crash: kind({
    weight: 3,
    arbitrary: fc.record({ landed: fc.nat({ max: 3 }), canRecover: fc.boolean(), liveRestore: fc.boolean() }),
    show: ({ landed, canRecover, liveRestore }) =>
      `crash(${landed} land, ${canRecover ? 'can recover' : 'cannot recover'}${liveRestore ? ', liveRestore' : ''})`,
    can: () => true,
    act: (h, { landed, canRecover, liveRestore }, spec) => {
      spec.beforeCrash(landed, canRecover);
      h.crash(landed, canRecover, liveRestore);
    },
  }),
};

const COMMANDS: fc.WeightedArbitrary<Command>[] = Object.values(K).map((k: Kind<unknown>) => ({
  weight: k.weight,
  arbitrary: k.arbitrary.map((a) => commandOf(k, a)),
}));

/** Runs `commands` on a container added with `initial`, checking every promise as the property does. */
function replay(initial: string, commands: Iterable<Command>): void {
  fc.modelRun(() => {
    const h = new Harness(initial);
    const world = { h, spec: new Spec(h) };
    return { model: world, real: world };
  }, commands);
}

/** The command of `kind` with `a` (none for a command without one), for a fixed sequence. */
function c<A>(kind: Kind<A>, ...a: undefined extends A ? [] : [A]): Command {
  return commandOf(kind, a[0] as A);
}
const crash = (liveRestore = false): Command => c(K.crash, { landed: 0, canRecover: true, liveRestore });

describe('the container lifecycle as a model', () => {
  it('keeps the SPEC promises over random calls, arrivals and crashes', () => {
    fc.assert(fc.property(policy, fc.commands([fc.oneof(...COMMANDS)], { maxCommands: 200, size: 'max' }), replay), {
      numRuns: NUM_RUNS,
    });
    // The model is only as good as where it goes.
    const phases = Object.keys(ACCEPTS) as PhaseName[];
    expect(phases.filter((phase) => !reached.has(phase))).toEqual([]);
  });

  // What the property found, as fixed sequences (each names the SPEC promise it breaks on failure).
  describe('a manual stop read back at a restore keeps an on-failure container down (SPEC §8)', () => {
    const stoppedThenCrashed = [c(K.start), c(K.startSucceeds, 0), c(K.writeLands), c(K.stop, 0), c(K.writeLands)];

    it('when its survivor cannot be stopped and is collected', () => {
      replay('on-failure', [
        ...stoppedThenCrashed,
        crash(),
        c(K.recoverAnswers),
        c(K.stopFails, 0),
        c(K.gcCollects),
        c(K.writeLands),
        c(K.timerFires, 0),
      ]);
    });

    it('when its survivor cannot be looked for and is collected', () => {
      replay('on-failure', [
        ...stoppedThenCrashed,
        crash(),
        c(K.recoverFails),
        c(K.gcCollects),
        c(K.writeLands),
        c(K.timerFires, 0),
      ]);
    });

    it('when its re-adopted run exits (liveRestore)', () => {
      replay('on-failure', [
        ...stoppedThenCrashed,
        crash(true),
        c(K.recoverAnswers),
        c(K.runExits, [0, 1, 0]),
        c(K.writeLands),
        c(K.timerFires, 0),
      ]);
    });
  });

  it('a late run still being stopped when the daemon dies is known to the next daemon (SPEC §11)', () => {
    replay('always', [
      c(K.start),
      c(K.startSucceeds, 0),
      c(K.writeLands),
      c(K.runExits, [0, 1, 0]),
      c(K.writeLands),
      c(K.timerFires, 0),
      c(K.stop, 0),
      c(K.startSucceeds, 0),
      c(K.writeLands),
      c(K.writeLands),
      crash(),
    ]);
  });

  it('a run collected while its container is removed leaves no handle in the state when the removal fails', () => {
    replay('no', [
      c(K.start),
      c(K.startSucceeds, 0),
      c(K.writeLands),
      c(K.runLost, 0),
      c(K.remove, true),
      c(K.writeLands),
      c(K.gcCollects),
      c(K.writeFails),
      c(K.start),
      c(K.startFails, [0, 125]),
    ]);
  });
});
