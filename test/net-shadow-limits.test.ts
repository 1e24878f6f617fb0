// What the net class takes of an interface the shadow keeps (docs/recovery.md, "Shadow drivers", per class): no
// registration is live, so a send or a configure is checked against the last registration's limits (its MTU range,
// its socket buffers), as it is with the driver running; and the kernel never copies a frame past a socket buffer
// of the registration that takes the queue, even one whose buffers are smaller than those the frame was sent for
// (a fallback's). Before, a parked interface took frames up to 16128 bytes and any MTU: the restarted driver was
// handed a 16128-byte frame in a 2048-byte buffer, written past it into the next ones (or past the block).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { defaultPolicy, Kernel, openNet, type Driver, type DriverPolicy, type NetConfig, type NetError, type NetInterface } from '../lib/index.js';
import { packageRoot } from '../lib/paths.js';
import { buildDriver, fixtureDriver } from './helpers/build-driver.js';
import { fallbackTo, suiteIsolation, until } from './helpers/util.js';

let kernel: Kernel | undefined;
let dir: string | undefined;
afterEach(async () => {
  await kernel?.shutdown();
  kernel = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

// A frame of `bytes`: broadcast, from the driver's MAC.
const frameOf = (bytes: number) => Buffer.concat([Buffer.from('ffffffffffff5254000000090800', 'hex'), Buffer.alloc(bytes - 14, 0x5a)]);

// eth0 of the driver at `path` (test/fixtures/drivers/net-open-refused.c: it refuses nothing unless told), open.
async function boot(path: string, policy: DriverPolicy = defaultPolicy.default): Promise<{ drv: Driver; eth: NetInterface }> {
  kernel = await Kernel.boot({ isolation: suiteIsolation, policy: { default: policy, drivers: new Map() } });
  kernel.addDevice('e1000', {});
  const drv = await kernel.load(path);
  return { drv, eth: openNet(kernel, 'eth0') };
}

// That driver built for jumbo frames: MTU 9000, socket buffers of 9024 bytes.
function jumbo(): string {
  dir = mkdtempSync(join(tmpdir(), 'net-shadow-limits-'));
  const source = readFileSync(join(packageRoot, 'test', 'fixtures', 'drivers', 'net-open-refused.c'), 'utf8');
  return buildDriver(dir, 'net-open-refused-jumbo', source, { extraCflags: ['-DMAX_MTU=9000'] });
}

// Runs `whileParked` once the failed driver's interface is parked, before the driver in its place registers it
// (its assertions rethrown here: the kernel only warns of a listener that throws).
async function recoverWith(drv: Driver, eth: NetInterface, whileParked: () => void): Promise<void> {
  let failed: unknown;
  kernel!.once('recovering', () => {
    try {
      expect(eth.info()).toMatchObject({ registered: false, restarting: true });
      whileParked();
    } catch (e) {
      failed = e;
    }
  });
  drv.recover();
  if (failed) throw failed;
  await until(() => drv.state === 'running' && eth.stats().kernel.registrations === 2 && eth.info().open, 'eth0 reopened by the driver in its place', 5_000);
}

it('a frame longer than the MTU sent while the interface is parked is refused, as with the driver running', async () => {
  const { drv, eth } = await boot(fixtureDriver('net-open-refused'));
  const tooLong = { code: 'EINVAL', message: 'eth0: frame 0 is 16128 bytes (14..1518)' };
  expect(() => eth.send([frameOf(16128)])).toThrow(expect.objectContaining(tooLong));
  await recoverWith(drv, eth, () => {
    expect(() => eth.send([frameOf(16128)])).toThrow(expect.objectContaining(tooLong)); // before: accepted
    expect(eth.send([frameOf(1518)])).toBe(1);
  });
  await until(() => Number(drv.call('frames_sent')) >= 1, 'the queued frame at the restarted driver', 5_000);
  expect(Number(drv.call('longest_frame'))).toBe(1518); // before: 16128, in a 2048-byte buffer
});

it('an MTU outside the driver\'s range set while the interface is parked is refused; one inside it bounds the frames sent', async () => {
  const { drv, eth } = await boot(fixtureDriver('net-open-refused'));
  const outside = { code: 'EINVAL', message: 'eth0: MTU 20000 outside 68..1500' };
  expect(() => eth.configure({ mtu: 20000 })).toThrow(expect.objectContaining(outside));
  await recoverWith(drv, eth, () => {
    expect(() => eth.configure({ mtu: 20000 })).toThrow(expect.objectContaining(outside)); // before: 0, then dropped at the replay
    eth.configure({ mtu: 1000 });
    expect(() => eth.send([frameOf(1019)])).toThrow(expect.objectContaining({ code: 'EINVAL', message: 'eth0: frame 0 is 1019 bytes (14..1018)' }));
  });
  expect(eth.info().mtu).toBe(1000);
});

it('an MTU the failed driver took but its fallback\'s range does not: the handle is detached with EIO saying so', async () => {
  const { drv, eth } = await boot(jumbo(), fallbackTo(fixtureDriver('net-open-refused')));
  eth.configure({ mtu: 9000 });
  const detached: NetError[] = [];
  eth.on('detached', (e) => detached.push(e));
  drv.recover();
  await until(() => detached.length > 0, 'eth0\'s handle to be detached', 5_000);
  expect(detached[0]).toMatchObject({ code: 'EIO', message: 'eth0: reopening after its driver restarted failed (MTU 9000 outside 68..1500); open it again' });
});

it('frames queued for larger socket buffers than those of the fallback that takes the interface are dropped and counted', async () => {
  const { drv, eth } = await boot(jumbo(), fallbackTo(fixtureDriver('net-open-refused'))); // the fallback's buffers: 2048 bytes
  await recoverWith(drv, eth, () => {
    expect(eth.send([frameOf(9018), frameOf(60)])).toBe(2); // the failed driver's MTU and buffers (9024 bytes)
  });
  await until(() => Number(drv.call('frames_sent')) >= 1, 'the short frame at the fallback', 5_000);
  expect(Number(drv.call('longest_frame'))).toBe(60); // before: 9018, in a 2048-byte buffer
  expect(eth.stats().kernel).toMatchObject({ txDropped: 1, txWaiting: 0 });
});

// The configuration of an interface whose handles all closed is nobody's: a driver loaded since that refuses it does
// not keep the interface from opening. (The first fix for the replay above made such an open fail for good.)
it('an MTU set by handles all closed since, that a driver loaded since refuses, is forgotten at the next open', async () => {
  const { drv, eth } = await boot(jumbo());
  eth.configure({ mtu: 9000 });
  eth.close();
  drv.unload();
  await kernel!.load(fixtureDriver('net-open-refused')); // 68..1500
  const again = openNet(kernel!, 'eth0'); // without forgetting: EIO, 'eth0: opening failed (MTU 9000 outside 68..1500)'
  expect(again.info()).toMatchObject({ open: true, mtu: 1500 });
});

// The driver's own MAC (test/fixtures/drivers/net-open-refused.c) and one an application set.
const OWN_MAC = '52:54:00:00:00:09';
const SET_MAC = '52:54:00:00:00:42';

// Configures eth0 under the fixture driver, closes it, and loads the fixture again with `params` (the same slot):
// the new driver, eth0 not open (its configuration recorded).
async function configuredThenReloaded(config: NetConfig, params: Record<string, number>): Promise<Driver> {
  const { drv, eth } = await boot(fixtureDriver('net-open-refused'));
  eth.configure(config);
  eth.close();
  drv.unload();
  return kernel!.load(fixtureDriver('net-open-refused'), { params });
}

// The open that forgets a refused setting tries again with the driver's own: what the first try applied before the
// refusal is undone, so that the device has what the interface records, and a restart changes nothing the
// application sees.
it('a MAC applied before the MTU after it was refused, at an open that forgets both: the driver\'s own MAC again', async () => {
  const drv = await configuredThenReloaded({ mac: SET_MAC, mtu: 1450 }, { mtu_limit: 1400 });
  const again = openNet(kernel!, 'eth0');
  expect(again.info()).toMatchObject({ open: true, mac: OWN_MAC, mtu: 1500 }); // before: mac 52:54:00:00:00:42, which nothing recorded
  drv.recover();
  await until(() => again.stats().kernel.registrations === 3 && again.info().open, 'eth0 reopened by the restarted driver', 5_000);
  expect(again.info()).toMatchObject({ mac: OWN_MAC, mtu: 1500 });
});

it('an MTU applied after the MAC was refused, at an open that forgets both: the driver\'s own MTU again, and frames as long as it', async () => {
  const drv = await configuredThenReloaded({ mac: SET_MAC, mtu: 1000 }, { mac_error: 99 }); // EADDRNOTAVAIL
  const again = openNet(kernel!, 'eth0');
  expect(again.info()).toMatchObject({ open: true, mac: OWN_MAC, mtu: 1500 }); // before: mtu 1000, which nothing recorded
  expect(again.send([frameOf(1514)])).toBe(1); // before: EINVAL, 'eth0: frame 0 is 1514 bytes (14..1018)'
  drv.recover();
  await until(() => again.stats().kernel.registrations === 3 && again.info().open, 'eth0 reopened by the restarted driver', 5_000);
  expect(again.info()).toMatchObject({ mac: OWN_MAC, mtu: 1500 });
});

// The same, of a configuration forgotten with the handles the restore's refusal detached: the fallback took the MAC,
// refused the MTU; the next open gives it back its own MAC.
it('a MAC the fallback took before refusing the MTU replayed after it: the open after the detach has the driver\'s own MAC', async () => {
  const { drv, eth } = await boot(jumbo(), fallbackTo(fixtureDriver('net-open-refused')));
  eth.configure({ mac: SET_MAC, mtu: 9000 });
  const detached: NetError[] = [];
  eth.on('detached', (e) => detached.push(e));
  drv.recover();
  await until(() => detached.length > 0, 'eth0\'s handle to be detached', 5_000);
  expect(openNet(kernel!, 'eth0').info()).toMatchObject({ open: true, mac: OWN_MAC, mtu: 1500 }); // before: mac 52:54:00:00:00:42
});
