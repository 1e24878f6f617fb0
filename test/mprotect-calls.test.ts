// What an 'mprotect' crossing costs in system calls, and that the cheaper
// protection changes still isolate. Entering a driver closes each other
// domain that is not closed (one call: heap, DMA arena and stacks lie in one
// reservation); returning to the kernel opens none: kernel code that touches
// a closed domain opens it on the fault (as its driver has it: never its
// guards, test/mprotect-open-view.test.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NullDrivers } from '../lib/bench/common.js';
import type { Driver } from '../lib/index.js';
import { native } from '../lib/native.js';
import { buildDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { faultOf } from './helpers/util.js';

describe("mprotect calls per crossing, isolation 'mprotect'", () => {
  const kernel = kernelPerBlock({ isolation: 'mprotect' });
  let nulls: NullDrivers;

  beforeAll(async () => {
    nulls = new NullDrivers(kernel());
  });
  afterAll(() => {
    nulls?.remove();
  });

  const callsWith = async (loaded: number) => {
    const [first] = await nulls.first(loaded);
    const upcalls = native().resolve(first.driver.id, 'upcall_nop');
    const r = native().benchDomains(first.driver.id, first.nop, upcalls, 3, 200);
    return [r.mprotectCallsPerCrossing, r.mprotectCallsPerKernelCall];
  };

  it('the host-object heap made read-only and writable again, per crossing and per kernel call, however many drivers are loaded', async () => {
    // the other drivers stay closed between crossings: nothing opens them unless kernel code touches them
    expect(await callsWith(1)).toEqual([2, 2]);
    expect(await callsWith(4)).toEqual([2, 2]);
    expect(await callsWith(16)).toEqual([2, 2]);
  });

  it('a driver entered after another ran still has its guard pages and cannot reach the other', async () => {
    const crashy: Driver = kernel().driver('crashy') ?? (await kernel().load('crashy'));
    const ticker: Driver = kernel().driver('ticker') ?? (await kernel().load('ticker'));
    const tickerMemory = () => Number(ticker.objects().find((o) => o.type === 'memory')!.address);
    for (let round = 0; round < 2; round++) {
      // ticker ran last: crashy was closed while it ran, and is opened again on entry (its guards kept)
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

  it('kernel code opens a closed driver when it touches it; the next driver entered finds it closed again', async () => {
    const crashy: Driver = kernel().driver('crashy') ?? (await kernel().load('crashy'));
    const ticker: Driver = kernel().driver('ticker') ?? (await kernel().load('ticker'));
    const bytes = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const block = ticker.alloc(bytes.length);
    expect(crashy.call('add', 1, 2)).toBe(3); // ticker is closed now, and returning to the kernel leaves it so
    ticker.write(block, bytes); // kernel code in ticker's closed heap: opened on the fault, not a crash
    expect([...ticker.read(block, bytes.length)]).toEqual([...bytes]);
    const f = faultOf(() => crashy.call('write_other', block));
    expect(f.kind).toBe('segv');
    expect(Number(f.address)).toBe(block);
    expect([...ticker.read(block, bytes.length)]).toEqual([...bytes]); // crashy's write never landed
    ticker.free(block);
  });
});

// A driver thread's stack in its domain is opened when the thread first
// enters (open_stack) and closed when it ends (close_stack), both under the
// mprotect lock and both counted: the count is every mprotect a crossing's
// bookkeeping makes, thread ends included.
describe("mprotect calls over a driver thread's life, isolation 'mprotect'", () => {
  const kernel = kernelPerBlock({ isolation: 'mprotect' });
  const dir = mkdtempSync(join(tmpdir(), 'nooks-mprotect-calls-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const spawner = `
#include <pthread.h>
#include <stddef.h>

static void *nothing(void *arg)
{
	return arg;
}

long spawn_join(void)
{
	pthread_t t;

	return pthread_create(&t, NULL, nothing, NULL) || pthread_join(t, NULL) ? -1 : 0;
}

long nop(void)
{
	return 0;
}
`;

  it('a thread that enters once and ends: its crossing, and its stack opened and closed', async () => {
    const d = await kernel().load(buildDriver(dir, 'spawner', spawner, { posix: true }));
    const callsFor = (fn: string) => {
      const before = native().mprotectCalls();
      expect(d.call(fn)).toBe(0);
      return native().mprotectCalls() - before;
    };
    const crossing = callsFor('nop'); // the host-object heap read-only, then writable again (the first test)
    for (let round = 0; round < 2; round++) {
      // pthread_create and pthread_join are kernel calls (a crossing's worth each); the thread's run is one more crossing
      expect(callsFor('spawn_join')).toBe(crossing + 2 * crossing + crossing + 2);
    }
  });
});
