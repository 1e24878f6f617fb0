// The net class end to end: the emulated e1000 (native/classes/net/
// e1000_model.cc) on a UDP wire whose other end is a socket in this test, its
// driver (drivers/e1000), the class's queues and batches, and the TS API
// (lib/classes/net.ts). Runs in the default isolation ('pkey' where it can
// run, else 'mprotect').
import type { Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPolicy, Kernel, nicCable, nicWire, openNet, NetError, type Driver, type NetInterface } from '../lib/index.js';
import { nicHangTx } from '../lib/testing.js';
import { frame, mac, nicPortOf, wirePartner } from './helpers/frames.js';
import { logEvents, streamsByProgress, suiteIsolation, until, untilProgress } from './helpers/util.js';

streamsByProgress();

const NIC_MAC = '52:54:00:aa:bb:01';
const PEER_MAC = '52:54:00:cc:dd:02';

describe('the net class and the emulated e1000', () => {
  let kernel: Kernel;
  let drv: Driver;
  let peer: Socket;
  let eth: NetInterface;
  const atPeer: Buffer[] = [];
  const received: Buffer[] = [];
  let nicPort = 0;

  const sendFromPeer = (frames: Buffer[]) => {
    for (const f of frames) peer.send(f, nicPort, '127.0.0.1');
  };

  beforeAll(async () => {
    peer = await wirePartner(atPeer);
    kernel = await Kernel.boot({
      isolation: suiteIsolation,
      policy: { default: { ...defaultPolicy.default, maxFailures: 5, timeBudgetMs: 2_000, memLimitBytes: 32 << 20 }, drivers: new Map() },
    });
    const dev = kernel.addDevice('e1000', { peer: `127.0.0.1:${peer.address().port}`, mac: NIC_MAC });
    expect(dev).toMatchObject({ kind: 'e1000', vendor: 0x8086, device: 0x100e, driver: null });
    const wire = nicWire(dev.name)!;
    nicPort = nicPortOf(dev.name);
    expect(wire.peer).toBe(`127.0.0.1:${peer.address().port}`);
    expect(() => openNet(kernel, 'eth0')).toThrow(NetError);
    drv = await kernel.load('e1000');
    eth = openNet(kernel, 'eth0');
    eth.on('frames', (fs) => received.push(...fs));
  });
  afterAll(async () => {
    eth?.close();
    await kernel?.shutdown();
    peer?.close();
  });

  it('probes the NIC: MAC from the EEPROM, an interface with its objects, link up', async () => {
    expect(drv.call('bound')).toBe(1);
    expect(eth.info()).toMatchObject({ name: 'eth0', device: 'e10000', registered: true, open: true, mac: NIC_MAC, permanentMac: NIC_MAC, mtu: 1500 });
    const types = drv.objects().map((o) => o.type);
    expect(types).toEqual(expect.arrayContaining(['netdev', 'irq', 'iomap', 'pci_dev', 'work', 'dma']));
    await until(() => eth.link, 'link up');
    expect(nicWire('e10000')!.link).toBe(true);
  });

  it('sends a batch of frames: they reach the UDP peer with the right bytes, in order', async () => {
    const frames = Array.from({ length: 200 }, (_, i) => frame(PEER_MAC, NIC_MAC, i, 60 + (i % 50) * 20));
    atPeer.length = 0;
    expect(eth.send(frames)).toBe(200);
    await until(() => atPeer.length >= 200, '200 frames at the peer');
    expect(atPeer.length).toBe(200);
    for (let i = 0; i < 200; i++) expect(atPeer[i].equals(frames[i])).toBe(true);
    // short frames are padded to the Ethernet minimum (60 bytes) by the NIC
    atPeer.length = 0;
    eth.send([frame(PEER_MAC, NIC_MAC, 7, 10)]);
    await until(() => atPeer.length === 1, 'the short frame');
    expect(atPeer[0].length).toBe(60);
    expect(atPeer[0].subarray(0, 24).equals(frame(PEER_MAC, NIC_MAC, 7, 10))).toBe(true);
  });

  it('receives frames the peer sends, delivered in batches; filters by destination', async () => {
    received.length = 0;
    const frames = Array.from({ length: 300 }, (_, i) => frame(NIC_MAC, PEER_MAC, 1000 + i, 200));
    sendFromPeer(frames);
    await untilProgress(() => received.length >= 300, () => received.length, '300 frames received');
    for (let i = 0; i < 300; i++) expect(received[i].equals(frames[i])).toBe(true);
    // broadcast is accepted; another station's unicast and an unsubscribed multicast are not
    received.length = 0;
    // a last broadcast behind them: frames arrive in order, so one let through would come before it
    sendFromPeer([frame('52:54:00:00:00:99', PEER_MAC, 1), frame('01:00:5e:00:00:01', PEER_MAC, 2), frame('ff:ff:ff:ff:ff:ff', PEER_MAC, 3), frame('ff:ff:ff:ff:ff:ff', PEER_MAC, 4)]);
    await until(() => received.length >= 2, 'the broadcasts');
    expect(received.map((f) => f.readUInt32BE(14))).toEqual([3, 4]);
  });

  it('multicast list and promiscuous mode program the NIC\'s filters', async () => {
    eth.configure({ multicast: ['01:00:5e:00:00:01'] });
    received.length = 0;
    sendFromPeer([frame('01:00:5e:00:00:01', PEER_MAC, 10), frame('01:00:5e:00:00:02', PEER_MAC, 11), frame('52:54:00:00:00:99', PEER_MAC, 12), frame('ff:ff:ff:ff:ff:ff', PEER_MAC, 14)]);
    await until(() => received.length >= 2, 'the subscribed multicast and the last broadcast');
    expect(received.map((f) => f.readUInt32BE(14))).toEqual([10, 14]);
    eth.configure({ promiscuous: true });
    received.length = 0;
    sendFromPeer([frame('52:54:00:00:00:99', PEER_MAC, 13)]);
    await until(() => received.length >= 1, 'another station\'s frame, promiscuous');
    eth.configure({ promiscuous: false, multicast: [] });
  });

  it('echoes: frames sent to the peer come back through the NIC', async () => {
    const echo = (m: Buffer) => {
      const back = Buffer.from(m);
      m.copy(back, 0, 6, 12); // to the sender
      mac(PEER_MAC).copy(back, 6);
      peer.send(back, nicPort, '127.0.0.1');
    };
    peer.on('message', echo);
    try {
      received.length = 0;
      const frames = Array.from({ length: 100 }, (_, i) => frame(PEER_MAC, NIC_MAC, 5000 + i, 500));
      eth.send(frames);
      await untilProgress(() => received.length >= 100, () => received.length, '100 echoed frames');
      for (let i = 0; i < 100; i++) expect(received[i].subarray(12).equals(frames[i].subarray(12))).toBe(true);
    } finally {
      peer.off('message', echo);
    }
  });

  it('counts frames in the driver, the device (GPRC/GPTC) and the class', async () => {
    const s = eth.stats();
    expect(s.driver!.txPackets).toBeGreaterThanOrEqual(301);
    expect(s.driver!.rxPackets).toBeGreaterThanOrEqual(405); // 300 + 2 broadcasts + multicast and broadcast + promiscuous + 100 echoes
    expect(s.driver!.hwTxGood).toBe(s.driver!.txPackets);
    expect(s.driver!.hwRxGood).toBe(s.driver!.rxPackets);
    expect(s.driver!.txBytes).toBeGreaterThan(0);
    expect(s.kernel.rxDelivered).toBe(s.driver!.rxPackets);
    expect(s.kernel.txQueued).toBe(s.driver!.txPackets);
    expect(s.kernel.txWaiting).toBe(0);
  });

  it('reports link changes when the cable is pulled and plugged back', async () => {
    const changes: boolean[] = [];
    eth.on('link', (up) => changes.push(up));
    expect(nicCable('e10000', false)).toBe(true);
    await until(() => !eth.link, 'link down');
    expect(nicCable('e10000', true)).toBe(true);
    await until(() => eth.link, 'link up again');
    await until(() => changes.length >= 2, 'two link events');
    expect(changes).toEqual([false, true]);
  });

  it('changes the MTU: jumbo frames go out and come in', async () => {
    eth.configure({ mtu: 9000 });
    expect(eth.info().mtu).toBe(9000);
    atPeer.length = 0;
    received.length = 0;
    const big = frame(PEER_MAC, NIC_MAC, 77, 9000);
    eth.send([big]);
    await until(() => atPeer.length === 1, 'the jumbo frame at the peer');
    expect(atPeer[0].equals(big)).toBe(true);
    const bigIn = frame(NIC_MAC, PEER_MAC, 78, 9000);
    sendFromPeer([bigIn]);
    await until(() => received.length === 1, 'the jumbo frame received');
    expect(received[0].equals(bigIn)).toBe(true);
    expect(() => eth.send([Buffer.alloc(9100)])).toThrow(NetError);
    eth.configure({ mtu: 1500 });
  });

  it('a wild DMA address in a transmit descriptor is a device error, not a write; the NIC stays usable', async () => {
    const before = kernel.devices().find((d) => d.name === 'e10000')!.errors;
    expect(drv.call('wild_tx', 0x1234_0000)).toBe(0);
    expect(kernel.devices().find((d) => d.name === 'e10000')!.errors).toBe(before + 1);
    expect(logEvents(kernel, 'device-error')).toContainEqual({ kind: 'device-error', device: 'e10000', dma: 'read', bytes: 64, address: '0x12340000' });
    atPeer.length = 0;
    eth.send([frame(PEER_MAC, NIC_MAC, 9)]);
    await until(() => atPeer.length === 1, 'a frame after the wild descriptor');
  });

  it('a hung transmitter: the watchdog calls ndo_tx_timeout, the driver resets it, frames go out again', async () => {
    eth.configure({ txTimeoutMs: 200 });
    expect(nicHangTx('e10000')).toBe(true);
    atPeer.length = 0;
    eth.send(Array.from({ length: 5 }, (_, i) => frame(PEER_MAC, NIC_MAC, 300 + i)));
    await until(() => eth.stats().driver!.txTimeouts === 1, 'the transmit timeout', 3_000);
    expect(atPeer.length).toBe(0); // none left the hung transmitter
    expect(eth.stats().driver!.txDropped).toBe(5); // what the hung transmitter held, dropped by the reset
    eth.send([frame(PEER_MAC, NIC_MAC, 310)]);
    await until(() => atPeer.length >= 1, 'a frame after the reset');
    expect(atPeer[atPeer.length - 1].readUInt32BE(14)).toBe(310);
    eth.configure({ txTimeoutMs: 0 });
  });

  it('recovers: after drv.recover() the same handle sends and receives again, with its configuration replayed', async () => {
    eth.configure({ multicast: ['01:00:5e:00:00:07'] });
    drv.recover();
    expect(drv.state).toBe('running');
    // sent before the kernel has reopened the interface: they wait in the kernel, then go out
    atPeer.length = 0;
    const frames = Array.from({ length: 50 }, (_, i) => frame(PEER_MAC, NIC_MAC, 9000 + i));
    expect(eth.send(frames)).toBe(50);
    expect(eth.stats().kernel.txWaiting).toBe(50);
    await until(() => eth.info().open, 'eth0 reopened by the kernel');
    expect(eth.stats().kernel.registrations).toBe(2);
    await until(() => eth.link, 'link up after recovery');
    await until(() => atPeer.length >= 50, 'frames after recovery');
    expect(atPeer.every((f, i) => f.equals(frames[i]))).toBe(true);
    received.length = 0;
    sendFromPeer([frame(NIC_MAC, PEER_MAC, 1), frame('01:00:5e:00:00:07', PEER_MAC, 2)]);
    await until(() => received.length >= 2, 'frames received after recovery');
    expect(received.map((f) => f.readUInt32BE(14))).toEqual([1, 2]);
  });

  it('a driver fault in a call is contained; the interface comes back', async () => {
    expect(() => drv.call('crash')).toThrow();
    expect(drv.state).toBe('running');
    await until(() => eth.info().open, 'eth0 reopened');
    atPeer.length = 0;
    eth.send([frame(PEER_MAC, NIC_MAC, 42)]);
    await until(() => atPeer.length === 1, 'a frame after the fault');
  });

  it('a fault in the driver\'s poll (a kernel thread, on the receive path) is trapped; driver and interface come back', async () => {
    const recovered = new Promise((r) => kernel.once('recovered', r));
    expect(drv.call('crash_poll')).toBe(0);
    sendFromPeer([frame(NIC_MAC, PEER_MAC, 1)]);
    await recovered;
    expect(drv.state).toBe('running');
    await until(() => eth.info().open && eth.link, 'eth0 reopened');
    received.length = 0;
    sendFromPeer([frame(NIC_MAC, PEER_MAC, 2)]);
    await until(() => received.length >= 1, 'a frame after the recovery');
    expect(received[0].readUInt32BE(14)).toBe(2);
    expect(eth.stats().kernel.registrations).toBe(4);
  });

  // The shadow parks the interface: what waits in the kernel when the driver fails goes to the restarted
  // driver, in order; what the driver held (in flight) is lost, and counted.
  const seeds = (fs: Buffer[]) => fs.map((f) => f.readUInt32BE(14));
  const marked = async (what: string) => {
    eth.send([frame(PEER_MAC, NIC_MAC, 99_999)]); // first in, first out: all before it are through
    await until(() => atPeer.some((f) => f.readUInt32BE(14) === 99_999), what);
    return seeds(atPeer.filter((f) => f.readUInt32BE(14) !== 99_999));
  };

  it('frames waiting in the kernel when the driver fails go out through the restarted driver; those it held are lost', async () => {
    eth.close();
    drv.unload();
    drv = await kernel.load('e1000', { name: 'e1000-parked' }); // shadowed; its failures counted apart (the policy's window)
    eth = openNet(kernel, 'eth0');
    await until(() => eth.link, 'link up');
    expect(nicHangTx('e10000')).toBe(true); // the NIC sends nothing: the driver keeps what it takes
    atPeer.length = 0;
    const lostBefore = eth.stats().kernel.txLost;
    const frames = Array.from({ length: 600 }, (_, i) => frame(PEER_MAC, NIC_MAC, 1000 + i));
    expect(eth.send(frames)).toBe(600);
    const waiting = eth.stats().kernel.txWaiting;
    expect(waiting).toBeGreaterThan(0); // the driver's ring is full
    expect(eth.stats().kernel.txHeld).toBe(600 - waiting); // and it gives nothing back: the NIC sends nothing
    expect(() => drv.call('crash')).toThrow();
    expect(await marked('the waiting frames after the restart')).toEqual(seeds(frames.slice(600 - waiting)));
    expect(eth.stats().kernel.txLost - lostBefore).toBe(600 - waiting);
  });

  it('a fault in the middle of a transmit batch: the frames after it were never the driver\'s, and go out after the restart', async () => {
    atPeer.length = 0;
    // the frames of the last test are out, but the driver gives their buffers back only at its next interrupt
    await until(() => eth.stats().kernel.txHeld === 0, 'the driver holds no frame');
    const lostBefore = eth.stats().kernel.txLost;
    expect(drv.call('crash_xmit', 5)).toBe(0); // the 5th frame handed to the driver faults it
    const recovered = new Promise((r) => kernel.once('recovered', r));
    const frames = Array.from({ length: 20 }, (_, i) => frame(PEER_MAC, NIC_MAC, 2000 + i));
    expect(eth.send(frames)).toBe(20); // one batch: the first 4 in the ring (no doorbell yet), the 5th faults
    await recovered;
    expect(await marked('the rest of the batch after the restart')).toEqual(seeds(frames.slice(5)));
    expect(eth.stats().kernel.txLost - lostBefore).toBe(5);
  });

  it('without a shadow (plain Nooks) a recovery resets the interface: the handle is detached, a new one works', async () => {
    eth.close();
    drv.unload();
    drv = await kernel.load('e1000', { shadow: false });
    const plain = openNet(kernel, 'eth0');
    plain.configure({ mtu: 1200 });
    const detached = new Promise<NetError>((r) => plain.once('detached', r));
    drv.recover();
    const e = await detached;
    expect(e).toMatchObject({ code: 'EDRIVERFAILED', message: expect.stringMatching(/^eth0: .*\be1000\b/) }); // the interface and its driver
    expect(() => plain.send([frame(PEER_MAC, NIC_MAC, 1)])).toThrow(e);
    expect(plain.info()).toMatchObject({ open: false, mtu: 1500 }); // its configuration went with it
    eth = openNet(kernel, 'eth0');
    await until(() => eth.link, 'link up');
    atPeer.length = 0;
    eth.send([frame(PEER_MAC, NIC_MAC, 77)]);
    await until(() => atPeer.length === 1, 'a frame through the new handle');
  });

  it('a shadowed interface whose driver the agent gives up on is detached with the reason', async () => {
    eth.close();
    drv.unload();
    drv = await kernel.load('e1000'); // shadowed: the policy's default
    eth = openNet(kernel, 'eth0');
    const detached = new Promise<NetError>((r) => eth.once('detached', r));
    for (let i = 0; i < 5 && drv.state !== 'disabled'; i++) drv.recover(); // the policy gives up at the 5th failure
    expect(drv.state).toBe('disabled');
    expect(await detached).toMatchObject({
      code: 'EDRIVERFAILED', message: expect.stringMatching(/^eth0: the driver failed and will not be restarted: e1000 failed 5 times within 60000 ms/),
    });
  });
});
