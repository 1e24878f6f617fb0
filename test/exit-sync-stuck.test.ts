// A module_exit that cancels a timer or a work item whose callback never
// returns (a kernel call that does not: its sleep, which a test hook makes
// deaf to the request to leave), waiting for it (del_timer_sync,
// cancel_work_sync), must not hang the unload: the watchdog ends module_exit
// at its time budget, and the unload's teardown waits once for the callback
// to leave the domain, then leaves its thread running; a new thread serves
// the queue, and once the call returns the old one runs no driver code and
// ends (docs/recovery.md, "Timers and work items"). A recovery runs no
// module_exit. In a process of its own (test/helpers/timer-work-stuck.mjs).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { bootableIsolations, programReport } from './helpers/util.js';

const path = fixtureDriver('timer-work-stuck'); // test/fixtures/drivers/timer-work-stuck.c
const busy = fixtureDriver('busy-callbacks'); // test/fixtures/drivers/busy-callbacks.c
const program = join(packageRoot, 'test', 'helpers', 'timer-work-stuck.mjs');

// Concurrent: each scenario is a process of its own, most of its time spent in
// the teardown's waits (counted, not timed: test/helpers/program.mjs).
describe.concurrent.each(bootableIsolations)('isolation %s: module_exit waits for a callback that never returns', (isolation) => {
  it.each([
    ['timer', 'del_timer_sync'],
    ['work', 'cancel_work_sync'],
  ])('%s (%s): ended at its budget; the unload waits once, leaves the thread running, and no thread stays', async (kind) => {
    expect(await programReport([program, isolation, path, kind, 'exit-sync', busy], 40_000)).toEqual({
      waits: 1, // the teardown's, for the callback's thread to leave the domain
      logged: ['module_exit faulted', 'did not leave the failed domain', 'did not stop; left running'],
      leftRunning: 1,
      keptState: 'unloaded',
      late: 0,
      threadsMore: 0,
    });
  }, 60_000);
});
