// openNet while the interface's driver is being recovered under a shadow
// (docs/recovery.md, "Shadow drivers"): the open succeeds, as the handles
// open at the failure carry on. It is recorded with the interface the shadow
// keeps; the restarted driver's registration opens the interface for it
// (ndo_open, with the configuration replayed), and frames sent meanwhile
// queue and then go out. Each recovery window is held by progress: the
// teardown of a failure on a kernel thread (the driver's poll) waits where a
// test hook holds it (holdTeardown, nooks/testing) until the test lets it go.
// Once the shadow has given up, an open fails with ENODEV and the reason.
// Before, an open while the failed driver's registration was still in place
// (the fault seen, the teardown not yet at the release of its objects), or
// one in whose ndo_open the driver failed, threw EDRIVERFAILED ("open it
// again once it has restarted").
import type { Socket } from 'node:dgram';
import { afterEach, expect, it } from 'vitest';
import { applyFault, defaultPolicy, Kernel, openNet, planFault, type Driver, type DriverPolicy, type NetError } from '../lib/index.js';
import { driverPath } from '../lib/paths.js';
import { holdTeardown, releaseTeardown } from '../lib/testing.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { frame, nicPortOf, wirePartner } from './helpers/frames.js';
import { logFromNow } from './helpers/left-running.js';
import { suiteIsolation, until } from './helpers/util.js';

const NIC_MAC = '52:54:00:aa:bb:01';
const PEER_MAC = '52:54:00:cc:dd:02';

let kernel: Kernel | undefined;
let peer: Socket | undefined;
afterEach(async () => {
  releaseTeardown(); // a test that failed while a teardown waited
  await kernel?.shutdown();
  kernel = undefined;
  peer?.close();
  peer = undefined; // a test without a wire partner comes next
});

async function boot(policy: DriverPolicy = defaultPolicy.default) {
  const atPeer: Buffer[] = [];
  peer = await wirePartner(atPeer);
  kernel = await Kernel.boot({ isolation: suiteIsolation, policy: { default: policy, drivers: new Map() } });
  const dev = kernel.addDevice('e1000', { peer: `127.0.0.1:${peer.address().port}`, mac: NIC_MAC });
  const drv = await kernel.load('e1000');
  const port = nicPortOf(dev.name);
  const fromPeer = (seed: number) => peer!.send(frame(NIC_MAC, PEER_MAC, seed), port, '127.0.0.1');
  return { k: kernel, drv, atPeer, fromPeer };
}

const seeds = (fs: Buffer[]) => fs.map((f) => f.readUInt32BE(14));

// The driver's next poll (a kernel thread) faults, and that failure's teardown waits where holdTeardown holds it.
async function failHeld(k: Kernel, drv: Driver, fromPeer: (seed: number) => void, afterRelease: boolean): Promise<void> {
  const logged = logFromNow(k);
  holdTeardown(drv, { afterRelease });
  expect(drv.call('crash_poll')).toBe(0);
  fromPeer(1); // its interrupt schedules the poll
  await until(() => logged('e1000: test hold').length > 0, 'the teardown to wait at the hold', 5_000);
  expect(drv.state).toBe('failed');
}

// The interface works through `eth` again once the restarted driver has it: `sent` went out, in order; the
// peer's frame comes in.
async function worksAfterRestore(drv: Driver, eth: ReturnType<typeof openNet>, atPeer: Buffer[], sent: Buffer[], fromPeer: (seed: number) => void) {
  await until(() => drv.state === 'running' && eth.info().open, 'eth0 reopened by the restarted driver', 5_000);
  await until(() => atPeer.length >= sent.length, 'the frames sent during the recovery at the peer', 5_000);
  expect(seeds(atPeer)).toEqual(seeds(sent));
  const received: Buffer[] = [];
  eth.on('frames', (fs) => received.push(...fs));
  await until(() => eth.link, 'link up');
  fromPeer(77);
  await until(() => received.length > 0, 'a frame from the peer', 5_000);
  expect(seeds(received)).toEqual([77]);
}

