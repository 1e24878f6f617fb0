// A restart that fails before module_init runs (here: a device of its load
// option `devices` taken, since its teardown, by a driver a 'fault' listener
// loads) lets go of what it took again (the devices it held before the one it
// could not have): the driver, disabled, holds nothing, and the device is free
// for the next driver. Before: the failure it restarted from was torn down
// already, so neither the disable nor the unload released anything, and the
// device stayed bound to the freed domain id, passing to whichever driver
// reused it.
import { describe, expect, it } from 'vitest';
import { kernelPerBlock } from './helpers/kernel.js';
import { faultOf } from './helpers/util.js';

describe('a restart that fails before module_init', () => {
  const kernel = kernelPerBlock({ isolation: 'mprotect' });

  it('releases the devices it held again: the disabled driver holds none, and another driver can have them', async () => {
    const [kept, taken] = [kernel().addDevice('testdev'), kernel().addDevice('testdev')];
    const d = await kernel().load('crashy', { devices: [kept.address, taken.address] });
    let thief: Promise<unknown> | undefined;
    kernel().once('fault', () => {
      thief = kernel().load('null', { devices: [taken.address] });
    });
    const f = faultOf(() => d.call('null_deref'));
    await thief;
    expect(f.recoveryFailed).toBe(`crashy: restart failed: load option devices: ${taken.address} (${taken.name}) is bound to null`);
    expect(d.state).toBe('disabled');
    expect(d.objects()).toEqual([]);
    d.unload();
    const heir = await kernel().load('ticker', { devices: [kept.address] }); // in the slot d had, or another
    expect(heir.objects().filter((o) => o.type === 'device').map((o) => o.label)).toEqual([kept.address]);
  });
});
