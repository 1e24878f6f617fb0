// free_irq's wait may give up on a line's thread that has not run its first
// line yet (a thread just started by request_irq that the scheduler has not
// run): that thread is not inside the driver, so nothing is asked to leave
// for it. Before, a null ThreadCtx meant every thread inside: the handler of
// another line, sleeping inside the driver, was asked to leave and cut
// short. The driver requests and frees a line three times, each line's
// thread held before its first line until free_irq has given up on it
// (holdNewIrqThreads), in a process of its own (test/helpers/irq-unstarted.mjs;
// docs/recovery.md, "free_irq's give-up").
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { bootableIsolations, programReport } from './helpers/util.js';

const path = fixtureDriver('irq-unstarted'); // test/fixtures/drivers/irq-unstarted.c
const program = join(packageRoot, 'test', 'helpers', 'irq-unstarted.mjs');

describe.each(bootableIsolations)('isolation %s: free_irq gives up on a line thread that has not run yet', (isolation) => {
  it("asks no thread to leave: another line's handler inside the driver runs to its end", async () => {
    // Before: 'timed out waiting for the held handler to run to its end'.
    expect(await programReport([program, isolation, path], 40_000)).toEqual({ churned: 0, gaveUp: 3, state: 'running' });
  }, 60_000);
});
