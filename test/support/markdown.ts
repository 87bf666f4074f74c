/**
 * What the docs test reads in a Markdown page: its fenced code blocks with the marker comment before
 * each, and the command lines of a shell block split into words as `sh` would.
 */

/** What an HTML comment right before a code block says about it (see test/docs.test.ts). */
export type BlockMarker =
  | { readonly kind: 'fragment'; readonly prelude: string | undefined }
  | { readonly kind: 'runs' }
  | { readonly kind: 'output' };

/** A fenced code block of a page. */
export interface CodeBlock {
  /** The info string's first word: `ts`, `sh`, `text`, or `''`. */
  readonly lang: string;
  /** The 1-based line, in the page, of the block's first line of code. */
  readonly line: number;
  /** The block's text, each line ending with a newline. */
  readonly code: string;
  /** The marker comment before it (only blank lines between), if any. */
  readonly marker: BlockMarker | undefined;
}

const FENCE = /^```(\S*)/;

function markerOf(comment: string, line: number): BlockMarker {
  const text = comment.replace(/^<!--/, '').replace(/-->\s*$/, '');
  const [first = '', ...rest] = text.split('\n');
  const word = first.trim();
  if (word === 'runs' && rest.join('').trim() === '') return { kind: 'runs' };
  if (word === 'output' && rest.join('').trim() === '') return { kind: 'output' };
  if (word === 'fragment') {
    const prelude = rest.join('\n');
    return { kind: 'fragment', prelude: prelude.trim() === '' ? undefined : `${prelude.trimEnd()}\n` };
  }
  throw new Error(`line ${line}: a comment before a code block must be a marker (fragment, runs, output): ${comment}`);
}

/** The fenced code blocks of `markdown`, in order. */
export function codeBlocksOf(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  let comment: { text: string; line: number } | undefined;
  for (let index = 0; index < lines.length; index++) {
    const text = lines[index] as string;
    const fence = FENCE.exec(text);
    if (fence !== null) {
      const start = index + 1;
      let end = start;
      while (end < lines.length && !(lines[end] as string).startsWith('```')) end++;
      if (end === lines.length) throw new Error(`line ${index + 1}: a code block that is never closed`);
      blocks.push({
        lang: fence[1] as string,
        line: start + 1,
        code: lines
          .slice(start, end)
          .map((codeLine) => `${codeLine}\n`)
          .join(''),
        marker: comment === undefined ? undefined : markerOf(comment.text, comment.line),
      });
      comment = undefined;
      index = end;
    } else if (text.startsWith('<!--')) {
      const first = index;
      while (index < lines.length && !(lines[index] as string).includes('-->')) index++;
      comment = { text: lines.slice(first, index + 1).join('\n'), line: first + 1 };
    } else if (text.trim() !== '') {
      comment = undefined;
    }
  }
  return blocks;
}

/** The words of one shell command line, and the 1-based line of the block it starts on. */
export interface CommandLine {
  readonly line: number;
  readonly words: readonly string[];
}

/** Characters that end a simple command; the next one starts after them. */
const SEPARATORS = new Set(['&', ';', '|', '(', ')']);

/**
 * The simple commands of a shell block, split into words as `sh` would: quotes, backslashes, line
 * continuations and comments; a command ends at a newline or a separator (`&`, `;`, `|`, `&&`, `||`),
 * and a redirection (`> FILE`, `2>&1`) is left out. Variables are left as written.
 */
export function commandLinesOf(script: string): CommandLine[] {
  const commands: CommandLine[] = [];
  let words: string[] = [];
  let word: string | undefined;
  let line = 1;
  let startLine = 1;
  let redirected = false; // the next word is a redirection's target
  const endWord = (): void => {
    if (word !== undefined && !redirected) words.push(word);
    if (word !== undefined) redirected = false;
    word = undefined;
  };
  const endCommand = (): void => {
    endWord();
    if (words.length > 0) commands.push({ line: startLine, words });
    words = [];
  };
  const append = (text: string): void => {
    if (word === undefined && words.length === 0) startLine = line;
    word = (word ?? '') + text;
  };
  for (let index = 0; index < script.length; index++) {
    const char = script[index] as string;
    if (char === '\\' && script[index + 1] === '\n') {
      index++;
      line++;
    } else if (char === '\n') {
      endCommand();
      line++;
    } else if (char === ' ' || char === '\t') {
      endWord();
    } else if (char === '#' && word === undefined) {
      while (index + 1 < script.length && script[index + 1] !== '\n') index++;
    } else if (char === '>' || char === '<') {
      if (word !== undefined && /^\d+$/.test(word)) word = undefined; // the `2` of `2>`
      endWord();
      redirected = true;
      if (script[index + 1] === '&' || script[index + 1] === char) index++;
    } else if (SEPARATORS.has(char)) {
      endCommand();
    } else if (char === "'") {
      const close = script.indexOf("'", index + 1);
      if (close === -1) throw new Error(`line ${line}: an unclosed ' quote`);
      append(script.slice(index + 1, close));
      line += script.slice(index, close).split('\n').length - 1;
      index = close;
    } else if (char === '"') {
      let value = '';
      let close = index + 1;
      for (; close < script.length && script[close] !== '"'; close++) {
        const inner = script[close] as string;
        const next = script[close + 1] ?? '';
        if (inner === '\\' && '"\\$`\n'.includes(next)) {
          if (next !== '\n') value += next;
          close++;
        } else {
          value += inner;
        }
      }
      if (close === script.length) throw new Error(`line ${line}: an unclosed " quote`);
      append(value);
      line += script.slice(index, close).split('\n').length - 1;
      index = close;
    } else if (char === '\\') {
      append(script[index + 1] ?? '');
      index++;
    } else {
      append(char);
    }
  }
  endCommand();
  return commands;
}

/**
 * The arguments given to the package's CLI by a command line (`restart-manager ARGS`, `npx
 * restart-manager ARGS`, after any `NAME=value` assignments), or `undefined` for another command.
 */
export function cliArgumentsOf(words: readonly string[]): readonly string[] | undefined {
  let first = 0;
  while (first < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[first] as string)) first++;
  if (words[first] === 'npx') first++;
  return words[first] === 'restart-manager' ? words.slice(first + 1) : undefined;
}
