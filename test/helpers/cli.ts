// Running the nooks CLI (the built one, dist/) as a child process, as a user would.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
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

/** Whether `signal` is still pending for process `pid` (not yet taken by its handler): /proc's SigPnd and ShdPnd. */
function pending(pid: number, signal: NodeJS.Signals): boolean {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const bit = 1n << BigInt(constants.signals[signal] - 1);
  return ['SigPnd', 'ShdPnd'].some((f) => (BigInt(`0x${new RegExp(`^${f}:\\s*(\\w+)`, 'm').exec(status)![1]}`) & bit) !== 0n);
}

/**
 * Runs `nooks ...args` in `cwd` and, once its stdout has `printed`, sends it `signals`, each once none of its kind is
 * pending (two pending signals of one kind are one), as a user's Ctrl-C; its exit and output. Fails after 20 s.
 */
export function nooksSignalled(args: string[], cwd: string, printed: string, ...signals: NodeJS.Signals[]): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd });
    let stdout = '', stderr = '', sent = false;
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`nooks ${args.join(' ')} hung:\n${stdout}\n${stderr}`)); }, 20_000);
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      if (!sent && stdout.includes(printed)) {
        sent = true;
        void (async () => {
          for (const signal of signals) {
            while (child.exitCode === null && pending(child.pid!, signal)) await new Promise((r) => setTimeout(r, 1));
            child.kill(signal);
          }
        })();
      }
    });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
