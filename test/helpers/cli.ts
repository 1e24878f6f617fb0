// Running the nooks CLI (the built one, dist/) as a child process, as a user would.
import { join } from 'node:path';
import { packageRoot } from '../../lib/paths.js';
import { runNode, type Exit } from './util.js';

export const cli = join(packageRoot, 'dist', 'lib', 'cli', 'main.js');

/** Runs `nooks ...args` in `cwd` (default: the package root); fails after `timeoutMs`. */
export function nooks(args: string[], options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Exit> {
  return runNode([cli, ...args], options.cwd ?? packageRoot, options.timeoutMs ?? 20_000, options.env);
}

/** A child's exit and output, for a failing assertion's message. */
export const shown = (r: Exit): string => `exit ${r.code} signal ${r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
