// A driver that registers its interface after its init has returned (test/fixtures/drivers/net-late.c: from a work
// item, once the test lets it), in the place of a failed driver whose interface applications have open: its
// registration reopens the interface (the replay, on the JavaScript thread), which crosses into the driver while the
// registration may still be in the kernel. The netdev is the driver's before the interface is published, so the
// driver's own calls in that ndo_open (netif_carrier_on) find it. Before, a reopen that came first failed the
// fallback: bad-call, "not a netdev object the driver holds".
import { afterEach, expect, it } from 'vitest';
import { Kernel, openNet } from '../lib/index.js';
import { netHoldRegister } from '../lib/testing.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { fallbackTo, logEvents, suiteIsolation, until } from './helpers/util.js';

let kernel: Kernel | undefined;
afterEach(async () => {
  await kernel?.shutdown();
  kernel = undefined;
});

it('a fallback registering the interface later, from a work item: the reopen\'s ndo_open finds the netdev the fallback\'s', async () => {
  const fallback = fixtureDriver('net-late');
  kernel = await Kernel.boot({ isolation: suiteIsolation, policy: { default: fallbackTo(fallback), drivers: new Map() } });
  kernel.addDevice('e1000', {});
  const drv = await kernel.load(fixtureDriver('net-open-refused'));
  const eth = openNet(kernel, 'eth0');
  drv.recover();
  expect(drv.path).toBe(fallback);
  expect(eth.info()).toMatchObject({ registered: false, restarting: true }); // parked, waiting for the fallback's registration
  // The registration returns to the driver only once the reopen is over: the reopen's ndo_open runs while the
  // registration is in the kernel, as on a starved CPU.
  netHoldRegister('eth0');
  expect(drv.call('register_now')).toBe(1);
  await until(() => eth.stats().kernel.registrations === 2 && !eth.info().restarting, 'eth0 registered by the fallback', 5_000);
  await until(() => eth.info().open || drv.state !== 'running', 'the reopen to be over', 5_000);
  expect(logEvents(kernel, 'test-register-held')).toEqual([{ kind: 'test-register-held', device: 'eth0' }]);
  // recover()'s fault alone: none of the fallback's
  expect(kernel.events().filter((e) => e.event === 'fault').map((e) => e.fault?.message)).toEqual(['recovery requested']);
  expect(kernel.events().map((e) => e.event)).toEqual(['fault', 'recovering', 'fallback']);
  expect(eth.info()).toMatchObject({ registered: true, open: true, carrier: true });
  expect(drv.state).toBe('running');
  eth.close();
});
