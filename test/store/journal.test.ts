/**
 * The journal's format (src/store/journal.ts), byte for byte: a frame is a little-endian u32
 * payload length, a little-endian u32 CRC-32 of the payload, then the payload, a JSON array of
 * `[id, state]` pairs with `null` for a removal; reading stops at the first frame that is cut
 * short, fails its checksum or is not such an array. Segment names are `.journal.<n>`.
 */
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  FRAME_HEADER_BYTES,
  decodeSegment,
  encodeFrame,
  segmentName,
  segmentSequenceOf,
} from '../../src/store/journal.js';

/** A frame written out by hand: header then payload. */
function frameOf(payload: string, checksum = crc32(Buffer.from(payload))): Buffer {
  const bytes = Buffer.from(payload);
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUInt32LE(bytes.length, 0);
  header.writeUInt32LE(checksum, 4);
  return Buffer.concat([header, bytes]);
}

describe('encodeFrame', () => {
  it.each([
    ['one write', [['web', '{"id":"web","n":1}']], '[["web",{"id":"web","n":1}]]'],
    ['a removal', [['db', undefined]], '[["db",null]]'],
    [
      'writes and removals in the order given',
      [
        ['b', '{"id":"b"}'],
        ['a', undefined],
        ['c', '{"id":"c","s":"é"}'],
      ],
      '[["b",{"id":"b"}],["a",null],["c",{"id":"c","s":"é"}]]',
    ],
    ['an id that JSON must escape', [['a"b', '1']], '[["a\\"b",1]]'],
    ['no writes', [], '[]'],
  ] as const)('%s: length, CRC-32 and payload', (_, writes, payload) => {
    expect(encodeFrame(writes)).toEqual(frameOf(payload));
  });

  it('puts the byte length (not the string length) in the header', () => {
    const frame = encodeFrame([['x', '"ééé"']]);
    expect(frame.readUInt32LE(0)).toBe(Buffer.byteLength('[["x","ééé"]]'));
    expect(frame.length).toBe(FRAME_HEADER_BYTES + frame.readUInt32LE(0));
  });
});

describe('decodeSegment', () => {
  const first = encodeFrame([
    ['web', '{"id":"web","n":1}'],
    ['db', '{"id":"db"}'],
  ]);
  const second = encodeFrame([
    ['web', '{"id":"web","n":2}'],
    ['db', undefined],
  ]);
  const whole = Buffer.concat([first, second]);
  const batches = [
    [
      ['web', { id: 'web', n: 1 }],
      ['db', { id: 'db' }],
    ],
    [
      ['web', { id: 'web', n: 2 }],
      ['db', null],
    ],
  ];

  it('reads every frame back, in order', () => {
    expect(decodeSegment(whole)).toEqual({ batches, validBytes: whole.length });
  });

  it('reads an empty segment as no batches', () => {
    expect(decodeSegment(Buffer.alloc(0))).toEqual({ batches: [], validBytes: 0 });
  });

  it.each([
    ['cut in the header', Buffer.concat([first, second.subarray(0, 5)])],
    ['cut in the payload', Buffer.concat([first, second.subarray(0, second.length - 1)])],
    ['a zeroed tail (blocks allocated, never written)', Buffer.concat([first, Buffer.alloc(64)])],
    ['a checksum that does not match', Buffer.concat([first, frameOf('[["web",{"n":2}]]', 12345)])],
    ['a length past the end', Buffer.concat([first, frameOf('[]').fill(0xff, 0, 4)])],
    ['a payload that is not JSON', Buffer.concat([first, frameOf('[["web",')])],
    ['a payload that is not a list of pairs', Buffer.concat([first, frameOf('{"web":1}')])],
    ['a pair whose id is not a string', Buffer.concat([first, frameOf('[[1,{}]]')])],
    ['a pair of three', Buffer.concat([first, frameOf('[["a",1,2]]')])],
  ])('stops at a torn or bad frame (%s) and keeps the frames before it', (_, bytes) => {
    expect(decodeSegment(bytes)).toEqual({ batches: batches.slice(0, 1), validBytes: first.length });
  });

  it('ignores a whole frame that follows a bad one (nothing is appended after a failed append)', () => {
    const bytes = Buffer.concat([first, frameOf('[]', 1), second]);
    expect(decodeSegment(bytes).batches).toEqual(batches.slice(0, 1));
  });
});

describe('segment names', () => {
  it.each([
    [1, '.journal.1'],
    [42, '.journal.42'],
    [Number.MAX_SAFE_INTEGER, `.journal.${Number.MAX_SAFE_INTEGER}`],
  ])('segment %d is %s, and the name gives the number back', (sequence, name) => {
    expect(segmentName(sequence)).toBe(name);
    expect(segmentSequenceOf(name)).toBe(sequence);
  });

  it.each([
    'web.json',
    '.journal.',
    '.journal.x',
    '.journal.1.tmp',
    'journal.1',
    '.journal.-1',
    '.journal.0',
    '.journal.01',
    '.journal.9007199254740992',
  ])('%s is not a segment', (name) => {
    expect(segmentSequenceOf(name)).toBeUndefined();
  });
});
