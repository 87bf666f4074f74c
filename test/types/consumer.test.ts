/**
 * The types a runtime uses (SPEC §15), checked the way a consumer's compiler sees them: a consumer
 * file that must type-check with no annotation beyond `Supervisor<Meta>` (a typed meta through add,
 * restore and inspect; listeners typed per event; one listener for every event), and a misuse file
 * whose every misuse must be an error, each on its own line.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const FIXTURES = ['consumer.ts', 'misuse.ts'].map((name) => join(ROOT, 'test', 'types', 'fixtures', name));
let program: ts.Program | undefined;

/** The diagnostics of a fixture compiled against the package's source, imported by its name, as `line: message`. */
function diagnosticsOf(fixture: string): string[] {
  program ??= compile();
  const file = join(ROOT, 'test', 'types', 'fixtures', fixture);
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((diagnostic) => {
    const { line } = diagnostic.file?.getLineAndCharacterOfPosition(diagnostic.start ?? 0) ?? { line: -1 };
    return `${line + 1}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`;
  });
}

/** Both fixtures in one program (one compilation of the source). */
function compile(): ts.Program {
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
  const options = { ...config.options, noUnusedLocals: false, paths: { 'restart-manager': ['./src/index.ts'] } };
  return ts.createProgram(FIXTURES, options);
}

describe('the types a consumer sees', () => {
  it('a typed meta, listeners typed per event, and one listener for every event type-check', () => {
    expect(diagnosticsOf('consumer.ts')).toEqual([]);
  });

  it('each misuse is an error of its own', () => {
    const errors = diagnosticsOf('misuse.ts');
    expect(errors.map((error) => Number(error.split(':')[0]))).toEqual([6, 8, 10, 12]);
    expect(errors[0]).toContain("'cmd' does not exist in type 'Meta'");
    expect(errors[1]).toContain("Property 'exitStatus' does not exist");
    // Node's typed emitter takes any name, but a listener of no known event is a listener of `never`.
    expect(errors[2]).toContain("not assignable to parameter of type 'never'");
    expect(errors[3]).toContain("Property 'cmd' does not exist on type 'Meta'");
  });
});
