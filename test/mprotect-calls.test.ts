// What an 'mprotect' crossing costs in system calls, and that the cheaper
// protection changes still isolate. A domain's heap, DMA arena and stacks lie
// in one reservation: entering a driver closes each other domain with one
// call, returning to the kernel opens it with one (guards included, while no
// driver code runs); the driver entered gets its guards back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NullDrivers } from '../lib/bench/common.js';
import { Kernel, type Driver } from '../lib/index.js';
import { native } from '../lib/native.js';
import { faultOf } from './helpers/util.js';

describe("mprotect calls per crossing, isolation 'mprotect'", () => {
  let kernel: Kernel;
  let nulls: NullDrivers;

  beforeAll(async () => {
    kernel = await Kernel.boot({ isolation: 'mprotect' });
    nulls = new NullDrivers(kernel);
  });
  afterAll(async () => {
    await kernel?.shutdown();
    nulls?.remove();
  });

  const callsPerCrossing = async (loaded: number) => {
    const [first] = await nulls.first(loaded);
    native().benchRoundTrip(first.driver.id, first.nop, 1, 1); // the domains just loaded take their views
    return native().benchRoundTrip(first.driver.id, first.nop, 3, 200).mprotectCallsPerCrossing;
  };

  it('one driver: the host-object heap made read-only and writable again; each other driver: one call each way', async () => {
    expect(await callsPerCrossing(1)).toBe(2);
    // null has no writable segment and no device registers: only its reservation changes
    expect(await callsPerCrossing(4)).toBe(2 + 2 * 3);
    expect(await callsPerCrossing(16)).toBe(2 + 2 * 15);
  });

  it('a driver entered after another ran still has its guard pages and cannot reach the other', async () => {
    const crashy: Driver = await kernel.load('crashy');
    const ticker: Driver = await kernel.load('ticker');
    const tickerMemory = () => Number(ticker.objects().find((o) => o.type === 'memory')!.address);
    for (let round = 0; round < 2; round++) {
      // ticker ran last: crashy was closed while it ran, then opened whole (guards too) for the kernel
      ticker.call('ticks');
      expect(faultOf(() => crashy.call('stack_overflow', 0)).kind).toBe('stack-overflow');
      expect(crashy.state).toBe('running'); // restarted by the recovery agent (4 failures: under the default policy's 5)
      ticker.call('ticks');
      const f = faultOf(() => crashy.call('write_other', tickerMemory()));
      expect(f.kind).toBe('segv');
      expect(Number(f.address)).toBe(tickerMemory());
      expect(crashy.state).toBe('running');
    }
  });
});
