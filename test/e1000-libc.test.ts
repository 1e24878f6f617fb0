// The libc-style e1000 driver (drivers/e1000-libc, plain C against libc: no
// nooks header) under nooks, unchanged: built with the POSIX personality,
// loaded with the load option `devices` naming the emulated e1000, called as
// the library it is (e1000l_open, e1000l_tx_batch, e1000l_rx_batch,
// e1000l_stats). It finds the NIC the userspace way (sysfs config and
// resource0, a hugetlbfs page and /proc/self/pagemap: the personality's view),
// its register accesses trapped and emulated on the model. Frames reach the
// link partner (a UDP socket here) and come back through its receive ring; a
// fault injected after k frames is trapped, the driver restarted (back to its
// freshly loaded state: the caller opens the NIC again) and traffic resumes;
// a path outside its devices is EACCES, and its exit() on that error a
// contained failure. Faults are contained in every mode but 'none', where a
// fault or exit() ends the process, as without nooks. And `nooks bench net`
// measures it beside the kapi e1000.
import type { Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriverFault, Kernel, type Driver } from '../lib/index.js';
import { nicPortOf, wirePartner } from './helpers/frames.js';
import { E1000l, numberedFrame } from '../lib/apps/e1000l.js';
import { benchClass } from '../lib/bench/classes.js';
import { applyFault, planFault } from '../lib/inject/index.js';
import { bootableIsolations, faultOf, logEvents, recoveries, until } from './helpers/util.js';

const BATCH = 32;
const PEER_MAC = Buffer.from([0x52, 0x54, 0x00, 0xcc, 0xdd, 0x02]);

