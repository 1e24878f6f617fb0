// Isolation 'process': a side of a channel that waits for the other does not
// spin while the other last ran on its own CPU (native/isolation/process/
// channel.h): the other cannot answer before the waiter gives the CPU up, so
// every such spin would run out, and the waiter would sleep only after it.
// The kernel and the host process are pinned to one CPU here, as a loaded
// machine's scheduler often leaves them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver } from '../lib/index.js';
import { native } from '../lib/native.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { hostProcesses } from './helpers/util.js';

/** The CPUs `pid` may run on, as taskset takes them ("0-1"). */
function allowedCpus(pid: number): string {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Cpus_allowed_list:'));
  return line!.split(/\s+/)[1];
}

/** Every thread of `pid` on `cpus` only. */
function pin(pid: number, cpus: string): void {
  execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', cpus, String(pid)], { stdio: 'ignore' });
}

describe("isolation 'process': waits on the channel", () => {
  const kernel = kernelPerBlock({ isolation: 'process' });
  const allowed = allowedCpus(process.pid);
  let nul: Driver;
  beforeAll(async () => {
    nul = await kernel().load('null');
  });
  afterAll(() => {
    pin(process.pid, allowed);
  });

  it('do not spin while both sides share one CPU: each crossing sleeps at once', () => {
    const cpu = allowed.split(/[,-]/)[0];
    pin(process.pid, cpu);
    const [host] = hostProcesses('null');
    expect(host).toBeGreaterThan(0);
    pin(host, cpu);
    nul.call('nop'); // each side has run on that CPU since
    const before = native().processSpinsRunOut();
    const crossings = 2000;
    for (let i = 0; i < crossings; i++) expect(nul.call('nop')).toBe(0);
    // With a spin, a quarter of them ran out (2 vCPUs): the twin gets the CPU only when the kernel's thread sleeps, or is preempted by it.
    expect(native().processSpinsRunOut() - before).toBeLessThan(crossings / 100);
  });
});
