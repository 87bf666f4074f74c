/**
 * The end of a run as an awaitable flag, the SIGTERM → SIGKILL → grace escalation every workload's
 * `stop` uses, and the signal-name check of `Run.kill`; all on fake time.
 */
import { describe, expect, it, vi } from 'vitest';
import { useFakeClock } from '../support/fake-clock.js';
import { Ending } from '../../src/workloads/ending.js';
import { KILL_GRACE_MS, assertSignal, stopEscalating } from '../../src/workloads/stop.js';

useFakeClock();

describe('Ending', () => {
  it('within resolves true at the end, clearing its timer', async () => {
    const ending = new Ending();
    const waited = ending.within(1_000);
    await vi.advanceTimersByTimeAsync(400);
    ending.end();
    expect(ending.ended).toBe(true);
    await expect(waited).resolves.toBe(true);
  });

  it('within resolves false after timeoutMs, and a later end wakes nobody', async () => {
    const ending = new Ending();
    const waited = ending.within(1_000);
    await vi.advanceTimersByTimeAsync(999);
    let settled = false;
    void waited.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(waited).resolves.toBe(false);
    ending.end();
    expect(ending.ended).toBe(true);
  });

  it('within resolves true at once, with no timer, once ended', async () => {
    const ending = new Ending();
    ending.end();
    ending.end();
    const waited = ending.within(1_000);
    expect(vi.getTimerCount()).toBe(0);
    await expect(waited).resolves.toBe(true);
  });
});

/** A run that ends 10 ms after `endsOn` is sent (`never`: it survives both signals). */
function fakeRun(endsOn: 'SIGTERM' | 'SIGKILL' | 'never') {
  const ending = new Ending();
  const sent: string[] = [];
  return {
    sent,
    ending,
    send(signal: 'SIGTERM' | 'SIGKILL') {
      sent.push(signal);
      if (signal === endsOn) {
        setTimeout(() => {
          ending.end();
        }, 10);
      }
    },
  };
}

describe('stopEscalating', () => {
  it('sends nothing to a run that has ended', async () => {
    const run = fakeRun('SIGTERM');
    run.ending.end();
    await stopEscalating(run, 1_000, 'Process 1');
    expect(run.sent).toEqual([]);
  });

  it('resolves once a run ends after SIGTERM, sending nothing more', async () => {
    const run = fakeRun('SIGTERM');
    const stopped = stopEscalating(run, 1_000, 'Process 1');
    await vi.advanceTimersByTimeAsync(10);
    await expect(stopped).resolves.toBeUndefined();
    expect(run.sent).toEqual(['SIGTERM']);
  });

  it('sends SIGKILL exactly timeoutMs after SIGTERM to a run that ignores it', async () => {
    const run = fakeRun('SIGKILL');
    const stopped = stopEscalating(run, 300, 'Process 1');
    await vi.advanceTimersByTimeAsync(299);
    expect(run.sent).toEqual(['SIGTERM']);
    await vi.advanceTimersByTimeAsync(1);
    expect(run.sent).toEqual(['SIGTERM', 'SIGKILL']);
    await vi.advanceTimersByTimeAsync(10);
    await expect(stopped).resolves.toBeUndefined();
  });

  it('rejects naming the run when it is still there KILL_GRACE_MS after SIGKILL', async () => {
    const run = fakeRun('never');
    const stopped = stopEscalating(run, 0, 'Container web').catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(KILL_GRACE_MS);
    expect(await stopped).toEqual(new Error('Container web did not exit within 5000 ms of SIGKILL'));
    expect(run.sent).toEqual(['SIGTERM', 'SIGKILL']);
  });

  it('rejects with the error of a signal that could not be sent', async () => {
    const failure = new Error('runc kill failed');
    const run = { ending: new Ending(), send: () => Promise.reject(failure) };
    await expect(stopEscalating(run, 100, 'Container web')).rejects.toBe(failure);
  });

  it.each([-1, Number.NaN, Infinity, '100', undefined])('refuses timeoutMs %j and sends nothing', async (timeoutMs) => {
    const run = fakeRun('SIGTERM');
    await expect(stopEscalating(run, timeoutMs as number, 'Process 1')).rejects.toThrow(/`timeoutMs`/);
    expect(run.sent).toEqual([]);
  });
});

describe('assertSignal', () => {
  it.each(['SIGTERM', 'SIGKILL', 'SIGHUP', 'SIGUSR1', 'SIGWINCH'])('accepts %s', (signal) => {
    expect(() => {
      assertSignal(signal);
    }).not.toThrow();
  });

  it.each([
    ['TERM', "'TERM'"],
    ['sigterm', "'sigterm'"],
    ['SIGNOPE', "'SIGNOPE'"],
    ['', "''"],
    [15, '15'],
    [null, 'null'],
    [undefined, 'undefined'],
    ['constructor', "'constructor'"],
  ])('refuses %j with a TypeError naming `signal` and showing %s', (signal, shown) => {
    const check = (): void => {
      assertSignal(signal);
    };
    expect(check).toThrow(TypeError);
    expect(check).toThrow(`Expected \`signal\` to be a signal name such as 'SIGTERM', got ${shown}`);
  });
});
