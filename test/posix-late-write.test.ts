// A kernel call left running by a recovery (test/posix-left-running.test.ts)
// that completes only after the restart must not write into the driver's
// memory: that memory (its static data reset from the copy taken at load, its
// heap handed out again) is the restarted driver's now. Here a driver
// thread's read of an eventfd, into the driver's static data or a heap block,
// is stalled past the restart, and its data arrives meanwhile; its poll of
// that eventfd, with its events in the driver's static data; its
// contended mutex_lock or spin_lock (stalled in a yield between its tries),
// which the restart frees; or its pthread_join of a
// thread that ended, into the driver's static data. When it goes on, the
// restarted driver's memory must hold what it put there
// (docs/recovery.md, "A thread left running").
import { describe, expect, it } from 'vitest';
import type { Driver } from '../lib/index.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { leaveRunning, shortTeardownWaits } from './helpers/left-running.js';
import { bootableIsolations } from './helpers/util.js';

const path = fixtureDriver('late-write', { posix: true }); // test/fixtures/drivers/late-write.c

/** What a case does with the driver; `started`: what its start function returned. */
type Step = (d: Driver, started: number | bigint) => void;

describe.each(bootableIsolations)('isolation %s: a kernel call left running at a restart', (isolation) => {
  const kernel = kernelPerBlock({ isolation, policy: { default: { maxFailures: 10 } } }); // a restart per case, of one driver
  shortTeardownWaits();

  // Loads the driver, whose `start` starts a thread that stalls in its next
  // wait; `before` readies what that wait waits for; the driver restarts, the
  // thread left running; `after` sets up the restarted driver; the thread goes
  // on, and ends. The driver, running, to look at; unloaded after `check`.
  async function acrossRestart(start: string, arg: number, check: (d: Driver) => void, { before, after }: { before?: Step; after?: Step } = {}): Promise<void> {
    const d = await kernel().load(path);
    let started: number | bigint = -1;
    try {
      await leaveRunning(kernel(), d, {
        start: () => {
          started = d.call(start, arg);
          expect(started).not.toBe(-1);
        },
        stalled: () => before?.(d, started),
        left: () => after?.(d, started),
      });
      expect(d.state).toBe('running');
      check(d);
    } finally {
      d.unload(); // the next case loads it again, whatever this one found
    }
  }

  it.each([['static data', 0], ['heap', 1]] as const)('a read completes after it and writes nothing into the restarted driver\'s %s', async (_, heap) => {
    await acrossRestart('spawn', heap, (d) => expect(d.call('landed', heap)).toBe(0), {
      before: (d) => expect(d.call('arrive')).toBe(0), // the read's data is there: its wait completes once let go
      after: (d, target) => {
        if (heap) expect(d.call('claim')).toBe(target); // the restarted driver's block is where the read was to land
      },
    });
  }, 30_000);

  it('a poll completes after it and writes no events into the restarted driver', async () => {
    await acrossRestart('spawn', 2, (d) => expect(d.call('poll_words')).toBe(0), {
      before: (d) => expect(d.call('arrive')).toBe(0), // the eventfd is readable: the wait completes once let go
    });
  }, 30_000);

  it.each([['a mutex_lock waiting', 0], ['a spin_lock spinning', 1]] as const)('%s for the driver\'s lock, which the restart frees, takes nothing of the restarted driver\'s', async (_, spin) => {
    await acrossRestart('hold_and_spawn_locker', spin, (d) => expect(d.call('lock_words', spin)).toBe(0), { // not taken, owned or waited for
      after: (d) => expect(d.call('lock_words', spin)).toBe(0), // free in the restarted driver
    });
  }, 30_000);

  it('a pthread_join of a thread that ended, which the teardown let go of, writes no result into the restarted driver', async () => {
    await acrossRestart('spawn_joiner', 0, (d) => expect(d.call('joined_result')).toBe(0));
  }, 30_000);
});
