// Real PCI devices: QEMU's e1000 (a device model nobody here wrote) inside a
// guest with an IOMMU, one NIC bound to uio_pci_generic and one to vfio-pci
// by the real Linux drivers (with `nooks pci bind`), each driven by
// drivers/e1000 isolated (mprotect, and pkey: the guest kernel is >= 6.12,
// see guest-pkey.test.ts). A file goes to a link partner on this side of the
// wire with checksums while the driver fails mid-stream; the restart resets
// the device and the transfer goes on. Under VFIO a DMA address outside the
// driver's memory faults in the IOMMU. Skipped only when QEMU is not
// installed (.ci/run installs it).
import { describe, expect, it } from 'vitest';
import { receiveFile, type PeerResult } from '../lib/apps/net-peer.js';
import { guestJson, guestNics, runPciGuest } from '../lib/guest/pci.js';
import { qemuAvailable } from '../lib/guest/qemu.js';

const qemu = qemuAvailable();
const cli = 'node dist/lib/cli/main.js';

describe.skipIf(!qemu)(`real PCI devices in a QEMU guest${qemu ? '' : ' (skipped: qemu-system-x86_64 is not installed)'}`, () => {
  it('drives QEMU\'s e1000 through UIO and VFIO, isolated, across a driver failure mid-stream', async () => {
    const received: Record<string, PeerResult[]> = { uio: [], vfio: [] };
    const commands = [
      // before binding: attaching says what to do
      `node -e "import('./dist/lib/index.js').then(async ({ Kernel }) => { const k = await Kernel.boot(); ` +
        `try { k.attachPci('${guestNics.uio}', { via: 'uio' }) } catch (e) { console.log(JSON.stringify({ attach: e.code, message: e.message })) } await k.shutdown() })"`,
      `${cli} pci --json`,
      `${cli} pci bind ${guestNics.uio} uio --json`,
      `${cli} pci bind ${guestNics.vfio} vfio --json`,
      // UIO without hugepages: the driver is not bound, and the log says how many to reserve and how
      'echo 0 > /proc/sys/vm/nr_hugepages',
      `node -e "import('./dist/lib/index.js').then(async ({ Kernel }) => { const k = await Kernel.boot(); k.attachPci('${guestNics.uio}', { via: 'uio' }); ` +
        `const d = await k.load('e1000'); console.log(JSON.stringify({ bound: d.call('bound'), log: k.log().map((l) => l.text).filter((t) => t.includes('hugepages')) })); await k.shutdown() })"`,
      'echo 32 > /proc/sys/vm/nr_hugepages',
      ...Object.entries(guestNics).flatMap(([via, address]) =>
        ['mprotect', 'pkey'].map((iso) => `node dist/lib/guest/pci-nic.js --address ${address} --via ${via} --isolation ${iso}` +
          // then a driver bug: a transmit descriptor at an address outside its DMA memory
          (via === 'vfio' && iso === 'mprotect' ? ' --wild-dma 0x1000' : ''))),
      'dmesg | grep DMAR:',
    ];
    const run = await runPciGuest(commands.join(' ; '), (via, socket) => {
      const serve = (): void => void receiveFile(socket).then((r) => {
        received[via].push(r);
        serve();
      });
      serve();
    });
    const out = guestJson(run);
    const [refused, list, boundUio, boundVfio, noHugepages, ...transfers] = out as any[];
    if (out.length !== 9 || transfers.some((l) => !l.ok)) console.log(run.output.slice(-8000));
    expect(refused).toMatchObject({ attach: 'ENODEV' });
    expect(refused.message).toContain(`nooks pci bind ${guestNics.uio} uio`);
    expect(list.devices).toContainEqual(expect.objectContaining({ address: guestNics.uio, vendor: '8086', device: '100e', driver: null }));
    expect(boundUio).toMatchObject({ address: guestNics.uio, driver: 'uio_pci_generic' });
    expect(boundVfio).toMatchObject({ address: guestNics.vfio, driver: 'vfio-pci' });
    expect(noHugepages.bound).toBe(0);
    expect(noHugepages.log.join('\n')).toMatch(/cannot get 8 locked 2 MiB hugepages for its DMA memory.*echo 8 > \/proc\/sys\/vm\/nr_hugepages/);
    for (const l of transfers) console.log(`${l.via}/${l.isolation}: ${l.bytes} bytes in ${l.ms} ms, recovery ${l.recoveries?.join(', ')} ms`);
    expect(transfers.map((l) => [l.via, l.isolation, l.ok, l.process])).toEqual([
      ['uio', 'mprotect', true, 'survived'], ['uio', 'pkey', true, 'survived'],
      ['vfio', 'mprotect', true, 'survived'], ['vfio', 'pkey', true, 'survived'],
    ]);
    for (const l of transfers) {
      expect(l.recoveries).toHaveLength(1); // the driver failed once and was restarted
      expect(l.deviceErrors).toBe(0);
    }
    // VFIO: the IOMMU stopped the device's read at the wild address (under UIO it would have read that memory)
    expect(run.output).toContain(`DMAR: [DMA Read NO_PASID] Request device [${guestNics.vfio.slice(5)}] fault addr 0x1000`);
    // the partner received each file intact (every frame's CRC-32, the whole file's SHA-256)
    for (const via of ['uio', 'vfio']) {
      expect(received[via].map((r) => r.ok)).toEqual([true, true]);
      expect(received[via].every((r) => r.sha256 === r.senderSha256 && r.bytes === 256 << 10)).toBe(true);
    }
  }, 250_000);
});
