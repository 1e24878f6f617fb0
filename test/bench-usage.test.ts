// The class benchmarks' CPU time and context switches (lib/bench/usage.ts)
// count this process and the processes it forked: under isolation 'process'
// a driver's work runs in its host process, which process.resourceUsage()
// does not see. A busy child process tests the reading of children; a real
// host process, that bench's samples find it and count its CPU time.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { childProcesses, sampleUsage, usageSince, type UsageSample } from '../lib/bench/usage.js';
import { buildDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';

describe('bench usage: this process and its children', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });

  /** A child that makes 5e7 additions, then reports its own CPU time (µs) on stdout and sleeps until killed. */
  async function busyChild(): Promise<{ pid: number; ownCpuUs: number; child: ChildProcess }> {
    const program = 'let x = 0; for (let i = 0; i < 5e7; i++) x += i; const u = process.cpuUsage(); ' +
      'process.stdout.write(`${u.user + u.system} ${x > 0}\\n`); setInterval(() => {}, 1000);';
    const child = spawn(process.execPath, ['-e', program], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const ownCpuUs = await new Promise<number>((resolve, reject) => {
      child.stdout!.once('data', (b: Buffer) => resolve(Number(b.toString().split(' ')[0])));
      child.once('exit', (code) => reject(new Error(`the child exited (${code}) before it reported`)));
    });
    return { pid: child.pid!, ownCpuUs, child };
  }

  it("counts a child's CPU time and context switches, which the process's own usage lacks", async () => {
    const { pid, ownCpuUs } = await busyChild();
    expect(childProcesses()).toContain(pid);
    const alone = sampleUsage([]);
    const withChild = sampleUsage([pid]);
    const childPart = usageSince(alone, withChild);
    // /proc counts in 10 ms ticks; the two samples are microseconds apart
    expect(childPart.cpuUs).toBeGreaterThanOrEqual(ownCpuUs - 20_000);
    expect(childPart.cpuUs).toBeLessThanOrEqual(ownCpuUs + 40_000);
    expect(childPart.voluntarySwitches).toBeGreaterThan(0); // its threads waited at least once (start-up, the sleep)
    expect(childPart.involuntarySwitches).toBeGreaterThanOrEqual(0);
  });

  it('a child gone since the list was taken counts nothing', () => {
    const gone = 2 ** 22 + 1; // above the default pid_max range of live pids: no such process
    expect(usageSince(sampleUsage([]), sampleUsage([gone])).cpuUs).toBeLessThan(20_000); // only this process's own time between the samples
  });

  it('a child that ends in the window counts nothing more, one started in it counts from 0: never negative (a host restarted)', async () => {
    const first = await busyChild();
    const before = sampleUsage();
    expect(before.children.size).toBe(1);
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    const second = await busyChild(); // the "restarted host": its counters start at 0
    const after = sampleUsage();
    expect([...after.children.keys()]).toEqual([expect.stringMatching(new RegExp(`^${second.pid}@\\d+$`))]);
    const used = usageSince(before, after);
    // the first child's time before the window is not subtracted; the second's is counted whole (10 ms ticks)
    expect(used.cpuUs).toBeGreaterThanOrEqual(second.ownCpuUs - 20_000);
    expect(used.voluntarySwitches).toBeGreaterThan(0);
    expect(used.involuntarySwitches).toBeGreaterThanOrEqual(0);
  });
});

describe("bench usage: a driver's host process under isolation 'process'", () => {
  const kernel = kernelPerBlock({ isolation: 'process' });
  const dir = mkdtempSync(join(tmpdir(), 'nooks-bench-usage-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** One process's CPU time (user + system, every thread) in µs: the bench's reading of that process alone. */
  const hostCpuUs = (pid: number) => [...sampleUsage([pid]).children.values()][0].cpuUs;

  /** The children's part of a window: what usageSince adds to this process's own usage. */
  const childrenPart = (a: UsageSample, b: UsageSample) =>
    usageSince(a, b).cpuUs - (b.own.cpuUs - a.own.cpuUs);

  it("is one of the children sampled, and the CPU time the driver spends in it counts", async () => {
    const path = buildDriver(dir, 'burner', 'long burn(long n) { volatile long x = 0; for (long i = 0; i < n; i++) x += i; return x > 0; }', { posix: true });
    const before = childProcesses();
    const d = await kernel().load(path);
    try {
      const hosts = childProcesses().filter((pid) => !before.includes(pid));
      expect(hosts).toHaveLength(1); // the driver's host, forked by this process
      const s0 = sampleUsage();
      const host0 = hostCpuUs(hosts[0]);
      expect(d.call('burn', 400_000_000)).toBe(1); // runs in the host process: about 110 ms of CPU here
      const host1 = hostCpuUs(hosts[0]);
      const s1 = sampleUsage();
      // The loop was not optimised away: the host used CPU time for it (its own reading, in /proc's 10 ms ticks;
      // not the call's wall time, which a loaded machine stretches: at a load of 10, /proc counted 20 ms in an 80 ms call).
      expect(host1 - host0).toBeGreaterThanOrEqual(50_000);
      expect(childrenPart(s0, s1)).toBeGreaterThanOrEqual(host1 - host0 - 20_000);
    } finally {
      d.unload();
    }
  }, 60_000);
});
