// The class benchmarks' CPU time and context switches (lib/bench/usage.ts)
// count this process and the processes it forked: under isolation 'process'
// a driver's work runs in its host process, which process.resourceUsage()
// does not see. A busy child process stands in for a host process here.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { childProcesses, usage, usageSince } from '../lib/bench/usage.js';

describe('bench usage: this process and its children', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill('SIGKILL');
    child = undefined;
  });

  it("counts a child's CPU time and context switches, which the process's own usage lacks", async () => {
    // 5e7 additions, then the child's own CPU time (µs) on stdout; it then sleeps until killed
    const program = 'let x = 0; for (let i = 0; i < 5e7; i++) x += i; const u = process.cpuUsage(); ' +
      'process.stdout.write(`${u.user + u.system} ${x > 0}\\n`); setInterval(() => {}, 1000);';
    child = spawn(process.execPath, ['-e', program], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = child.pid!;
    const ownCpuUs = await new Promise<number>((resolve, reject) => {
      child!.stdout!.once('data', (b: Buffer) => resolve(Number(b.toString().split(' ')[0])));
      child!.once('exit', (code) => reject(new Error(`the child exited (${code}) before it reported`)));
    });
    expect(childProcesses()).toContain(pid);
    const alone = usage([]);
    const withChild = usage([pid]);
    const childPart = usageSince(alone, withChild);
    // /proc counts in 10 ms ticks; the two samples are microseconds apart
    expect(childPart.cpuUs).toBeGreaterThanOrEqual(ownCpuUs - 20_000);
    expect(childPart.cpuUs).toBeLessThanOrEqual(ownCpuUs + 40_000);
    expect(childPart.voluntarySwitches).toBeGreaterThan(0); // its threads waited at least once (start-up, the sleep)
    expect(childPart.involuntarySwitches).toBeGreaterThanOrEqual(0);
  });

  it('a child gone since the list was taken counts nothing', () => {
    const gone = 2 ** 22 + 1; // above the default pid_max range of live pids: no such process
    expect(usageSince(usage([]), usage([gone])).cpuUs).toBeLessThan(20_000); // only this process's own time between the samples
  });
});
