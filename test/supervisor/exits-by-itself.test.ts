import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const exec = promisify(execFile);

it('a program that closes its supervisor exits by itself, leaving nothing pending', async () => {
  const fixture = fileURLToPath(new URL('../fixtures/exits-by-itself.mjs', import.meta.url));
  const { stdout, stderr } = await exec(process.execPath, [fixture], { timeout: 20_000 });
  expect(stderr).toBe('');
  expect(JSON.parse(stdout)).toEqual({ waited: true, outcome: 'canceled', statuses: ['exited', 'exited'] });
});
