// A process stopped (a user's Ctrl-Z, SIGSTOP, a debugger) runs no driver
// code, and its drivers' time budgets must not count the stop: the watchdog
// leaves out the time it did not run itself (native/trap/run_clock.h). Before:
// a program that computes for 100 ms of its 2 s budget, stopped for 2.5 s in
// the middle, was ended by the watchdog at once when it went on (`driver
// exceeded its time budget (watchdog)`) and restarted.
// `nooks exec` runs as a shell runs a job, in a process group of its own, which
// is stopped whole (under 'process' the driver's host process too) once the
// program says it is spinning, and kept stopped past the budget.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { cli } from './helpers/cli.js';
import { until } from './helpers/util.js';

const path = fixtureDriver('cpu-spin', { posix: true });
const budgetMs = 2000; // the spin's 100 ms of CPU time within it on a loaded machine too
const stopMs = budgetMs + 500;

/** Whether every thread of every process in process group `pgid` is stopped (state T, after the command's closing paren). */
function groupStopped(pgid: number): boolean {
  const states: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
        if (Number(fields[2]) === pgid) states.push(fields[0]);
      }
    } catch { /* it ended meanwhile */ }
  }
  return states.length > 0 && states.every((s) => s === 'T');
}

describe.each(['mprotect', 'process'])("isolation '%s': a stopped process's time budgets", (isolation) => {
  it('do not count the stop: a program stopped past its budget mid-spin goes on and ends', async () => {
    const child = spawn(process.execPath, [cli, 'exec', path, '--isolation', isolation, '--time-budget', String(budgetMs), '--', '100'],
      { cwd: packageRoot, detached: true });
    let stdout = '', stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await until(() => stdout.includes('spinning'), 'the program to spin', 20_000);
      process.kill(-child.pid!, 'SIGSTOP');
      await until(() => groupStopped(child.pid!), 'the job to stop');
      await new Promise((r) => setTimeout(r, stopMs)); // the stop's length: a fast machine does not shorten it
      process.kill(-child.pid!, 'SIGCONT');
      const code = await exited;
      expect(stderr, `stdout:\n${stdout}`).not.toContain('time budget');
      const lines = stdout.split('\n');
      expect(lines.slice(0, 1)).toEqual(['spinning']);
      expect(lines[1]).toMatch(/^spun \d+ ms$/);
      expect(Number(/\d+/.exec(lines[1])![0])).toBeGreaterThanOrEqual(stopMs); // the stop came inside the spin
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
  }, 30_000);
});
