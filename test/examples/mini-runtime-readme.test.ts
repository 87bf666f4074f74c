/**
 * The example runtime's tutorial (examples/mini-runtime/README.md) shows its code in excerpts: each
 * ```ts block must be in its source as it is, line by line (indentation aside), so that the tutorial
 * never shows code the runtime no longer runs.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { codeBlocksOf } from '../support/markdown.js';

const DIR = fileURLToPath(new URL('../../examples/mini-runtime', import.meta.url));
const excerpts = codeBlocksOf(readFileSync(join(DIR, 'README.md'), 'utf8')).filter((block) => block.lang === 'ts');
/** The source, each line trimmed, as one text. */
const source = readdirSync(join(DIR, 'src'))
  .map((file) => lines(readFileSync(join(DIR, 'src', file), 'utf8')))
  .join('\n');

function lines(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join('\n');
}

describe('the mini-runtime tutorial', () => {
  it('shows excerpts', () => {
    expect(excerpts.length).toBeGreaterThan(0);
  });

  it.each(excerpts.map((block) => [block.line, block] as const))(
    'shows at line %i code that is in the source as it is',
    (_line, block) => {
      expect(source).toContain(lines(block.code));
    },
  );
});
