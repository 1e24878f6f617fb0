// An interface the net shadow parked waits for its own driver: a give-up ends
// what that driver's load parked (its serial), never what is parked under the
// slot it left. A fallback driver is loaded before its predecessor is
// unloaded, so it never has that slot: here the fallback registers no
// interface, and an unrelated driver takes the freed slot and is unloaded.
// Matched by slot, that unload ended eth0 with its own reason ('the driver
// failed and will not be restarted: ticker was unloaded'): its handles were
// detached, and sending on them failed. What detaches them is the fallback's
// 2 s without registering it (native/shadow). As test/sound-parked-slot and
// block-shadow's 'a parked disk outlives...' for their classes.
import { afterEach, expect, it } from 'vitest';
import { defaultPolicy, Kernel, openNet, type NetError } from '../lib/index.js';
import { fallbackTo, suiteIsolation, until } from './helpers/util.js';

let kernel: Kernel | undefined;
afterEach(async () => {
  await kernel?.shutdown();
});

it('a parked interface outlives the unload of a later driver that took its failed driver\'s slot', async () => {
  kernel = await Kernel.boot({
    isolation: suiteIsolation,
    policy: { default: defaultPolicy.default, drivers: new Map([['e1000', { ...fallbackTo('null'), shadow: true }]]) },
  });
  kernel.addDevice('e1000', { mac: '52:54:00:00:00:01' });
  const e1000 = await kernel.load('e1000');
  const slot = e1000.id;
  const eth = openNet(kernel, 'eth0');
  const detached: NetError[] = [];
  eth.on('detached', (e) => detached.push(e));
  e1000.recover(); // the fallback, null, registers no interface: eth0 stays parked for e1000's load
  await until(() => kernel!.events().some((e) => e.event === 'fallback'), 'the fallback driver in place of e1000', 10_000);
  expect(e1000.id).not.toBe(slot);
  expect(eth.info()).toMatchObject({ registered: false });

  const later = await kernel.load('ticker');
  expect(later.id).toBe(slot);
  later.unload(); // its give-up: nothing of e1000's load
  // what detaches eth0 is the fallback's 2 s rule (a slow machine only delays it), never ticker's unload
  await until(() => detached.length > 0, 'the fallback\'s rule to detach eth0', 10_000);
  expect(detached.map((e) => e.message)).toEqual(['eth0: device gone (fallback null.so of driver e1000 ran without registering it)']);
}, 20_000);
