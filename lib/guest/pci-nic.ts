// The e1000 driver on a real PCI NIC (in the tests: QEMU's e1000, inside a
// guest), reached through UIO or VFIO and isolated: the device is bound to
// the stub driver, put on the kernel's bus, and a file goes to the link
// partner (lib/apps/net-peer.ts, on the other end of the wire) with
// checksums while the driver fails `--faults` times mid-stream; the shadow
// driver keeps eth0 and the transfer goes on. One JSON line:
//
//   node dist/lib/guest/pci-nic.js --address 0000:00:03.0 --via uio|vfio [--isolation mprotect] [--bytes 262144] [--faults 1] [--wild-dma ADDRESS]
//
// Needs root (binding, UIO's physical addresses, VFIO's group).
import { randomBytes } from 'node:crypto';
import { Kernel, type Isolation } from '../kernel.js';
import { openNet } from '../classes/net.js';
import { PARTNER_MAC } from '../apps/net-proto.js';
import { sendFile } from '../apps/net-transfer.js';
import { numberOption, runIfMain, type Program } from '../apps/program.js';
import { pciBind, type PciVia } from '../pci.js';

/** Boots a kernel with the device bound, attached and driven by an isolated e1000; `body` runs with eth0 open. */
export async function withPciNic<T>(address: string, via: PciVia, isolation: Isolation, body: (k: Kernel, eth: ReturnType<typeof openNet>) => Promise<T>): Promise<T> {
  pciBind(address, via);
  const kernel = await Kernel.boot({ isolation });
  try {
    kernel.attachPci(address, { via });
    const drv = await kernel.load('e1000');
    if (!drv.call('bound')) throw Object.assign(new Error(`e1000 did not bind to ${address}: ${kernel.log().slice(-5).map((l) => l.text).join(' | ')}`), { code: 'ENODEV' });
    const eth = openNet(kernel, 'eth0');
    for (const end = Date.now() + 5000; !eth.link && Date.now() < end;) await new Promise((r) => setTimeout(r, 10));
    try {
      return await body(kernel, eth);
    } finally {
      eth.close();
    }
  } finally {
    await kernel.shutdown();
  }
}

export const program: Program = {
  name: 'pci-nic',
  class: 'net',
  summary: 'a checksummed file transfer through the e1000 driver on a real PCI NIC (UIO or VFIO) while the driver fails',
  options: {
    address: '!PCI address', via: '!uio|vfio', isolation: 'mprotect|pkey|none (default mprotect)',
    bytes: 'N (default 262144)', faults: 'N: driver failures mid-stream (default 1)', 'peer-mac': `MAC (default ${PARTNER_MAC})`,
    'timeout-ms': 'MS (default 60000)',
    'wild-dma': 'ADDRESS: afterwards, a transmit descriptor pointing there, outside the driver\'s DMA memory (a driver bug)',
  },
  async run(o) {
    const via = o.via as PciVia;
    const isolation = (o.isolation ?? 'mprotect') as Isolation;
    const faults = numberOption(o, 'faults', 1);
    return withPciNic(o.address!, via, isolation, async (kernel, eth) => {
      const drv = kernel.driver('e1000')!;
      // crash_poll: the driver's next receive poll (an acknowledgement arriving) dereferences NULL;
      // armed once the transfer runs, and again after each recovery
      let armed = 0;
      const arm = () => void (armed++ < faults && setTimeout(() => drv.state === 'running' && drv.call('crash_poll'), 150));
      kernel.on('recovered', arm);
      arm();
      const sent = await sendFile(eth, randomBytes(numberOption(o, 'bytes', 256 << 10)), {
        peerMac: o['peer-mac'], timeoutMs: numberOption(o, 'timeout-ms', 60_000), retransmitMs: 300,
      });
      kernel.off('recovered', arm);
      if (o['wild-dma'] !== undefined) {
        drv.call('wild_tx', BigInt(o['wild-dma']));
        await new Promise((r) => setTimeout(r, 500)); // the device has fetched it
      }
      const recoveries = kernel.events().filter((e) => e.event === 'recovered').map((e) => e.durationMs ?? -1);
      const device = kernel.devices().find((d) => d.name === o.address);
      return {
        ...sent, ok: sent.ok && recoveries.length === faults, app: 'pci-nic', via, isolation, address: o.address,
        recoveries, stats: eth.stats(), deviceErrors: device?.errors ?? -1, process: 'survived',
      };
    });
  },
};

runIfMain(import.meta.url, program);
