/**
 * The head of a probe's output stream: at most MAX_OUTPUT_BYTES bytes are kept, across chunks, and
 * what comes after is dropped (the text a log entry keeps of it is pinned in monitor.test.ts).
 */
import { expect, it } from 'vitest';
import { MAX_OUTPUT_BYTES, OutputHead } from '../../src/health/output.js';

it('keeps the first MAX_OUTPUT_BYTES bytes across chunks, says when it is full, and drops the rest', () => {
  const head = new OutputHead();
  expect(head.add(Buffer.from(' '.repeat(MAX_OUTPUT_BYTES - 2)))).toBe(false);
  expect(head.add(Buffer.from('abc'))).toBe(true);
  expect(head.add(Buffer.from('d'))).toBe(true);
  expect(head.text()).toBe('ab');
});

it('keeps a chunk that fits whole', () => {
  const head = new OutputHead();
  expect(head.add(Buffer.from('all good\n'))).toBe(false);
  expect(head.add(Buffer.from('still good'))).toBe(false);
  expect(head.text()).toBe('all good\nstill good');
});
