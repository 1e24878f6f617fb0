// The libc-style e1000 driver (drivers/e1000-libc, unchanged) under nooks on a
// real PCI NIC (in the tests: QEMU's e1000, inside a guest), reached through
// UIO or VFIO: the device is bound to the stub driver and attached, the driver
// loaded with `devices` naming it, and it brings the NIC up through the POSIX
// personality's view: under UIO the sysfs way (config, resource0: the real
// BAR mapped into its domain, a hugetlbfs page of the domain's DMA memory,
// /proc/self/pagemap answering its physical address), under VFIO through
// /dev/vfio (the same page mapped into the device's IOMMU at the IOVA the
// driver chose). Numbered frames go to the link partner, which echoes
// each back (MAC addresses swapped); each batch's echoes are received before
// the next goes. After `--fault-after` frames a NULL dereference is injected
// into e1000l_tx_batch: trapped, the driver restarted (library-style: back to
// its freshly loaded state), opened again, and the rest of the frames go.
// One JSON line:
//
//   node dist/lib/guest/libc-nic.js --address 0000:00:03.0 --via uio|vfio [--isolation mprotect] [--frames 512] [--fault-after 256]
//
// Needs root (binding, UIO's physical addresses, VFIO's group).
import { DriverFault, Kernel, type Isolation } from '../kernel.js';
import { E1000l, numberedFrame } from '../apps/e1000l.js';
import { PARTNER_MAC, macString, parseMac } from '../apps/net-proto.js';
import { numberOption, runIfMain, type Program } from '../apps/program.js';
import { applyFault, planFault } from '../inject/index.js';
import { pciBind, type PciVia } from '../pci.js';

/** The link partner's MAC: the frames' destination. */
const partner = parseMac(PARTNER_MAC);
const BATCH = 32; // frames in flight: QEMU's socket wire drops what its buffers cannot hold
const ECHO_WAIT_MS = 10_000;

export const program: Program = {
  name: 'libc-nic',
  class: 'net',
  summary: 'the libc-style e1000 driver on a real PCI NIC (UIO or VFIO): frames to an echoing link partner across a driver failure',
  options: {
    address: '!PCI address', via: '!uio|vfio', isolation: 'mprotect|pkey|none (default mprotect; real devices are not supported under process)',
    frames: 'N (default 512)', 'fault-after': 'N: frames before the injected fault (default half of them)',
  },
  async run(o) {
    const address = o.address!;
    const via = o.via as PciVia;
    const isolation = (o.isolation ?? 'mprotect') as Isolation;
    const frames = numberOption(o, 'frames', 512);
    const faultAfter = Math.min(frames, numberOption(o, 'fault-after', Math.floor(frames / 2)));
    pciBind(address, via);
    const kernel = await Kernel.boot({ isolation });
    try {
      kernel.attachPci(address, { via });
      const drv = await kernel.load('e1000-libc', { devices: [address] });
      let nic = new E1000l(drv, address, BATCH);
      const mac = nic.mac();
      const echoed = new Set<number>();
      // frames from..to-1, a batch at a time, each batch's echoes received (and compared) before the next
      const exchange = async (from: number, to: number) => {
        for (let seq = from; seq < to; seq += BATCH) {
          const batch = Array.from({ length: Math.min(BATCH, to - seq) }, (_, k) => numberedFrame(mac, partner, seq + k));
          if (nic.send(batch) !== batch.length) throw new Error(`e1000l_tx_batch took fewer than ${batch.length} frames at ${seq}`);
          for (let got = 0, end = Date.now() + ECHO_WAIT_MS; got < batch.length && Date.now() < end; await new Promise(setImmediate)) {
            for (const f of nic.receive()) {
              const n = f.length >= 18 ? f.readUInt32BE(14) : -1;
              if (n < seq || n >= seq + batch.length || !f.equals(numberedFrame(partner, mac, n))) continue;
              echoed.add(n);
              got++;
            }
          }
        }
      };
      await exchange(0, faultAfter);
      // a bug in the transmit path (a NULL dereference at its entry), once faultAfter frames went out and came back
      applyFault(kernel, drv, planFault('e1000-libc', { seed: 1, type: 'null-deref', fn: 'e1000l_tx_batch', transient: true }));
      let fault = 'none';
      try {
        nic.send([numberedFrame(mac, partner, faultAfter)]);
      } catch (e) {
        if (!(e instanceof DriverFault)) throw e;
        fault = e.kind;
      }
      nic = new E1000l(drv, address, BATCH); // library-style: freshly loaded again, so opened again
      await exchange(faultAfter, frames);
      const recoveries = kernel.events().filter((e) => e.event === 'recovered').map((e) => e.durationMs ?? -1);
      const log = kernel.log();
      return {
        ok: echoed.size === frames && fault === 'segv' && recoveries.length === 1,
        app: 'libc-nic', via, isolation, address, frames, faultAfter,
        mac: macString(mac),
        link: nic.linkUp(), echoed: echoed.size, fault, recoveries, state: drv.state,
        stats: nic.stats(), // since the restart's open
        opened: log.filter((l) => l.text.startsWith(`e1000l: ${address}:`)).map((l) => l.text),
        viewDenied: log.filter((l) => l.event?.kind === 'view-denied').length,
        // UIO: the domain's DMA memory moved to hugepages, their physical addresses its bus addresses (what pagemap answers)
        dmaPhysical: log.find((l) => l.text.includes('DMA memory on'))?.text ?? null,
        deviceErrors: kernel.devices().find((d) => d.name === address)?.errors ?? -1,
      };
    } finally {
      await kernel.shutdown();
    }
  },
};

runIfMain(import.meta.url, program);
