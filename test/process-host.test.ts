// Isolation 'process': the driver really runs in a process of its own, a
// child of the kernel's, and a restart runs it in a new one (the old one is
// gone); the suites under the 'process' project check everything else.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver } from '../lib/index.js';
import { packageRoot } from '../lib/paths.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { faultOf, hostProcesses, recoveries, rejectionOf, runNode, until } from './helpers/util.js';

describe("isolation 'process': a host process per driver", () => {
  const kernel = kernelPerBlock({ isolation: 'process' });
  let crashy: Driver;
  beforeAll(async () => {
    crashy = await kernel().load('crashy');
  });

  it('runs the driver in a child process, and after a fault in a new one', async () => {
    expect(crashy.call('add', 2, 3)).toBe(5);
    const [first] = hostProcesses('crashy');
    expect(first).toBeGreaterThan(0);
    expect(first).not.toBe(process.pid);
    expect(faultOf(() => crashy.call('null_deref')).kind).toBe('segv');
    await until(() => crashy.state === 'running' && hostProcesses('crashy').length === 1 && hostProcesses('crashy')[0] !== first,
      'crashy restarted in a new host process');
    expect(crashy.call('add', 2, 3)).toBe(5);
    expect(() => readFileSync(`/proc/${first}/comm`)).toThrow(); // killed and reaped
  });

  it('leaves no host process behind once the driver is unloaded', async () => {
    crashy.unload();
    expect(hostProcesses('crashy')).toEqual([]);
  });
});

// The time budget counts driver code only: the host process starts (forks,
// sets itself up, starts the thread's twin) before the crossing that runs
// module_init begins. A test hook makes the start slower than the budget,
// as a loaded machine may, with certainty.
describe("isolation 'process': the host process's start is not the driver's time", () => {
  const kernel = kernelPerBlock({ isolation: 'process' });
  const kBudgetMs = 100;

  it('loads, and restarts after a fault, a driver whose host process takes longer to start than its budget', async () => {
    process.env.NOOKS_TEST_HOST_START_DELAY_MS = String(5 * kBudgetMs);
    try {
      const loadFrom = performance.now();
      const d = await kernel().load('crashy', { timeBudgetMs: kBudgetMs });
      expect(performance.now() - loadFrom).toBeGreaterThanOrEqual(5 * kBudgetMs); // the hook took effect: a start past the budget
      expect(d.call('add', 2, 3)).toBe(5);
      expect(faultOf(() => d.call('null_deref')).kind).toBe('segv');
      await until(() => recoveries(kernel()) === 1 || d.state !== 'running', 'crashy restarted (or given up)');
      expect(d.state).toBe('running');
      expect(recoveries(kernel())).toBe(1);
      expect(d.call('add', 2, 3)).toBe(5);
    } finally {
      delete process.env.NOOKS_TEST_HOST_START_DELAY_MS;
    }
  });
});

// A host process that dies while it starts: the load is refused, saying how it died (not only that it did not start).
describe("isolation 'process': a host process that dies in its start", () => {
  const kernel = kernelPerBlock({ isolation: 'process' });

  it('refuses the load with EHOST and the signal that killed it', async () => {
    process.env.NOOKS_TEST_HOST_START_DELAY_MS = '60000'; // its start never ends by itself (the kernel waits 10 s at most)
    // the load blocks this thread: another process kills the host process once it is there
    const killer = spawn('sh', ['-c', `until pid=$(pgrep -P ${process.pid} -x nooks:crashy); do sleep 0.01; done; kill -9 $pid`]);
    try {
      const err = await rejectionOf(kernel().load('crashy'));
      expect(err.code).toBe('EHOST');
      expect(err.message).toMatch(/: the driver's host process \(pid \d+\) was killed by signal 9 \(Killed\) in its start$/);
      expect(kernel().domains()).toEqual([]);
    } finally {
      delete process.env.NOOKS_TEST_HOST_START_DELAY_MS;
      killer.kill();
    }
  });
});

// A thread that enters the driver for the first time waits for its twin in the
// host process. That wait is part of its crossing: an unload meanwhile unwinds
// the thread before the domain's memory goes. Before, the wait came before the
// crossing, where teardown did not see the thread, and the unload unmapped the
// channel it was waiting on and freed its stack's record (a crash in the
// kernel's process). A test hook keeps the twin from starting; in a child
// process, which the bug killed.
const unloadScript = (indexUrl: string) => `
import { Kernel } from ${JSON.stringify(indexUrl)};

process.env.NOOKS_TEST_MAX_TWINS = '1'; // the host process starts this thread's twin, and no other
const kernel = await Kernel.boot({ isolation: 'process' });
const crashy = await kernel.load('crashy', { timeBudgetMs: 60_000 }); // nor does the wait time out
const threads = () => kernel.domains().find((d) => d.name === 'crashy').threads;
console.log('add', crashy.call('add', 2, 3), 'threads', threads());
crashy.call('timer_forgotten', 1); // the timer thread enters crashy for the first time; crashy's exit forgets this timer
while (threads() === 1) await new Promise((r) => setImmediate(r)); // it has its stack in crashy: it waits for its twin
console.log('threads', threads());
crashy.unload();
console.log('unloaded', kernel.domains().length);
await kernel.shutdown(); // joins the timer thread
console.log('shut down');
`;

describe("isolation 'process': an unload while a thread waits for its twin", () => {
  let dir: string;
  let script: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nooks-twin-wait-'));
    script = join(dir, 'unload.mjs');
    writeFileSync(script, unloadScript(pathToFileURL(join(packageRoot, 'dist', 'lib', 'index.js')).href));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('unwinds the waiting thread, and the process lives on', { timeout: 70_000 }, async () => {
    const r = await runNode([script], dir, 60_000);
    const shown = `exit ${r.code} signal ${r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    expect(r.stdout, shown).toBe('add 5 threads 1\nthreads 2\nunloaded 0\nshut down\n');
    expect(r.signal, shown).toBeNull();
    expect(r.code, shown).toBe(0);
  });
});