it('an open while the failed driver\'s registration is still in place (its teardown not at its objects yet) succeeds; frames sent queue and go out after the restore', async () => {
  const { k, drv, atPeer, fromPeer } = await boot();
  const first = openNet(k, 'eth0');
  await until(() => first.link, 'link up');
  await failHeld(k, drv, fromPeer, false);
  first.close(); // the last handle: the interface is closed when the next open comes
  const eth = openNet(k, 'eth0'); // before: EDRIVERFAILED
  const sent = [frame(PEER_MAC, NIC_MAC, 10), frame(PEER_MAC, NIC_MAC, 11)];
  expect(eth.send(sent)).toBe(2);
  expect(eth.stats().kernel.txWaiting).toBe(2);
  releaseTeardown();
  await worksAfterRestore(drv, eth, atPeer, sent, fromPeer);
  expect(eth.stats().kernel.registrations).toBe(2);
});

it('an open beside a handle open at the failure, while the failed driver\'s registration is still in place, succeeds', async () => {
  const { k, drv, atPeer, fromPeer } = await boot();
  const first = openNet(k, 'eth0');
  await until(() => first.link, 'link up');
  await failHeld(k, drv, fromPeer, false);
  const eth = openNet(k, 'eth0');
  const sent = [frame(PEER_MAC, NIC_MAC, 20)];
  expect(eth.send(sent)).toBe(1);
  releaseTeardown();
  await worksAfterRestore(drv, eth, atPeer, sent, fromPeer);
  first.close();
  expect(eth.info().open).toBe(true); // the new handle is a user of its own
});

it('a configuration set while the failed driver\'s registration is still in place is recorded, and replayed by the restore', async () => {
  const { k, drv, atPeer, fromPeer } = await boot();
  const eth = openNet(k, 'eth0');
  await until(() => eth.link, 'link up');
  await failHeld(k, drv, fromPeer, false);
  eth.configure({ mtu: 1200 }); // before: EIO, 'the driver refused the configuration (error -19)'
  releaseTeardown();
  await worksAfterRestore(drv, eth, atPeer, [], fromPeer);
  expect(eth.info().mtu).toBe(1200);
});

it('an open once the teardown has parked the interface succeeds', async () => {
  const { k, drv, atPeer, fromPeer } = await boot();
  const first = openNet(k, 'eth0');
  await until(() => first.link, 'link up');
  await failHeld(k, drv, fromPeer, true);
  expect(first.info()).toMatchObject({ registered: false, restarting: true });
  first.close();
  const eth = openNet(k, 'eth0');
  const sent = [frame(PEER_MAC, NIC_MAC, 30)];
  expect(eth.send(sent)).toBe(1);
  releaseTeardown();
  await worksAfterRestore(drv, eth, atPeer, sent, fromPeer);
});

it('an open once the restarted driver has registered the interface, before the kernel reopened it, succeeds', async () => {
  const { k, drv, atPeer, fromPeer } = await boot();
  const first = openNet(k, 'eth0');
  await until(() => first.link, 'link up');
  let eth: ReturnType<typeof openNet> | undefined;
  const sent = [frame(PEER_MAC, NIC_MAC, 40)];
  k.once('recovered', () => {
    // the restart has returned: the registration is there, the reopen waits for the class's next turn
    expect(first.info()).toMatchObject({ registered: true, open: false });
    first.close();
    eth = openNet(k, 'eth0');
    eth.send(sent);
  });
  expect(drv.call('crash_poll')).toBe(0);
  fromPeer(1);
  await until(() => eth !== undefined, 'the recovery', 5_000);
  await worksAfterRestore(drv, eth!, atPeer, sent, fromPeer);
});

