// The failure-generation window: a failure marks the driver's domain failed, then moves its failure generation on.
// A thread that finds the domain failed in between must take that failure's generation, not the one before it,
// whose recovery is over: the claim is made under the primary-fault seqlock's odd count, and the generation moves
// on before the count turns even again (native/xpc/xpc.cc, claim_and_count). A stress loop hit the window once in
// ~35 000 rounds; the test hook holdFailureClaim holds it open: a fault on the driver's timer thread waits there,
// and recover() on the JavaScript thread, finding the driver failed, fails it too, in the window. It takes the
// timer fault's failure (generation 1), which is torn down, counted and restarted once; that fault's own report,
// later, is dropped.
import { afterEach, expect, it } from 'vitest';
import { Kernel, type FaultInfo, type Isolation } from '../lib/index.js';
import { holdFailureClaim, releaseFailureClaim } from '../lib/testing.js';
import { reportsHandedOn, until } from './helpers/util.js';

const isolations: Isolation[] = ['mprotect', 'process', ...(Kernel.pkuSupported() ? (['pkey'] as const) : [])];

let kernel: Kernel | undefined;
afterEach(async () => {
  releaseFailureClaim(); // a test that failed while the claim waited
  await kernel?.shutdown();
  kernel = undefined;
});

// Before: the unload shutdown() makes marks the driver failed, and a hold left armed kept it there its 10 s.
it("shutdown() does not wait in a claim holdFailureClaim left armed", async () => {
  kernel = await Kernel.boot({ isolation: 'mprotect' });
  holdFailureClaim(await kernel.load('crashy'));
  const t0 = performance.now();
  await kernel.shutdown();
  kernel = undefined;
  expect(performance.now() - t0).toBeLessThan(5_000); // milliseconds; the hold would have lasted 10 s
});

// Before: unload() marks the driver failed, and a hold left armed kept it there its 10 s (and armed, it would hold
// the next driver given the same id).
it("unload() does not wait in a claim holdFailureClaim left armed", async () => {
  kernel = await Kernel.boot({ isolation: 'mprotect' });
  const d = await kernel.load('crashy');
  holdFailureClaim(d);
  const t0 = performance.now();
  await d.unload();
  expect(performance.now() - t0).toBeLessThan(5_000); // milliseconds; the hold would have lasted 10 s
});

it.each(isolations)("isolation %s: recover() in a failure's window takes that failure's generation", async (isolation) => {
  kernel = await Kernel.boot({ isolation });
  const d = await kernel.load('crashy');
  holdFailureClaim(d);
  expect(d.call('timer_fault', 1)).toBe(0); // arms the timer and returns: the fault comes on the timer thread
  await until(() => d.state === 'failed', 'the timer fault to mark crashy failed'); // its claim waits in the window
  d.recover(); // waits for that claim: then the failure it is in is the timer fault's
  await reportsHandedOn();

  const events = kernel.events().filter((e) => e.driver === 'crashy');
  expect(events.map((e) => `${e.event}:${e.failuresInWindow}`)).toEqual(['fault:1', 'recovering:1', 'recovered:1']);
  expect(events[0]!.fault as FaultInfo).toMatchObject({ kind: 'aborted', message: 'recovery requested', generation: 1 });
  expect(kernel.domains().find((x) => x.name === 'crashy')!.recoveries).toBe(1);
  expect(d.state).toBe('running');
  expect(d.call('add', 2, 3)).toBe(5);
});
