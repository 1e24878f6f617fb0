// A restart whose module_init a fault on another of the driver's threads cuts
// short (here the timer callback that init waits for): the restart fails, and
// the agent disables the driver. That fault's own report comes later, from the
// recovery thread: it is the failure the agent has dealt with, and the driver
// is disabled for good. Before: the report was taken for a new failure,
// counted, and the disabled driver restarted (a restart that then succeeded
// left the "disabled" driver running). And a disabled driver's restart is
// refused (native/recovery/recovery.cc), and recover() says so, throwing:
// before, recover() brought it back.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dynamicSymbol } from '../lib/elf.js';
import { Kernel, type Driver, type Isolation } from '../lib/index.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { reportsHandedOn } from './helpers/util.js';

const path = fixtureDriver('init-waits-callback'); // test/fixtures/drivers/init-waits-callback.c
const callbackWork = dynamicSymbol(readFileSync(path), 'callback_work')!;
const bug = Buffer.from([0x0f, 0x0b]); // ud2: BUG(), at every run of the callback from now on, restarts included
const healed = readFileSync(path).subarray(callbackWork, callbackWork + bug.length); // the text lies at its addresses in the file
const isolations: Isolation[] = ['mprotect', 'process', ...(Kernel.pkuSupported() ? (['pkey'] as const) : [])];

describe.each(isolations)('isolation %s: a restart cut short by a fault on another thread', (isolation) => {
  const kernel = kernelPerBlock({ isolation });
  const eventsOf = (d: Driver) => kernel().events().filter((e) => e.driver === d.name);

  async function disabledByCutShortRestart(): Promise<Driver> {
    const d = await kernel().load(path);
    d.patchText({ offset: callbackWork, bytes: bug, transient: false });
    d.recover(); // the restart's module_init waits for the callback, which faults
    expect(d.state).toBe('disabled');
    expect(eventsOf(d).at(-1)!.fault).toMatchObject({ kind: 'recovery-failed', message: expect.stringContaining('module_init faulted') });
    return d;
  }

  it('the fault\'s late report neither counts as another failure nor restarts the disabled driver', async () => {
    const d = await disabledByCutShortRestart();
    await reportsHandedOn();
    expect(eventsOf(d).map((e) => `${e.event}:${e.failuresInWindow}`)).toEqual(['fault:1', 'recovering:1', 'disabled:1']);
    expect(d.state).toBe('disabled');
    expect(kernel().domains().find((x) => x.name === d.name)!.recoveries).toBe(0);
    d.unload();
  });

  it('recover() does not bring a disabled driver back: its restart is refused', async () => {
    const d = await disabledByCutShortRestart();
    await reportsHandedOn();
    d.patchText({ offset: callbackWork, bytes: healed, transient: false }); // a restart would succeed now
    const before = eventsOf(d).length;
    expect(() => d.recover()).toThrow(expect.objectContaining({ code: 'EUNAVAILABLE', message: `${d.name}: restart failed: ${d.name} is disabled` }));
    expect(d.state).toBe('disabled');
    expect(eventsOf(d)).toHaveLength(before); // no new failure for the policy: it gave up on this driver already
    expect(() => d.call('callback_work')).toThrow(/is disabled: calls are refused/);
    d.unload();
  });
});
