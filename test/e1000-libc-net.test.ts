// The libc-style e1000 driver under the net class: e1000-libc-net is the
// library (drivers/e1000-libc/e1000l.c, libc only) with its adapter
// (netdev.c), whose module_init opens the NIC it holds by the load option
// `devices` (pci_get_held gives it the pci_dev) and registers eth0. The net
// applications run over it; net-transfer completes verified across three
// failures of the library itself (a NULL dereference written into
// e1000l_rx_batch once a random number of data frames has reached the
// partner), each recovered by running module_init again while the shadow
// keeps eth0. Faults are contained in every mode but 'none', where only
// traffic is tested.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiveFile } from '../lib/apps/net-peer.js';
import { sendFile } from '../lib/apps/net-transfer.js';
import { Kernel, openNet, type Driver, type Isolation, type NetInterface } from '../lib/index.js';
import { applyFault, planFault } from '../lib/inject/index.js';
import { frame, nicPortOf, wirePartner } from './helpers/frames.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { transferAcrossFaults } from './helpers/transfer-faults.js';
import { recoveries, until } from './helpers/util.js';

const NIC_MAC = '52:54:00:aa:bb:01';
const PEER_MAC = '52:54:00:cc:dd:02';
const TRANSFER_MS = 90_000;

describe.each(['none', 'mprotect', 'process'] as Isolation[])("eth0 over the libc-style e1000 driver under '%s'", (isolation) => {
  const contained = isolation !== 'none';
  let kernel: Kernel;
  let drv: Driver;
  let peer: Socket;
  let eth: NetInterface;
  let nicPort = 0;
  const atPeer: Buffer[] = [];
  const received: Buffer[] = [];

  beforeAll(async () => {
    peer = await wirePartner(atPeer);
    kernel = await Kernel.boot({ isolation });
    const dev = kernel.addDevice('e1000', { peer: `127.0.0.1:${peer.address().port}`, mac: NIC_MAC });
    nicPort = nicPortOf(dev.name);
    drv = await kernel.load('e1000-libc-net', { devices: [dev.address] }); // no env NIC: its only device
    eth = openNet(kernel, 'eth0');
    eth.on('frames', (fs) => received.push(...fs));
  });
  afterAll(async () => {
    eth?.close();
    await kernel?.shutdown();
    peer?.close();
  });

  it('registers eth0 for the device it holds: the pci_dev from pci_get_held, MAC from the NIC, link up', async () => {
    expect(eth.info()).toMatchObject({ name: 'eth0', device: 'e10000', registered: true, open: true, mac: NIC_MAC, mtu: 1500 });
    expect(drv.objects().map((o) => o.type)).toEqual(expect.arrayContaining(['netdev', 'pci_dev', 'device', 'timer', 'hugepage']));
    await until(() => eth.link, 'link up');
  });

  it('sends frames that reach the partner intact and in order; passes up what the partner sends; counters agree', async () => {
    atPeer.length = 0;
    const out = Array.from({ length: 300 }, (_, i) => frame(PEER_MAC, NIC_MAC, i, 60 + (i % 50) * 28));
    expect(eth.send(out)).toBe(300);
    await until(() => atPeer.length >= 300, '300 frames at the partner');
    atPeer.forEach((f, i) => expect(f.equals(out[i])).toBe(true));
    received.length = 0;
    const incoming = Array.from({ length: 100 }, (_, i) => frame(NIC_MAC, PEER_MAC, 1000 + i, 200));
    incoming.forEach((f) => peer.send(f, nicPort, '127.0.0.1'));
    await until(() => received.length >= 100, '100 frames received');
    expect(received).toEqual(incoming);
    const st = eth.stats().driver!;
    expect(st).toMatchObject({ txPackets: 300, rxPackets: 100, hwTxGood: 300, hwRxGood: 100, rxMissed: 0 });
  });

  it('carries net-transfer: 1 MiB intact, the partner checks every frame and the SHA-256', async () => {
    const data = randomBytes(1 << 20);
    const [sent, got] = await Promise.all([sendFile(eth, data, { peerMac: PEER_MAC, timeoutMs: TRANSFER_MS }), receiveFile(peer, { mac: PEER_MAC })]);
    expect(sent).toMatchObject({ ok: true, interface: 'eth0', bytes: 1 << 20, frames: 749 });
    expect(sent.peerSha256).toBe(sent.sha256);
    expect(got).toMatchObject({ ok: true, bytes: 1 << 20, badCrc: 0 });
    expect(got.data.equals(data)).toBe(true);
  }, TRANSFER_MS + 10_000);

  it.skipIf(!contained)('completes net-transfer verified across three failures of the library (the shadow keeps eth0)', async () => {
    const before = recoveries(kernel);
    const faultsBefore = kernel.events().filter((e) => e.event === 'fault').length;
    const registrations = eth.stats().kernel.registrations;
    // a bug in the library's receive path: its next poll (on the timer thread) dereferences NULL;
    // written into its text once a random number of data frames reached the partner, again after each recovery
    const bug = planFault('e1000-libc-net', { seed: 1, type: 'null-deref', fn: 'e1000l_rx_batch', transient: true });
    const { data, sent, got, faults } = await transferAcrossFaults(kernel, eth, peer, {
      peerMac: PEER_MAC, bytes: 2 << 20, timeoutMs: TRANSFER_MS, arm: () => applyFault(kernel, drv, bug), // 1498 frames
    });
    expect(sent, faults.describe()).toMatchObject({ ok: true });
    expect(got.data.equals(data)).toBe(true);
    expect(recoveries(kernel) - before, faults.describe()).toBe(3);
    const failures = kernel.events().filter((e) => e.event === 'fault').slice(faultsBefore).filter((e) => e.fault?.kind !== 'recovery-failed' && e.fault?.primary);
    expect(failures.map((e) => e.fault?.kind), faults.describe()).toEqual(['segv', 'segv', 'segv']);
    // restarted by running module_init: eth0 registered again each time, the same interface for the application
    expect(eth.stats().kernel.registrations - registrations).toBe(3);
    expect(eth.info()).toMatchObject({ name: 'eth0', registered: true, open: true, mac: NIC_MAC });
    // what the failures lost was sent again, and nothing else
    expect(sent.retransmissions, faults.describe()).toBe(sent.framesSent - got.framesArrived);
  }, TRANSFER_MS + 10_000);
});

