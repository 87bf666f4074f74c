/**
 * What rots in the documentation: the README stays a front page with the two commands, every
 * relative link in README.md and docs/*.md points at a file that exists, and every example (a ```ts
 * block that starts with an import; the others are signatures) type-checks against the source, in
 * one in-process TypeScript program.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README = join(ROOT, 'README.md');
const readme = readFileSync(README, 'utf8');
const pages = readdirSync(join(ROOT, 'docs'))
  .filter((name) => name.endsWith('.md'))
  .map((name) => join(ROOT, 'docs', name));

/** The STYLE's front page: p-retry's README is 6 KB; ours may hold the decision and backoff tables. */
const README_MAX_BYTES = 15_000;

/** The targets of a Markdown file's inline links and images, outside code blocks and code spans. */
function linksOf(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((match) => match[1] as string);
}

/** The examples of a Markdown file: its ```ts blocks that start with an import. */
function examplesOf(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n(import [\s\S]*?)^```/gm)].map((match) => match[1] as string);
}

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

  it('shows the Supervisor and the decision alone in examples', () => {
    const examples = examplesOf(readme);
    expect(examples.some((code) => code.includes('new Supervisor('))).toBe(true);
    expect(examples.some((code) => code.includes('restartInThread('))).toBe(true);
  });
});

describe('the examples in README.md and docs/*.md', () => {
  it('type-check against the source', () => {
    // Virtual files beside the README, named after their page, so that they resolve as the package's own modules.
    const examples = new Map(
      [README, ...pages].flatMap((file) => {
        const name = file.slice(ROOT.length).replaceAll('/', '_');
        return examplesOf(readFileSync(file, 'utf8')).map(
          (code, index) => [join(ROOT, `${name}.example-${index + 1}.ts`), code] as const,
        );
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
      fileExists: (file) => examples.has(resolve(file)) || base.fileExists(file),
      readFile: (file) => examples.get(resolve(file)) ?? base.readFile(file),
      getSourceFile: (file, language, ...rest) => {
        const code = examples.get(resolve(file));
        return code === undefined
          ? base.getSourceFile(file, language, ...rest)
          : ts.createSourceFile(file, code, language, true);
      },
    };
    const program = ts.createProgram([...examples.keys()], options, host);
    const diagnostics = [...examples.keys()].flatMap((file) => {
      const source = program.getSourceFile(file);
      return source === undefined ? [] : ts.getPreEmitDiagnostics(program, source);
    });
    const messages = diagnostics.map((diagnostic) => {
      const where = diagnostic.file?.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      const line = where === undefined ? '' : `:${where.line + 1}`;
      return `${diagnostic.file?.fileName ?? ''}${line}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
    });
    expect(messages).toEqual([]);
  }, 30_000);
});

describe.each([README, ...pages].map((file) => [file.slice(ROOT.length), file]))('%s', (_name, file) => {
  it('links only to files that exist', () => {
    const relative = linksOf(readFileSync(file, 'utf8'))
      .filter((target) => !/^[a-z]+:/i.test(target) && !target.startsWith('#'))
      .map((target) => decodeURIComponent(target.replace(/#.*$/, '')));
    const missing = relative.filter((target) => !existsSync(resolve(dirname(file), target)));
    expect(missing).toEqual([]);
  });
});
