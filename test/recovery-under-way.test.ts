// driver.recover() while the agent recovers the driver's failure: called from a
// listener of that recovery's 'fault' or 'recovering' event, between the claim
// of the failure and the restart. The failure was handed to the agent already,
// by the kernel-thread path (a fault on the driver's timer thread, reported to
// the JavaScript thread and claimed there) or by a call's own fault; recover()
// is refused (DriverUnavailable, EUNAVAILABLE), and the failure is counted once
// and recovered once. Before: recover() found the driver failed, took that
// failure's generation and handed it to the agent a second time: counted twice
// ('fault' with failuresInWindow 1, then 2) and restarted twice.
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { DriverUnavailable, type Driver, type Isolation, type FaultInfo, type RecoveryEvent, type RecoveryEventName } from '../lib/index.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { faultOf, reportsHandedOn } from './helpers/util.js';

const isolations: Isolation[] = ['mprotect', 'process'];
const heardIn: RecoveryEventName[] = ['fault', 'recovering'];

describe.each(isolations)('isolation %s: recover() of a failure the agent is recovering', (isolation) => {
  const kernel = kernelPerBlock({ isolation });
  afterEach(() => kernel().driver('crashy')?.unload());

  /**
   * Loads crashy; the first `event` of its failure calls recover(): what it threw. The events
   * and recoveries of that failure, once `fail` (given the driver) has made it fail and recovered it.
   */
  async function recoverDuring(event: RecoveryEventName, fail: (d: Driver) => Promise<void>) {
    const d = await kernel().load('crashy');
    const from = kernel().events().length;
    const thrown: unknown[] = [];
    kernel().once(event, () => {
      try {
        d.recover();
        thrown.push('returned');
      } catch (e) {
        thrown.push(e);
      }
    });
    await fail(d);
    await reportsHandedOn(); // and whatever the recovery under way had left to emit, emitted
    const events = kernel().events().slice(from);
    const recoveries = kernel().domains().find((x) => x.name === d.name)!.recoveries;
    return { d, thrown, events, recoveries };
  }

  function recoveredOnce(r: Awaited<ReturnType<typeof recoverDuring>>, kind: string): void {
    expect(r.events.map((e) => `${e.event}:${e.failuresInWindow}`)).toEqual(['fault:1', 'recovering:1', 'recovered:1']);
    expect(r.recoveries).toBe(1);
    const fault = r.events[0]!.fault as FaultInfo;
    expect(fault).toMatchObject({ kind, generation: 1 });
    expect(r.events.every((e) => e.fault === fault)).toBe(true);
    expect(r.d.decisionFor(fault)).toEqual({ decision: 'restart' });
    expect(r.thrown).toEqual([expect.any(DriverUnavailable)]);
    expect(r.thrown[0]).toMatchObject({
      code: 'EUNAVAILABLE',
      message: "crashy is being recovered from its failure already: wait for the recovery's end (the kernel's 'recovered', 'fallback' or 'disabled' event)",
    });
    expect(r.d.state).toBe('running');
    expect(r.d.call('add', 2, 3)).toBe(5);
  }

  it.each(heardIn)("a fault on the driver's timer thread: recover() from a '%s' listener is refused", async (event) => {
    const r = await recoverDuring(event, async (d) => {
      const recovered = once(kernel(), 'recovered') as Promise<[RecoveryEvent]>;
      expect(d.call('timer_fault', 20)).toBe(0); // arms the timer and returns: the fault comes on the timer thread
      await recovered;
    });
    recoveredOnce(r, 'segv');
  });

  it.each(heardIn)("a call's own fault: recover() from a '%s' listener is refused, and the call throws its DriverFault", async (event) => {
    const r = await recoverDuring(event, async (d) => {
      const f = faultOf(() => d.call('null_deref'));
      expect(f).toMatchObject({ kind: 'segv', recoveryFailed: undefined });
    });
    recoveredOnce(r, 'segv');
  });
});
