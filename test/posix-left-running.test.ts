// A POSIX driver's thread that does not stop when its driver is unloaded or
// recovered: its kernel call (here a read of an eventfd, which a test hook
// makes deaf to the request to leave, as a device that never answers) does
// not return within the teardown's waits, and the thread is left running.
// The unload or restart goes on; when the call returns at last, the thread
// must run no driver code and touch no freed memory: it leaves the domain as
// the teardown asked it to, and the domain (its memory, its protection key) is
// kept until then; unloaded, it is freed once the thread has left
// (docs/recovery.md, "A thread left running"). The teardown's wait (5 s: once
// it gives up, the thread is left running without a second) is shortened
// (setTeardownWaits, whose bounds the last test checks) for all but the test
// of a kernel booted after, which waits it out.
import { describe, expect, it } from 'vitest';
import { Kernel } from '../lib/index.js';
import { releaseStalledWaits, setTeardownWaits, teardownWaitsRunOut } from '../lib/testing.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { leaveRunning, logFromNow, shortTeardownWaits, stallThread } from './helpers/left-running.js';
import { bootableIsolations, until } from './helpers/util.js';

const path = fixtureDriver('left-running', { posix: true }); // test/fixtures/drivers/left-running.c

describe.each(bootableIsolations)('isolation %s: a thread left running', (isolation) => {
  const kernel = kernelPerBlock({ isolation });
  const domain = (name: string) => kernel().domains().find((x) => x.name === name);
  shortTeardownWaits();

  it.each(['unload', 'recover'] as const)('at %s returns from its kernel call later, leaves, and runs no driver code', async (how) => {
    const d = await kernel().load(path);
    await leaveRunning(kernel(), d, {
      start: () => expect(d.call('spawn')).toBe(0), // its read stalls
      tearDown: () => d[how](), // the teardown waits for the thread to leave the domain, then leaves it running
      left: async () => {
        expect(domain(d.name)?.state).toBe(how === 'unload' ? 'unloaded' : 'running'); // kept for the thread
        if (how === 'unload') // a re-load meanwhile says what holds the file, the thread by name
          await expect(kernel().load(path)).rejects.toThrow(/unloaded, but its domain is kept until thread \d+, left running/);
      },
    });
    if (how === 'recover') {
      expect(d.state).toBe('running'); // its leaving failed nothing
      expect(d.call('alive')).toBe(1);
      d.unload();
    }
    await until(() => domain(d.name) === undefined, 'its domain freed');
  }, 30_000);

  it('left running at a restart, is not waited for again at the unload after it, which keeps the domain for it', async () => {
    const d = await kernel().load(path);
    const logged = logFromNow(kernel());
    await leaveRunning(kernel(), d, {
      start: () => expect(d.call('spawn')).toBe(0), // left running at the recovery
      left: () => {
        expect(logged('did not leave the failed domain')).toHaveLength(1);
        d.unload();
        expect(logged('did not leave the failed domain')).toHaveLength(1); // not a second wait
        expect(domain(d.name)?.state).toBe('unloaded'); // kept for the thread
      },
    });
    await until(() => domain(d.name) === undefined, 'its domain freed');
  }, 30_000);

  // Its call blocks without waiting: the watchdog asks it to leave for the timeout before the teardown (a
  // request that would fail the driver if the thread left on it; the domain's timeouts count it), and again every
  // 100 ms while it stays: over the teardown's request, which stands, it makes none of its own.
  it('stuck past its time budget, comes back after the restart and fails nothing (the watchdog asked it to leave too)', async () => {
    const d = await kernel().load(path, { timeBudgetMs: 50 });
    const timeouts = () => domain(d.name)?.timeouts;
    let recoveries: number | undefined;
    await leaveRunning(kernel(), d, {
      start: () => expect(d.call('spawn')).toBe(0),
      busy: true,
      stalled: () => until(() => timeouts() === 1, "the watchdog's request to leave"),
      left: () => {
        recoveries = domain(d.name)?.recoveries;
      },
    });
    expect(d.state).toBe('running'); // the restarted driver is not blamed for the thread's timeout
    expect(domain(d.name)?.recoveries).toBe(recoveries);
    expect(timeouts()).toBe(1);
    d.unload();
  }, 30_000);
});

describe('a kernel booted after one that left a thread running', () => {
  // The thread comes back through its own mode's code, and its domain is freed by that mode's backend.
  // The teardown's real wait: 5 s for the thread to leave the domain; left behind then, it is left running at once (before: 5 s more for it to stop).
  it('boots only the isolation of the domain kept for the thread, until the thread has ended', async () => {
    let kernel = await Kernel.boot({ isolation: 'none' });
    const d = await kernel.load(path);
    await stallThread(kernel, d, () => expect(d.call('spawn')).toBe(0));
    const start = performance.now();
    const runOut = teardownWaitsRunOut();
    d.unload(); // the thread is left running
    const waited = performance.now() - start;
    expect(teardownWaitsRunOut() - runOut).toBe(1); // one wait (before: two)
    expect(waited).toBeGreaterThanOrEqual(5_000);
    expect(waited).toBeLessThan(10_000);
    await kernel.shutdown();
    const refused = await Kernel.boot({ isolation: 'mprotect' }).then((k) => k.shutdown(), (e: unknown) => e);
    expect(refused).toMatchObject({ code: 'EBUSY', message: expect.stringMatching(/under isolation 'none', is kept for thread \d+ left running/) });
    kernel = await Kernel.boot({ isolation: 'none' });
    releaseStalledWaits();
    await until(() => kernel.domains().length === 0, 'its domain freed');
    await kernel.shutdown();
    await (await Kernel.boot({ isolation: 'mprotect' })).shutdown();
  }, 30_000);
});

it('setTeardownWaits refuses a wait under 5 ms, which the teardown, looking every 5 ms, would make none, or over the 5 s it shortens', () => {
  for (const ms of [0, 4, 4.5, -1, 5001, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => setTeardownWaits(ms)).toThrow(RangeError);
  expect(() => setTeardownWaits(5)).not.toThrow();
  setTeardownWaits();
});