describe('choosing the NIC among the devices held', () => {
  const kernel = kernelPerBlock({ isolation: 'mprotect' });

  it('takes the one the load option env names (NIC), else the first held; one not held fails module_init; none held: idle', async () => {
    const a = kernel().addDevice('e1000', { peer: '127.0.0.1:9' });
    const b = kernel().addDevice('e1000', { peer: '127.0.0.1:9', mac: NIC_MAC });
    const registrations = () => kernel().log().map((l) => l.text).filter((t) => / registered for .* by e1000-libc-net/.test(t));
    const elsewhere = '0000:00:1f.0';
    await expect(kernel().load('e1000-libc-net', { devices: [a.address, b.address], env: { NIC: elsewhere } })).rejects.toMatchObject({ code: 'EINITFAILED' });
    expect(kernel().log().map((l) => l.text)).toContain(`e1000l-net: NIC ${elsewhere} is not a device the driver holds (load option devices)`);
    const idle = await kernel().load('e1000-libc-net');
    expect(kernel().log().map((l) => l.text)).toContain('e1000l-net: no device held (load option devices): nothing to drive');
    expect(idle.objects().map((o) => o.type)).not.toContain('netdev');
    idle.unload();
    const named = await kernel().load('e1000-libc-net', { devices: [a.address, b.address], env: { NIC: b.address } });
    expect(registrations()).toEqual([expect.stringMatching(new RegExp(`^net: eth\\d+: registered for ${b.name} by e1000-libc-net, MAC ${NIC_MAC}`))]);
    named.unload();
    await kernel().load('e1000-libc-net', { devices: [b.address, a.address] });
    expect(registrations()).toHaveLength(2);
    expect(registrations()[1]).toMatch(new RegExp(`^net: eth\\d+: registered for ${b.name} by e1000-libc-net`)); // the first named
  });
});
