// An interface keeps its name and its applications' handles across its
// drivers' registrations: a shadow's restart, or another load for the device.
// When the driver that registered it last goes for good (unloaded, or given
// up on) and has left it unregistered (its module_exit did, or it did while
// running), nothing waits on the handles' behalf any more: they are detached
// with ENODEV and the reason (native/classes/net/net_core.cc,
// iface_driver_gone). Before, they stayed open for ever: sends were queued
// without an error, and no event came.
import { afterEach, expect, it } from 'vitest';
import { Kernel, openNet, type NetError } from '../lib/index.js';
import { suiteIsolation, until } from './helpers/util.js';

let kernel: Kernel | undefined;
afterEach(async () => {
  await kernel?.shutdown();
});

it('the handles on an interface whose driver is unloaded are detached with ENODEV', async () => {
  kernel = await Kernel.boot({ isolation: suiteIsolation });
  kernel.addDevice('e1000', { mac: '52:54:00:00:00:01' });
  const e1000 = await kernel.load('e1000');
  const eth = openNet(kernel, 'eth0');
  const detached: NetError[] = [];
  eth.on('detached', (e) => detached.push(e));
  e1000.unload(); // its module_exit unregisters eth0
  await until(() => detached.length > 0, 'eth0\'s handle to be detached', 5_000); // an event: the next turns bring it
  const [e] = detached;
  expect(e).toMatchObject({ code: 'ENODEV', message: 'eth0: its driver is gone (e1000 was unloaded)' });
  expect(() => eth.send([Buffer.alloc(60)])).toThrow(e);
});
