// An interrupt handler that never returns (a kernel call that does not: here
// its sleep, which a test hook makes deaf to the request to leave) must not
// hang the unload or the recovery of its driver: the teardown waits a bounded
// time for the line's thread, then leaves it running, as a POSIX driver's
// thread (test/posix-left-running.test.ts). It keeps the domain until its call
// returns; then it runs no driver code, does not touch the line, which the
// restarted driver has requested again and a new thread serves, and lets go
// (docs/recovery.md, "A thread left running"). In a process of its own
// (test/helpers/irq-stuck.mjs): before, the unload waited for good.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { bootableIsolations, programReport } from './helpers/util.js';

const path = fixtureDriver('irq-stuck'); // test/fixtures/drivers/irq-stuck.c
const program = join(packageRoot, 'test', 'helpers', 'irq-stuck.mjs');

type How =
  | 'unload'
  | 'recover'
  | 'recover-then-unload'
  | 'recover-two-lines'
  | 'free-stuck'
  | 'free-past-budget'
  | 'free-in-freed-handler'
  | 'free-across-recovery'
  | 'unload-waits'
  | 'exit-past-budget';

async function scenario(isolation: string, how: How, free = false): Promise<Record<string, unknown>> {
  return programReport([program, isolation, path, how, ...(free ? ['free'] : [])], 40_000);
}

// Concurrent: each scenario is a process of its own, most of its time spent in
// the teardown's waits (counted, not timed: test/helpers/program.mjs).
describe.concurrent.each(bootableIsolations)('isolation %s: an interrupt handler that never returns', (isolation) => {
  it('at an unload is left running, keeps the domain until it returns, and then runs no driver code', async () => {
    expect(await scenario(isolation, 'unload')).toEqual({
      leftRunning: 1,
      keptState: 'unloaded',
      reload: expect.stringMatching(/unloaded, but its domain is kept until irq 11 handler, left running/),
      late: 0,
    });
  }, 60_000);

  // One deadline for all of a domain's lines: before, the release of each waited for its thread in turn (a wait per line).
  it('on two lines, both at a recovery, are left running within one wait for both', async () => {
    expect(await scenario(isolation, 'recover-two-lines')).toEqual({
      recoveryWaits: 1, // for the threads to leave the domain (before: 2, then to end as well; before that, 3)
      leftRunning: 2,
      late: 0,
    });
  }, 60_000);

  const restarted = { leftRunning: 1, keptState: 'running', state: 'running', irqObjects: 1, runsAfterEnd: 1, stateAfterEnd: 'running', late: 0 };

  it('at a recovery is left running; the restarted driver serves the line, and the old thread calls none of its handlers', async () => {
    expect(await scenario(isolation, 'recover')).toEqual(restarted);
  }, 60_000);

  // Its thread is no longer the line's, nor waited for at free_irq: the teardown waits for it (irq_wait_freed_lines).
  it('having freed its own line, at a recovery is left running as well', async () => {
    expect(await scenario(isolation, 'recover', true)).toEqual(restarted);
  }, 60_000);

  it('left running at a recovery, is not waited for again at the unload after it, which keeps the domain for it', async () => {
    expect(await scenario(isolation, 'recover-then-unload')).toEqual({
      leftRunning: 1,
      keptState: 'running',
      state: 'running',
      irqObjects: 1,
      waits: 1, // the recovery's, for the thread to leave the domain (before: 2, then to end as well)
      unloadedState: 'unloaded',
      late: 0,
    });
  }, 60_000);

  // A driver's own free_irq, outside a teardown, gives up on it: before, it went on in the driver once its call returned.
  it('freed by its driver is left running, asked to leave: when its call returns it runs no driver code, and fails nothing', async () => {
    expect(await scenario(isolation, 'free-stuck')).toEqual({ leftRunning: 1, runsPastSleep: 0, state: 'running', late: 0 });
  }, 60_000);

  // Before: free_irq's request to leave replaced the watchdog's, and the thread's leaving failed nothing (the hang dropped).
  it("past its time budget, then freed by its driver: the watchdog's request stands, and its leaving fails the driver, which is recovered", async () => {
    expect(await scenario(isolation, 'free-past-budget')).toEqual({
      leftRunning: 1,
      events: ['fault timeout', 'recovering timeout', 'recovered timeout'],
      state: 'running',
      late: 0,
    });
  }, 60_000);

  // Before: the second handler's free_irq, its wait ended by the request, left the first handler as it was: it went on in the driver.
  it("freed by a handler that its driver's free_irq gives up on is left running, asked to leave, as well", async () => {
    expect(await scenario(isolation, 'free-in-freed-handler')).toEqual({
      leftRunning: ['irq 12 handler: did not stop; left running', 'irq 11 handler: did not stop; left running'],
      runsPastSleep: 0,
      state: 'running',
      late: 0,
    });
  }, 60_000);

  // Before: its free_irq, its wait ended after the recovery had left the handler running, left it running again.
  it("freed by a handler whose free_irq's wait spans a recovery that leaves both running is left running once", async () => {
    expect(await scenario(isolation, 'free-across-recovery')).toEqual({ leftRunning: 2, state: 'running', late: 0 });
  }, 60_000);

  it('freed by module_exit is waited for once at the unload: its teardown does not wait for it again (before: it did)', async () => {
    expect(await scenario(isolation, 'unload-waits')).toEqual({ waits: 1, late: 0 });
  }, 60_000);

  // Before: free_irq waited its full time past the request, and left the handler running before module_exit ended.
  it("freed by module_exit past its time budget: the watchdog's request ends free_irq's wait, and the teardown waits once for the handler", async () => {
    expect(await scenario(isolation, 'exit-past-budget')).toEqual({
      logged: ['module_exit faulted', 'did not leave the failed domain', 'did not stop; left running'],
      waits: 1, // the teardown's, for the handler's thread to leave the domain: then it is left running (before: 2, then to end as well)
      late: 0,
    });
  }, 60_000);
});
