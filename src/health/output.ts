/**
 * The short text a health log entry keeps of a probe's output or error.
 *
 * @packageDocumentation
 */
import { show } from '../validate.js';

/**
 * The most characters a health log entry keeps (Docker keeps 4096 bytes): the head says what
 * happened, and 10 000 containers × 5 entries stay under 30 MB at worst.
 */
export const MAX_OUTPUT_LENGTH = 512;

/** The most bytes a probe collects of a stream: enough for {@link MAX_OUTPUT_LENGTH} characters of UTF-8. */
export const MAX_OUTPUT_BYTES = MAX_OUTPUT_LENGTH * 4;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** `text` trimmed, and cut to {@link MAX_OUTPUT_LENGTH} characters with `…` at the cut. */
export function shortOutput(text: string): string {
  const trimmed = text.trim();
  if (trimmed.length <= MAX_OUTPUT_LENGTH) return trimmed;
  let end = MAX_OUTPUT_LENGTH - 1;
  if (isHighSurrogate(trimmed.charCodeAt(end - 1))) end--;
  // V8 keeps a whole string alive behind a slice of it: copy the head, so a huge output is not retained.
  return Buffer.from(`${trimmed.slice(0, end)}…`).toString();
}

/** What a failed probe's log entry says: an error's message, else the thrown value shown. */
export function failureOutput(reason: unknown): string {
  try {
    // Node reports a connect that failed on every address as an AggregateError with no message.
    if (reason instanceof AggregateError && reason.message === '') {
      return shortOutput((reason.errors as unknown[]).map(failureOutput).join('; '));
    }
    if (reason instanceof Error) {
      const { message } = reason as { message: unknown };
      return shortOutput(typeof message === 'string' && message !== '' ? message : reason.name);
    }
    return shortOutput(typeof reason === 'string' ? reason : show(reason));
  } catch {
    // A hostile value (a getter or a proxy that throws) still makes a failure, never a crash.
    return 'the probe failed with a value that cannot be shown';
  }
}

/** The head of a stream, at most {@link MAX_OUTPUT_BYTES} bytes; what comes after is dropped. */
export class OutputHead {
  readonly #chunks: Buffer[] = [];
  #bytes = 0;

  /** Takes a chunk (a `'data'` listener); returns whether the head is full. */
  readonly add = (chunk: Buffer): boolean => {
    const room = MAX_OUTPUT_BYTES - this.#bytes;
    if (room > 0) {
      const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.#chunks.push(kept);
      this.#bytes += kept.length;
    }
    return this.#bytes >= MAX_OUTPUT_BYTES;
  };

  /** The head as short text. */
  text(): string {
    return shortOutput(Buffer.concat(this.#chunks).toString('utf8'));
  }
}

/** What a passed probe's log entry says: a string it gave, else nothing. */
export function passOutput(value: unknown): string {
  return typeof value === 'string' ? shortOutput(value) : '';
}
