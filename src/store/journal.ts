/**
 * The state journal's format. A journal segment is a file of frames, one per batch of writes; a
 * frame is its payload's byte length and CRC-32 (two little-endian u32) followed by the payload, a
 * UTF-8 JSON array of `[id, state]` pairs, `state` `null` for a removal. One frame, one checksum: a
 * batch comes back whole or not at all, and reading stops at the first frame that is cut short or
 * fails its checksum (the torn tail a crash leaves).
 *
 * @packageDocumentation
 */
import { crc32 } from 'node:zlib';

/** The bytes before a frame's payload: its length and its CRC-32. */
export const FRAME_HEADER_BYTES = 8;

const SEGMENT_PREFIX = '.journal.';
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const SEGMENT_PATTERN = /^\.journal\.([1-9]\d*)$/;

/** One write of a batch: a container id and its state's JSON text, or `undefined` for a removal. */
export type JournalWrite = readonly [id: string, text: string | undefined];

/** One write read back: the id and its state (parsed JSON), or `null` for a removal. */
export type JournalRecord = readonly [id: string, state: unknown];

/** What a segment holds: its whole frames' writes in order, and where they end. */
export interface DecodedSegment {
  /** Each whole frame's writes, in the order they were appended. */
  readonly batches: readonly (readonly JournalRecord[])[];
  /** The bytes the whole frames take; anything after them is a torn tail. */
  readonly validBytes: number;
}

/** The file name of journal segment `sequence` (hidden, so a person listing the directory sees the state files). */
export function segmentName(sequence: number): string {
  return `${SEGMENT_PREFIX}${sequence}`;
}

/** The sequence number (1, 2, …) of a journal segment's file name, or `undefined` for any other name. */
export function segmentSequenceOf(name: string): number | undefined {
  const match = SEGMENT_PATTERN.exec(name);
  const sequence = Number(match?.[1]);
  return Number.isSafeInteger(sequence) ? sequence : undefined;
}

/**
 * One batch as one frame.
 *
 * @example
 * ```ts
 * encodeFrame([['web', '{"id":"web"}'], ['db', undefined]]); // payload [["web",{"id":"web"}],["db",null]]
 * ```
 */
export function encodeFrame(writes: readonly JournalWrite[]): Buffer {
  // The texts are JSON already: they are spliced in rather than parsed and stringified again, and
  // written straight into the frame (a batch of 10k states is some 4 MB: no text of the whole
  // payload is made, then encoded, then copied; 3× faster).
  const ids = writes.map(([id]) => JSON.stringify(id));
  let payloadBytes = 2 + Math.max(0, writes.length - 1);
  writes.forEach(([, text], index) => {
    payloadBytes += 3 + Buffer.byteLength(ids[index] as string) + (text === undefined ? 4 : Buffer.byteLength(text));
  });
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadBytes);
  let at = FRAME_HEADER_BYTES;
  frame[at++] = OPEN_BRACKET;
  writes.forEach(([, text], index) => {
    if (index > 0) frame[at++] = COMMA;
    frame[at++] = OPEN_BRACKET;
    at += frame.write(ids[index] as string, at, 'utf8');
    frame[at++] = COMMA;
    at += frame.write(text ?? 'null', at, 'utf8');
    frame[at++] = CLOSE_BRACKET;
  });
  frame[at] = CLOSE_BRACKET;
  frame.writeUInt32LE(payloadBytes, 0);
  frame.writeUInt32LE(crc32(frame.subarray(FRAME_HEADER_BYTES)), 4);
  return frame;
}

function isRecord(value: unknown): value is JournalRecord {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string';
}

/** The records of one frame's payload, or `undefined` if it is not a list of `[id, state]` pairs. */
function parsePayload(payload: Buffer): JournalRecord[] | undefined {
  let records: unknown;
  try {
    records = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  return Array.isArray(records) && records.every(isRecord) ? records : undefined;
}

/** Reads a segment's frames up to the first one that is cut short, fails its checksum or does not parse. */
export function decodeSegment(bytes: Buffer): DecodedSegment {
  const batches: JournalRecord[][] = [];
  let offset = 0;
  while (bytes.length - offset >= FRAME_HEADER_BYTES) {
    const length = bytes.readUInt32LE(offset);
    const start = offset + FRAME_HEADER_BYTES;
    if (length > bytes.length - start) break;
    const payload = bytes.subarray(start, start + length);
    if (crc32(payload) !== bytes.readUInt32LE(offset + 4)) break;
    const records = parsePayload(payload);
    if (records === undefined) break;
    batches.push(records);
    offset = start + length;
  }
  return { batches, validBytes: offset };
}
