// An interrupt handler that frees its own line (free_irq from the handler),
// and requests it again, as a driver re-initialising its device does. The
// thread that ran it must end once it returns: the line, requested again, has
// a thread of its own, and one thread serves a line (two would run the handler
// at once). Seen from outside as the driver's threads: the handler's thread,
// ending, leaves the domain (its stack there goes).
import { afterEach, describe, expect, it } from 'vitest';
import type { Driver } from '../lib/index.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { bootableIsolations, until } from './helpers/util.js';

const path = fixtureDriver('irq-reinit'); // test/fixtures/drivers/irq-reinit.c
const LINE = 9;

describe.each(bootableIsolations)("isolation %s: free_irq from the line's own handler", (isolation) => {
  const kernel = kernelPerBlock({ isolation });
  const threads = (d: Driver) => kernel().domains().find((x) => x.name === d.name)!.threads;
  const runs = (d: Driver) => Number(d.call('handler_runs'));
  afterEach(() => kernel().driver('irq-reinit')?.unload()); // a failed case's driver, loaded by the next

  it('requested again: the thread that ran the handler ends, and the line is served by one new thread', async () => {
    const d = await kernel().load(path);
    expect(runs(d)).toBe(0); // this thread has entered the domain: counted from here
    const before = threads(d);
    for (let i = 1; i <= 3; i++) {
      expect(kernel().raiseIrq(LINE)).toBe(true);
      await until(() => runs(d) === i, `handler run ${i}`);
      await until(() => threads(d) === before, `the end of the thread of handler run ${i}`);
    }
    expect(d.call('failed_requests')).toBe(0);
    expect(d.objects().filter((o) => o.type === 'irq')).toHaveLength(1);
    d.unload();
    expect(kernel().raiseIrq(LINE)).toBe(false);
  });

  it('left free: the thread ends, the line raises nothing, and the driver unloads', async () => {
    const d = await kernel().load(path);
    expect(d.call('set_request_again', 0)).toBe(0);
    const before = threads(d);
    expect(kernel().raiseIrq(LINE)).toBe(true);
    await until(() => runs(d) === 1, 'the handler run');
    await until(() => threads(d) === before, 'the end of its thread');
    expect(kernel().raiseIrq(LINE)).toBe(false);
    expect(d.objects().filter((o) => o.type === 'irq')).toEqual([]);
    d.unload();
  });
});
