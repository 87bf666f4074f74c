/**
 * What rots in the documentation: the README stays a front page with the two commands, every
 * relative link in README.md, docs/**\/*.md and examples/**\/*.md points at a file that exists,
 * every TypeScript example type-checks against the source, the runnable ones run against the built
 * package, and every command line of the CLI shown parses.
 *
 * ## Writing docs
 *
 * - A ```ts block is a **complete example**: a module that imports the package by its name,
 *   `restart-manager`. It is type-checked against `src/` with tsconfig.json's strict options (unused
 *   locals allowed), all examples in one TypeScript program.
 * - A block that cannot stand alone is marked, in an HTML comment on the line before it (blank lines
 *   between are fine; the comment does not render):
 *   - `<!-- fragment -->`: a signature list or a shape, shown for its form and not compiled;
 *   - `<!-- fragment` then lines of TypeScript then `-->`: a fragment compiled after that hidden
 *     prelude, which declares what it assumes (`import { Supervisor } from 'restart-manager';
 *     declare const supervisor: Supervisor;`).
 * - `<!-- runs -->` before a complete example: it is also run, by Node, against the built package
 *   (`dist/`: `npm test` builds first; run alone, `npm run build` first) resolved as
 *   `restart-manager` from a temp dir. It must exit 0 within {@link RUN_TIMEOUT_MS} with nothing on
 *   stderr. A ```text block right after it, marked `<!-- output -->`, is its stdout, exactly.
 * - Every `restart-manager …` or `npx restart-manager …` command line of a ```sh block, and of a
 *   `$ `-prompted line of a ```text block, must parse with the built CLI's `parseCommandLine`.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CodeBlock, cliArgumentsOf, codeBlocksOf, commandLinesOf } from './support/markdown.js';
import { runToEnd } from './support/processes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README = join(ROOT, 'README.md');
const readme = readFileSync(README, 'utf8');
/** The pages of docs/, its generated API reference (`npm run docs`) left out. */
const pages = readdirSync(join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.md') && !name.startsWith('api/'))
  .sort()
  .map((name) => join(ROOT, 'docs', name));
/** The examples' pages (examples/mini-runtime/README.md): read as the docs are, links and all. */
const examplePages = readdirSync(join(ROOT, 'examples'), { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.md') && !name.split('/').includes('node_modules'))
  .sort()
  .map((name) => join(ROOT, 'examples', name));
const files = [README, ...pages, ...examplePages];

/** The STYLE's front page: p-retry's README is 6 KB; ours may hold the decision and backoff tables. */
const README_MAX_BYTES = 15_000;
/** How long a runnable example may take, start to exit. */
const RUN_TIMEOUT_MS = 5_000;

/** A code block with the page it is on. */
interface PageBlock extends CodeBlock {
  readonly page: string;
  /** `page:line`, for messages. */
  readonly where: string;
  /** The block after it on the page. */
  readonly next: CodeBlock | undefined;
}

const blocks: PageBlock[] = files.flatMap((file) => {
  const page = relative(ROOT, file);
  const own = codeBlocksOf(readFileSync(file, 'utf8'));
  return own.map((block, index) => ({ ...block, page, where: `${page}:${block.line}`, next: own[index + 1] }));
});
const tsBlocks = blocks.filter((block) => block.lang === 'ts');
/** The TypeScript that is compiled: complete examples, and fragments after their prelude. */
const compiled = tsBlocks.flatMap((block) => {
  if (block.marker?.kind !== 'fragment') return [{ block, prelude: '' }];
  return block.marker.prelude === undefined ? [] : [{ block, prelude: block.marker.prelude }];
});
const runnable = tsBlocks
  .filter((block) => block.marker?.kind === 'runs')
  .map((block) => ({
    block,
    expected: block.next?.marker?.kind === 'output' ? block.next.code : undefined,
  }));
const commandLines = blocks.flatMap((block) => {
  const scripts =
    block.lang === 'sh'
      ? [{ script: block.code, line: block.line }]
      : block.lang === 'text'
        ? block.code
            .split('\n')
            .map((text, index) => ({ script: text.slice(2), line: block.line + index, prompt: text.startsWith('$ ') }))
            .filter((entry) => entry.prompt)
        : [];
  return scripts.flatMap(({ script, line }) =>
    commandLinesOf(script).flatMap((command) => {
      const args = cliArgumentsOf(command.words);
      return args === undefined
        ? []
        : [{ where: `${block.page}:${line + command.line - 1}`, text: command.words.map(shellQuoted).join(' '), args }];
    }),
  );
});

/** A word as a shell would take it back, for test names. */
function shellQuoted(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** The targets of a Markdown file's inline links and images, outside code blocks and code spans. */
function linksOf(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((match) => match[1] as string);
}

describe('reading the docs', () => {
  it('finds each code block with its language, first line, text and marker', () => {
    const page = [
      '# Title',
      '```ts',
      "import 'restart-manager';",
      '```',
      '<!-- runs -->',
      '',
      '```ts',
      'run();',
      '```',
      '<!-- output -->',
      '```text',
      'done',
      '```',
      '<!-- fragment -->',
      'Prose between: the marker is not this block’s.',
      '```sh',
      'ls',
      '```',
      '<!-- fragment',
      "import { Supervisor } from 'restart-manager';",
      'declare const supervisor: Supervisor;',
      '-->',
      '```ts',
      "await supervisor.start('web');",
      '```',
      '<!-- fragment -->',
      '```',
      'plain',
      '```',
    ].join('\n');
    expect(codeBlocksOf(page)).toEqual([
      { lang: 'ts', line: 3, code: "import 'restart-manager';\n", marker: undefined },
      { lang: 'ts', line: 8, code: 'run();\n', marker: { kind: 'runs' } },
      { lang: 'text', line: 12, code: 'done\n', marker: { kind: 'output' } },
      { lang: 'sh', line: 17, code: 'ls\n', marker: undefined },
      {
        lang: 'ts',
        line: 24,
        code: "await supervisor.start('web');\n",
        marker: {
          kind: 'fragment',
          prelude: "import { Supervisor } from 'restart-manager';\ndeclare const supervisor: Supervisor;\n",
        },
      },
      { lang: '', line: 28, code: 'plain\n', marker: { kind: 'fragment', prelude: undefined } },
    ]);
  });

  it.each([
    ['<!-- fragmnet -->\n```ts\nx\n```\n', /line 1: a comment before a code block must be a marker/],
    ['<!-- runs twice -->\n```ts\nx\n```\n', /must be a marker/],
    ['```ts\nx\n', /line 1: a code block that is never closed/],
  ])('refuses a page with %j', (page, message) => {
    expect(() => codeBlocksOf(page)).toThrow(message);
  });

  it.each([
    [
      'npx restart-manager run -- node server.js\n',
      [[1, ['npx', 'restart-manager', 'run', '--', 'node', 'server.js']]],
    ],
    [
      'restart-manager run --health-cmd \'curl -fs localhost\' \\\n  --health-retries 3 -- node -e "process.exit(1)"\n',
      [
        [
          1,
          [
            'restart-manager',
            'run',
            '--health-cmd',
            'curl -fs localhost',
            '--health-retries',
            '3',
            '--',
            'node',
            '-e',
            'process.exit(1)',
          ],
        ],
      ],
    ],
    ['a "x\\"y\\\\z" b\\ c d\'e\'f\n', [[1, ['a', 'x"y\\z', 'b c', 'def']]]],
    [
      'run x &\nkill -9 %1   # the CLI dies\n',
      [
        [1, ['run', 'x']],
        [2, ['kill', '-9', '%1']],
      ],
    ],
    [
      'npm install && npm run demo\nDEBUG=x node d.js 2>&1 > out.log | tee y; z\n',
      [
        [1, ['npm', 'install']],
        [1, ['npm', 'run', 'demo']],
        [2, ['DEBUG=x', 'node', 'd.js']],
        [2, ['tee', 'y']],
        [2, ['z']],
      ],
    ],
    ['# a comment\n\n  \n', []],
  ])('splits %j into commands as sh does', (script, expected) => {
    expect(commandLinesOf(script).map(({ line, words }) => [line, words])).toEqual(expected);
  });

  it.each([
    [
      ['npx', 'restart-manager', 'run', '--', 'x'],
      ['run', '--', 'x'],
    ],
    [['DEBUG=restart-manager:*', 'restart-manager', '--help'], ['--help']],
    [['restart-manager'], []],
    [['DEBUG=restart-manager:*', 'node', 'daemon.js'], undefined],
    [['npx', 'tsx', 'restart-manager'], undefined],
  ])('takes the CLI arguments of %j', (words, expected) => {
    expect(cliArgumentsOf(words)).toEqual(expected);
  });
});

describe('README', () => {
  it('is a front page of at most 15 000 bytes', () => {
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(README_MAX_BYTES);
  });

  it('opens with the two commands: the demo and the test suite', () => {
    const setUp = readme.slice(readme.indexOf('## Set up'), readme.indexOf('## Install'));
    expect(setUp).toContain('npm install && npm run demo\nnpm test\n');
  });

  it('links to every page of docs/', () => {
    const linked = new Set(linksOf(readme).map((target) => resolve(ROOT, target.replace(/#.*$/, ''))));
    expect(pages.filter((page) => !linked.has(page))).toEqual([]);
  });

  it('shows the Supervisor and the decision alone in examples, the decision one run', () => {
    const examples = tsBlocks.filter((block) => block.page === 'README.md' && block.marker?.kind !== 'fragment');
    expect(examples.some((block) => /new Supervisor[<(]/.test(block.code))).toBe(true);
    expect(examples.some((block) => block.code.includes('restartInThread(') && block.marker?.kind === 'runs')).toBe(
      true,
    );
  });
});

describe('the markers of README.md, docs/**/*.md and examples/**/*.md', () => {
  it('mark TypeScript blocks only, and an output only right after an example that runs', () => {
    const misplaced = blocks.flatMap((block) => {
      const kind = block.marker?.kind;
      if ((kind === 'fragment' || kind === 'runs') && block.lang !== 'ts')
        return [`${block.where}: a ${kind} marker on a ${block.lang} block`];
      if (kind === 'output') {
        const before = blocks[blocks.indexOf(block) - 1];
        if (
          block.lang !== 'text' ||
          before?.page !== block.page ||
          before.marker?.kind !== 'runs' ||
          before.next?.line !== block.line
        )
          return [`${block.where}: an output marker that does not follow an example that runs`];
      }
      return [];
    });
    expect(misplaced).toEqual([]);
  });
});

describe('the TypeScript examples of README.md, docs/**/*.md and examples/**/*.md', () => {
  it('type-check against the source, fragments after their prelude', () => {
    // Virtual files at the root, named after their page and line, so that they resolve as the package's own modules.
    const sources = new Map(
      compiled.map(({ block, prelude }) => {
        const name = `${block.page.replaceAll('/', '_')}.line-${block.line}.ts`;
        return [join(ROOT, name), { block, prelude, code: `${prelude}${block.code}export {};\n` }] as const;
      }),
    );
    const config = ts.getParsedCommandLineOfConfigFile(
      join(ROOT, 'tsconfig.json'),
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
          throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
        },
      },
    );
    if (config === undefined) throw new Error('tsconfig.json could not be read');
    // The examples import the package by name, as a user would: here it is the source.
    const options = { ...config.options, noUnusedLocals: false, paths: { 'restart-manager': ['./src/index.ts'] } };
    const base = ts.createCompilerHost(options);
    const host: ts.CompilerHost = {
      ...base,
      fileExists: (file) => sources.has(resolve(file)) || base.fileExists(file),
      readFile: (file) => sources.get(resolve(file))?.code ?? base.readFile(file),
      getSourceFile: (file, language, ...rest) => {
        const source = sources.get(resolve(file));
        return source === undefined
          ? base.getSourceFile(file, language, ...rest)
          : ts.createSourceFile(file, source.code, language, true);
      },
    };
    const program = ts.createProgram([...sources.keys()], options, host);
    const messages = [...sources].flatMap(([file, { block, prelude }]) => {
      const source = program.getSourceFile(file);
      if (source === undefined) return [`${block.where}: not compiled`];
      const preludeLines = prelude.split('\n').length - 1;
      return ts.getPreEmitDiagnostics(program, source).map((diagnostic) => {
        const line = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line;
        const where =
          line < preludeLines
            ? `${block.where} (its prelude, line ${line + 1})`
            : `${block.page}:${block.line + line - preludeLines}`;
        return `${where}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
      });
    });
    expect(messages).toEqual([]);
  }, 30_000);
});

/** The newest modification time of the files under `dir`, in ms. */
function newestMtimeMs(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((name) => statSync(join(dir, name)).mtimeMs),
  );
}

describe('the examples marked to run, against the built package', () => {
  let dir = '';

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
    if (newestMtimeMs(join(ROOT, 'src')) > statSync(join(ROOT, 'dist', 'index.js')).mtimeMs) {
      throw new Error('dist/ is older than src/: run `npm run build` first');
    }
    dir = await mkdtemp(join(tmpdir(), 'restart-manager-docs-'));
    await mkdir(join(dir, 'node_modules'));
    await symlink(ROOT, join(dir, 'node_modules', 'restart-manager'), 'dir');
  });

  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('are some', () => {
    expect(runnable.length).toBeGreaterThan(0);
  });

  it.each(runnable.map((example) => [example.block.where, example] as const))(
    '%s exits 0 with nothing on stderr and prints what its page shows',
    async (where, { block, expected }) => {
      const { outputText } = ts.transpileModule(block.code, {
        fileName: `${where}.ts`,
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      });
      const file = join(dir, `${where.replaceAll(/[/:.]/g, '_')}.mjs`);
      await writeFile(file, outputText);
      const finished = await runToEnd(process.execPath, [file], { cwd: dir, timeoutMs: RUN_TIMEOUT_MS });
      expect(finished).toEqual({ code: 0, signal: null, stdout: expected ?? finished.stdout, stderr: '' });
    },
    RUN_TIMEOUT_MS + 5_000,
  );
});

describe('the CLI command lines of README.md, docs/**/*.md and examples/**/*.md', () => {
  it('are some', () => {
    expect(commandLines.length).toBeGreaterThan(0);
  });

  it.each(commandLines.map((command) => [command.where, command.text, command] as const))(
    '%s `%s` parses with the built CLI',
    async (_where, _text, { args }) => {
      const url = pathToFileURL(join(ROOT, 'dist', 'cli', 'args.js')).href;
      const { parseCommandLine } = (await import(url)) as typeof import('../src/cli/args.js');
      const asksForHelp = args.some((arg) => ['-h', '--help', '-V', '--version'].includes(arg));
      expect(parseCommandLine(args).kind).toEqual(asksForHelp ? expect.stringMatching(/^(help|version)$/) : 'run');
    },
  );
});

describe.each(files.map((file) => [relative(ROOT, file), file]))('%s', (_name, file) => {
  it('links only to files that exist', () => {
    const relativeLinks = linksOf(readFileSync(file, 'utf8'))
      .filter((target) => !/^[a-z]+:/i.test(target) && !target.startsWith('#'))
      .map((target) => decodeURIComponent(target.replace(/#.*$/, '')));
    const missing = relativeLinks.filter((target) => !existsSync(resolve(dirname(file), target)));
    expect(missing).toEqual([]);
  });
});
