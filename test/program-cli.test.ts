// `nooks exec`: a program driver (test/fixtures/drivers/program.c) run from
// the command line as a user would, in a child process: its output as it
// comes, SIGINT passed on to its handler (poll ends with EINTR: its timer
// ticks every 100 s), its exit status as nooks's; SIGTERM left to SIG_DFL
// kills it: 143. By progress: the signal is sent once its banner is out.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { cli } from './helpers/cli.js';

const path = fixtureDriver('program', { posix: true });

/** Runs `nooks exec`, sends `signal` once the program's banner is out; its exit and output. */
function execUntilBanner(args: string[], signal: NodeJS.Signals): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'exec', path, ...args], { cwd: packageRoot });
    let stdout = '', stderr = '', sent = false;
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`nooks exec hung:\n${stdout}\n${stderr}`)); }, 20_000);
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      if (!sent && stdout.includes(': started,')) {
        sent = true;
        child.kill(signal);
      }
    });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('nooks exec', () => {
  it('runs main with the arguments after --; Ctrl-C runs its handler; exits with its status', async () => {
    const r = await execUntilBanner(['--isolation', 'mprotect', '--', '-i', '100000', 'eth0'], 'SIGINT');
    expect(r.stdout.split('\n')).toEqual([
      'program: started, argc 4, interval 100000 ms, limit -1, status 0, crash -1, operands: eth0',
      'program: poll interrupted', 'program: loop ended', 'program: 0 ticks, bye', '',
    ]);
    expect(r.code).toBe(0);
  });

  it('a program SIGTERM kills (SIG_DFL) exits 143, without its atexit output', async () => {
    const r = await execUntilBanner(['--isolation', 'process', '--', '-i', '100000', '-d'], 'SIGTERM');
    expect(r.code).toBe(143);
    expect(r.stdout).not.toContain('bye');
  });

  it('refuses a driver that is no program', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [cli, 'exec', 'crashy', '--isolation', 'mprotect'], { cwd: packageRoot });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('crashy is no program (it defines no main, or is not built with --posix)');
  });
});
