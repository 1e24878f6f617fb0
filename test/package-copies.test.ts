// Two installations of nooks in one process (a workload module that finds
// 'nooks' in its own project, run by another installation's nooks): the second
// says so, naming both, instead of failing to load its addon as if it were not
// built (the first holds the static TLS it needs).
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { runNode } from './helpers/util.js';

const copy = mkdtempSync(join(tmpdir(), 'nooks-copy-'));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

it('a second copy of the package in a process names both, and the first kernel runs on', async () => {
  for (const f of ['package.json', 'binding.gyp', join('dist', 'lib')]) cpSync(join(packageRoot, f), join(copy, f), { recursive: true });
  mkdirSync(join(copy, 'build', 'Release'), { recursive: true });
  cpSync(join(packageRoot, 'build', 'Release', 'nooks.node'), join(copy, 'build', 'Release', 'nooks.node'));
  symlinkSync(join(packageRoot, 'node_modules'), join(copy, 'node_modules'));
  const [first, second] = [packageRoot, copy].map((root) => pathToFileURL(join(root, 'dist', 'lib', 'index.js')).href);
  const r = await runNode(['--input-type=module', '-e', `
    const { Kernel } = await import('${first}');
    const kernel = await Kernel.boot({ isolation: 'mprotect' });
    const other = await import('${second}');
    await other.Kernel.boot({ isolation: 'mprotect' }).then(() => console.log('booted twice'), (e) => console.log(e.message));
    console.log((await kernel.load('null')).call('nop'));
    await kernel.shutdown();
  `], copy);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe(`nooks is loaded twice in this process: from ${packageRoot} and from ${copy}; a process holds one kernel: ` +
    'import \'nooks\' from one installation (a workload module finds \'nooks\' from its own directory: run the nooks installed there, npx nooks)\n0\n');
}, 30_000);
