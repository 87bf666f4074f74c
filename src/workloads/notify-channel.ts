/**
 * A run's notify pipe as seen from the daemon: the FIFO in the run's directory, read through libuv
 * (not the thread pool), its lines parsed, the notifications kept for late listeners (a bounded
 * history) and handed to each listener.
 *
 * @packageDocumentation
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { Socket } from 'node:net';
import createDebug from 'debug';
import type { Run, RunNotification } from '../workload.js';
import { readNotifyChunk } from './notify.js';

const log = createDebug('restart-manager:notify');

/** How many notifications a run keeps for a listener that subscribes later: the last ones. */
export const MAX_NOTIFY_HISTORY = 256;

/** The notifications of one run, read from its notify FIFO until {@link NotifyChannel.close}. */
export class NotifyChannel {
  readonly #socket: Socket;
  readonly #fifo: string;
  readonly #what: string;
  readonly #history: RunNotification[] = [];
  readonly #listeners = new Set<(notification: RunNotification) => void>();
  #pending: Uint8Array = new Uint8Array(0);
  #ignored = 0;

  /**
   * Opens the FIFO for reading without blocking (its writers, the run and its monitor, hold it open
   * already). `what` names the run in the debug log. The pipe does not keep this process alive.
   *
   * @throws Node's error when the FIFO cannot be opened (`ENOENT` once it is gone).
   */
  constructor(fifo: string, what: string) {
    this.#fifo = fifo;
    this.#what = what;
    const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    this.#socket = new Socket({ fd, readable: true, writable: false });
    this.#socket.unref();
    this.#socket.on('data', (chunk: Buffer) => {
      this.#read(chunk);
    });
    this.#socket.on('end', () => {
      this.close();
    });
    this.#socket.on('error', (error) => {
      log('%s: notify pipe: %O', this.#what, error);
      this.close();
    });
  }

  /** The notify lines ignored so far (malformed or unknown). */
  get ignoredLines(): number {
    return this.#ignored;
  }

  /** Whether the pipe is closed: by {@link NotifyChannel.close}, or at EOF once every writer has gone. */
  get closed(): boolean {
    return this.#socket.destroyed;
  }

  /** Calls `listener` with the notifications kept so far, then with each new one; returns unsubscribe. */
  subscribe(listener: (notification: RunNotification) => void): () => void {
    for (const notification of [...this.#history]) this.#call(listener, notification);
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Stops reading (the run has ended), after reading what is still in the pipe (a run's last lines,
   * written just before it exited); notifications kept so far stay available to new listeners.
   */
  close(): void {
    if (this.#socket.destroyed) return;
    this.#drain();
    this.#socket.destroy();
  }

  /**
   * Reads what the pipe holds now, through a second descriptor of its own (the socket's reads are
   * done by libuv when it polls, and what it read has been handed on already).
   */
  #drain(): void {
    let fd: number | undefined;
    try {
      fd = openSync(this.#fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      const buffer = Buffer.allocUnsafe(65_536);
      for (let length = readSync(fd, buffer); length > 0; length = readSync(fd, buffer)) {
        this.#read(buffer.subarray(0, length));
      }
    } catch (error) {
      // EAGAIN: the pipe is empty, a writer still holds it. Anything else is logged.
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') log('%s: notify pipe: %O', this.#what, error);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  #read(chunk: Buffer): void {
    const { pending, notifications, ignored } = readNotifyChunk(this.#pending, chunk);
    this.#pending = pending;
    if (ignored > 0) log('%s: %d notify line(s) ignored', this.#what, ignored);
    this.#ignored += ignored;
    for (const notification of notifications) {
      this.#history.push(notification);
      if (this.#history.length > MAX_NOTIFY_HISTORY) this.#history.shift();
      for (const listener of [...this.#listeners]) this.#call(listener, notification);
    }
  }

  #call(listener: (notification: RunNotification) => void, notification: RunNotification): void {
    try {
      listener(notification);
    } catch (error) {
      log('%s: a notify listener threw: %O', this.#what, error);
    }
  }
}

/**
 * Gives `run` the two members of a run started with `notify: true` ({@link Run.onNotify} and
 * {@link Run.ignoredNotifyLines}), read from `channel`; a run without a notify pipe has neither.
 */
export function exposeNotify(run: Run, channel: NotifyChannel): void {
  Object.defineProperties(run, {
    onNotify: { value: (listener: (notification: RunNotification) => void) => channel.subscribe(listener) },
    ignoredNotifyLines: { get: () => channel.ignoredLines },
  });
}
