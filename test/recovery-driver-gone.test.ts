// A listener of the recovery's events that unloads the driver, or shuts the
// kernel down, while the agent recovers it: the recovery is over, quietly (no
// further event, no error), and nothing the agent would have done reaches a
// driver loaded since under the same name. Before: the restart's lookup threw
// "no driver named", and so did the disable in the agent's error path: for a
// kernel thread's fault an unhandled rejection that ended the process; for a
// call's fault that error instead of the DriverFault.
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DriverFault, Kernel, type RecoveryEvent, type RecoveryEventName } from '../lib/index.js';
import { faultOf } from './helpers/util.js';

let kernel: Kernel;
beforeEach(async () => {
  kernel = await Kernel.boot({ isolation: 'mprotect' });
});
afterEach(async () => {
  await kernel.shutdown();
});

const rejections: unknown[] = [];
const onRejection = (reason: unknown) => void rejections.push(reason);
beforeEach(() => {
  rejections.length = 0;
  process.on('unhandledRejection', onRejection);
});
afterEach(() => {
  process.off('unhandledRejection', onRejection);
});

/** Once the event loop has gone round: a promise rejected by then, unhandled, has been reported. */
const loopTurned = async () => {
  await new Promise((r) => setTimeout(r, 0));
  await new Promise((r) => setImmediate(r));
};

const eventNames = () => kernel.events().map((e) => e.event);

describe.each(['fault', 'recovering'] as RecoveryEventName[])('a \'%s\' listener', (event) => {
  it('that unloads the driver during a kernel thread\'s fault ends the recovery, and the process lives on', async () => {
    const d = await kernel.load('crashy');
    kernel.once(event, () => d.unload());
    const heard = once(kernel, event) as Promise<[RecoveryEvent]>;
    expect(d.call('timer_fault', 20)).toBe(0); // arms the timer and returns: the fault comes on the timer thread
    await heard;
    await loopTurned();
    expect(rejections).toEqual([]);
    expect(eventNames()).toEqual(['fault', 'recovering']);
    expect(kernel.driver('crashy')).toBeUndefined();
  });

  it('that shuts the kernel down during a kernel thread\'s fault ends the recovery, and the process lives on', async () => {
    const d = await kernel.load('crashy');
    kernel.once(event, () => void kernel.shutdown());
    const heard = once(kernel, event) as Promise<[RecoveryEvent]>;
    expect(d.call('timer_fault', 20)).toBe(0);
    await heard;
    await loopTurned();
    expect(rejections).toEqual([]);
    expect(d.state).toBe('unloaded');
  });

  it('that unloads the driver during a call\'s fault: the call throws the DriverFault', async () => {
    const d = await kernel.load('crashy');
    kernel.once(event, () => d.unload());
    const f = faultOf(() => d.call('null_deref'));
    expect(f).toBeInstanceOf(DriverFault);
    expect(f.recoveryFailed).toBeUndefined();
    expect(eventNames()).toEqual(['fault', 'recovering']);
  });
});

it('a listener that unloads the driver and loads another under its name: the agent leaves the new one alone', async () => {
  const d = await kernel.load('crashy');
  let heir: Promise<unknown> | undefined;
  kernel.once('fault', () => {
    d.unload();
    heir = kernel.load('crashy');
  });
  expect(faultOf(() => d.call('null_deref')).driver).toBe('crashy');
  await heir;
  expect(eventNames()).toEqual(['fault', 'recovering']);
  const again = kernel.driver('crashy')!;
  expect(again).not.toBe(d);
  expect(again.state).toBe('running');
  expect(kernel.domains().find((x) => x.name === 'crashy')!.recoveries).toBe(0);
});

it('a listener that unloads the driver the policy disables: no disabled event, no error', async () => {
  await kernel.shutdown();
  kernel = await Kernel.boot({ isolation: 'mprotect', policy: { drivers: { crashy: { action: 'disable' } } } });
  const d = await kernel.load('crashy');
  kernel.once('fault', () => d.unload());
  expect(faultOf(() => d.call('null_deref')).driver).toBe('crashy');
  expect(eventNames()).toEqual(['fault']);
});