// The last handle closed in the same window: the interface stays closed. Before, the reopen went ahead for nobody
// ("eth0: configuration replayed and reopened", info() open with no handle). eth1, on a second NIC of the same
// driver and kept open, is the progress: its reopen is made in the same turn of the class as eth0's would be.
it('the last handle closed once the restarted driver has registered the interface, before the kernel reopened it: the interface stays closed', async () => {
  peer = await wirePartner([]);
  kernel = await Kernel.boot({ isolation: suiteIsolation });
  const dev = kernel.addDevice('e1000', { peer: `127.0.0.1:${peer.address().port}`, mac: NIC_MAC });
  kernel.addDevice('e1000', { mac: '52:54:00:aa:bb:02' });
  const drv = await kernel.load('e1000');
  const eth0 = openNet(kernel, 'eth0');
  openNet(kernel, 'eth1');
  await until(() => eth0.link, 'link up');
  const logged = logFromNow(kernel);
  kernel.once('recovered', () => {
    expect(eth0.info()).toMatchObject({ registered: true, open: false });
    eth0.close();
  });
  expect(drv.call('crash_poll')).toBe(0);
  peer.send(frame(NIC_MAC, PEER_MAC, 1), nicPortOf(dev.name), '127.0.0.1'); // its interrupt schedules the poll
  await until(() => logged('eth1: configuration replayed and reopened').length > 0, 'eth1 reopened by the restarted driver', 5_000);
  expect(logged('eth0: configuration replayed')).toEqual([]);
  expect(eth0.info()).toMatchObject({ registered: true, open: false });
});

it('an open in whose ndo_open the driver fails succeeds: the restore opens the interface', async () => {
  const { k, drv, atPeer, fromPeer } = await boot();
  applyFault(k, drv, planFault(driverPath('e1000'), { seed: 1, type: 'panic', fn: 'e1000_open' })); // transient: gone at the restart
  const eth = openNet(k, 'eth0'); // before: EDRIVERFAILED, 'open it again once it has restarted'
  const sent = [frame(PEER_MAC, NIC_MAC, 50)];
  expect(eth.send(sent)).toBe(1);
  await worksAfterRestore(drv, eth, atPeer, sent, fromPeer);
});

it('an open during a recovery the shadow then gives up: the handle is detached with the reason; an open after fails with ENODEV', async () => {
  const { k, drv, fromPeer } = await boot({ ...defaultPolicy.default, action: 'disable' });
  const first = openNet(k, 'eth0');
  await until(() => first.link, 'link up');
  await failHeld(k, drv, fromPeer, false);
  first.close();
  const eth = openNet(k, 'eth0');
  const detached = new Promise<NetError>((r) => eth.once('detached', r));
  releaseTeardown();
  const e = await detached;
  expect(e).toMatchObject({ code: 'EDRIVERFAILED', message: expect.stringMatching(/^eth0: the driver failed and will not be restarted: /) });
  expect(drv.state).toBe('disabled');
  expect(() => eth.send([frame(PEER_MAC, NIC_MAC, 60)])).toThrow(e);
  expect(() => openNet(k, 'eth0')).toThrow(expect.objectContaining({ code: 'ENODEV', message: e.message }));
});

// A replayed open the restarted driver refuses (its ndo_open returns an error) ends the handles it was for: they
// are detached with EIO, naming the error. Before, they stayed open on a closed interface: sends queued for ever
// and no event came.
it('an open recorded during a recovery whose replay the restarted driver refuses (ndo_open fails): the handle is detached with EIO', async () => {
  kernel = await Kernel.boot({ isolation: suiteIsolation, policy: { default: defaultPolicy.default, drivers: new Map() } });
  kernel.addDevice('e1000', { mac: NIC_MAC });
  const drv = await kernel.load(fixtureDriver('net-open-refused'), { params: { open_error: 98 } }); // EADDRINUSE, at every open
  let eth: ReturnType<typeof openNet> | undefined;
  kernel.once('recovering', () => {
    eth = openNet(kernel!, 'eth0'); // recorded with the interface the shadow keeps: no ndo_open yet
  });
  drv.recover();
  const detached: NetError[] = [];
  eth!.on('detached', (e) => detached.push(e));
  await until(() => detached.length > 0, 'eth0\'s handle to be detached', 5_000);
  expect(detached[0]).toMatchObject({ code: 'EIO', message: 'eth0: reopening after its driver restarted failed (ndo_open returned -98 (EADDRINUSE)); open it again' });
  expect(() => eth!.send([frame(PEER_MAC, NIC_MAC, 1)])).toThrow(detached[0]);
  expect(drv.state).toBe('running');
});