// pkey where the CPU has protection keys (test/guest-pkey.test.ts runs this file in a QEMU guest that has them)
describe.each(bootableIsolations)("the libc-style e1000 driver under '%s'", (isolation) => {
  const contained = isolation !== 'none';
  let kernel: Kernel;
  let drv: Driver;
  let peer: Socket;
  let address = '';
  let nicPort = 0;
  let mac: Buffer = Buffer.alloc(6);
  const atPeer: Buffer[] = [];
  // the driver's state, as its caller holds it: made again after a restart
  let nic: E1000l;

  /** What a caller does to start, and again after a recovery (the driver is back to its freshly loaded state). */
  const open = () => {
    nic = new E1000l(drv, address, BATCH);
  };
  /** Sends frames seq..seq+n-1 in one batch (at most BATCH); returns how many the driver took. */
  const sendBatch = (seq: number, n: number) => nic.send(Array.from({ length: n }, (_, k) => numberedFrame(mac, PEER_MAC, seq + k)));
  /** Sends frames seq..seq+n-1 batch by batch, each once the partner has the one before (its socket buffer is small in a guest). */
  const send = async (seq: number, n: number) => {
    const base = atPeer.length;
    for (let i = 0; i < n; i += BATCH) {
      expect(sendBatch(seq + i, Math.min(BATCH, n - i))).toBe(Math.min(BATCH, n - i));
      await until(() => atPeer.length >= base + Math.min(i + BATCH, n), `frames up to ${seq + i + BATCH} at the partner`);
    }
  };

  beforeAll(async () => {
    peer = await wirePartner(atPeer);
    kernel = await Kernel.boot({ isolation });
    const dev = kernel.addDevice('e1000', { peer: `127.0.0.1:${peer.address().port}` });
    address = dev.address;
    nicPort = nicPortOf(dev.name);
    drv = await kernel.load('e1000-libc', { devices: [address] });
    open();
  });
  afterAll(async () => {
    await kernel?.shutdown();
    peer?.close();
  });

  it('brings the NIC up the userspace way: sysfs, resource0, a hugepage and pagemap; MAC from RAL0/RAH0, link up', () => {
    mac = nic.mac();
    expect(mac.subarray(0, 5)).toEqual(Buffer.from([0x52, 0x54, 0x00, 0x12, 0x34])); // the model's default, from its EEPROM
    const text = [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
    expect(kernel.log().map((l) => l.text)).toContain(`e1000l: ${address}: ${text}, link up, sysfs`);
    expect(nic.linkUp()).toBe(true);
    expect(logEvents(kernel, 'view-denied')).toEqual([]); // everything it opened was in its view (driver/unbind included)
  });

  it('sends batches of frames that reach the partner intact; receives what the partner sends; the NIC\'s counters agree', async () => {
    atPeer.length = 0;
    await send(0, 320);
    expect(atPeer.length).toBe(320);
    atPeer.forEach((f, i) => expect(f.equals(numberedFrame(mac, PEER_MAC, i))).toBe(true));
    const incoming = Array.from({ length: 50 }, (_, i) => numberedFrame(PEER_MAC, mac, 1000 + i));
    incoming.forEach((f) => peer.send(f, nicPort, '127.0.0.1'));
    const got: Buffer[] = [];
    await until(() => (got.push(...nic.receive()), got.length >= 50), '50 frames received');
    expect(got).toEqual(incoming);
    const octets = (fs: Buffer[]) => fs.reduce((n, f) => n + f.length + 4, 0);
    expect(nic.stats()).toEqual({ rxFrames: 50, rxBytes: octets(incoming), txFrames: 320, txBytes: octets(atPeer), rxMissed: 0 });
  });

  // Under 'none' a fault or exit() ends the process, as without nooks: these
  // exist only where faults are contained (isolation-none.test.ts shows 'none').
  if (contained) {
    it('a fault injected after k frames is trapped; the driver restarts, is opened again, and traffic resumes', async () => {
      atPeer.length = 0;
      const k = 96;
      await send(0, k);
      // a bug in the transmit path (a NULL dereference at its entry), once k frames went out
      applyFault(kernel, drv, planFault('e1000-libc', { seed: 1, type: 'null-deref', fn: 'e1000l_tx_batch', transient: true }));
      const fault = faultOf(() => sendBatch(k, BATCH));
      expect(fault.kind).toBe('segv');
      expect(drv.state).toBe('running');
      expect(recoveries(kernel)).toBe(1);
      // library-style: its data is as loaded, its device reset; the caller opens it again
      open();
      await send(k, 64);
      expect(atPeer.map((f) => f.readUInt32BE(14))).toEqual(Array.from({ length: k + 64 }, (_, i) => i));
      expect(nic.stats()).toMatchObject({ txFrames: 64 }); // counted by the NIC since the restart's reset
    });

    it('a path outside its devices is EACCES (logged), and the driver\'s exit() on that error a contained failure', async () => {
      const other = '0000:00:1f.0';
      const fault = faultOf(() => drv.call('e1000l_open', drv.cstring(other)));
      expect(fault).toBeInstanceOf(DriverFault);
      expect(fault.kind).toBe('exit');
      expect(fault.message).toContain('exit(1)');
      // the driver saw EACCES (its own message, with strerror's text), the kernel logged what it refused
      expect(kernel.log().map((l) => l.text)).toContain(`e1000l: cannot open /sys/bus/pci/devices/${other}/config: Permission denied`);
      expect(logEvents(kernel, 'view-denied')).toContainEqual(
        expect.objectContaining({ driver: 'e1000-libc', op: 'open', path: `/sys/bus/pci/devices/${other}/config` }));
      expect(drv.state).toBe('running'); // restarted by its policy
      open(); // and usable again
      await send(5000, 1);
    });
  }
});

describe('nooks bench net', () => {
  it('measures the libc-style driver beside the kapi e1000, per isolation mode (the shape, not speed)', async () => {
    const results = await benchClass('net', { seconds: 0.2, modes: ['none', 'mprotect'] });
    expect(results.map((r) => r.workload)).toEqual(['net-send', 'net-send-libc']);
    const libc = results[1];
    expect(libc.modes.map((m) => m.isolation)).toEqual(['none', 'mprotect']);
    for (const m of libc.modes) {
      if (!m.supported) throw new Error(`${m.isolation}: ${m.reason}`);
      expect(m).toMatchObject({ unit: 'frames/s' });
      expect(m.throughput).toBeGreaterThan(0);
      expect(m.crossingsPerSec).toBeGreaterThan(0); // the e1000-libc domain's: its calls from JavaScript
    }
    expect(libc.modes[0]).toMatchObject({ relative: 1 });
  }, 30_000);
});
