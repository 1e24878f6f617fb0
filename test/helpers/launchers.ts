// The seccomp launchers (test/helpers/*.c, seccomp-launcher.h): built for a
// test, they run a command, often a vitest of its own, with a system call
// failing as an older kernel or a sandbox fails it.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../lib/paths.js';
import { runProgram } from './util.js';

/** Builds the launcher test/helpers/`name`.c as `<dir>/<name>`; its path. */
export function buildLauncher(dir: string, name: string): string {
  const out = join(dir, name);
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', join(packageRoot, 'test', 'helpers', `${name}.c`), '-o', out]);
  return out;
}

/**
 * The environment of a command under a launcher: this vitest's own variables
 * (its worker's ids) are not an inner vitest's; its output is read, not shown:
 * no colours.
 */
export const launchedEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'FORCE_COLOR')),
  NO_COLOR: '1',
};

/**
 * Runs `launcher ...launcherArgs`, then a vitest of the project 'default'
 * (verbose) with `vitestArgs` (its files, options), in the package root; its
 * exit status and its output, stdout then stderr.
 */
export async function vitestUnder(launcher: string, launcherArgs: string[], vitestArgs: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const vitest = join(packageRoot, 'node_modules', 'vitest', 'vitest.mjs');
  const args = [...launcherArgs, process.execPath, vitest, 'run', '--project', 'default', '--reporter', 'verbose', ...vitestArgs];
  const r = await runProgram(launcher, args, packageRoot, timeoutMs, launchedEnv);
  return { code: r.code, output: `${r.stdout}\n${r.stderr}` };
}
