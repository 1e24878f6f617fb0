// A timer callback or a work item that never returns (a kernel call that does
// not: here its sleep, which a test hook makes deaf to the request to leave)
// must not hang the recovery or the unload of its driver, nor hold every other
// driver's timers (work): one thread runs them all. The teardown waits a
// bounded time for it to leave the domain, then leaves its thread running, as
// an interrupt handler's (test/irq-stuck.test.ts), and a new thread serves
// the queue. The old one keeps the domain until its call returns; then it runs
// no driver code and ends (docs/recovery.md, "A thread left running"). In a
// process of its own (test/helpers/timer-work-stuck.mjs): before, the release
// of the timer (work) waited for good.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { bootableIsolations, programReport } from './helpers/util.js';

const path = fixtureDriver('timer-work-stuck'); // test/fixtures/drivers/timer-work-stuck.c
const program = join(packageRoot, 'test', 'helpers', 'timer-work-stuck.mjs');

const scenario = (isolation: string, kind: 'timer' | 'work', how: 'recover' | 'unload') =>
  programReport<Record<string, unknown>>([program, isolation, path, kind, how], 40_000);

// Concurrent: each scenario is a process of its own, most of its time spent in
// the teardown's waits (counted, not timed: test/helpers/program.mjs).
describe.concurrent.each(bootableIsolations)('isolation %s: a timer callback or work item that never returns', (isolation) => {
  describe.each(['timer', 'work'] as const)('%s', (kind) => {
    it("at a recovery is left running; a new thread runs the other driver's and the restarted driver's, and the old one runs no driver code", async () => {
      expect(await scenario(isolation, kind, 'recover')).toEqual({
        waits: 1,
        leftRunning: 1,
        keptState: 'running',
        state: 'running',
        runsAfterEnd: 1,
        stateAfterEnd: 'running',
        late: 0,
      });
    }, 60_000);

    it("at an unload is left running, keeps the domain until it returns, and the other driver's go on", async () => {
      expect(await scenario(isolation, kind, 'unload')).toEqual({ waits: 1, leftRunning: 1, keptState: 'unloaded', late: 0 });
    }, 60_000);
  });
});
