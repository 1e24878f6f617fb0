// The libc-style e1000 driver (drivers/e1000-libc) checked against the
// reference first, without nooks: built with the system's plain cc into a
// static program (drivers/e1000-libc/check.c) and run as root inside a QEMU
// guest on QEMU's own e1000 (a device model nobody here wrote): on the NIC
// bound to uio_pci_generic it takes the device the sysfs way (config and
// resource0, a hugetlbfs page translated through /proc/self/pagemap), on the
// one bound to vfio-pci through VFIO (the hugepage mapped into the IOMMU).
// Every frame it sends reaches this side of the wire, which echoes it back;
// every echo must come back through its receive ring intact, and the NIC's
// own statistics counters must agree. Skipped only when QEMU is not installed.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { guestJson, guestNics, runPciGuest } from '../lib/guest/pci.js';
import type { PciVia } from '../lib/pci.js';
import { qemuAvailable } from '../lib/guest/qemu.js';
import { packageRoot } from '../lib/paths.js';

const qemu = qemuAvailable();
const FRAMES = 1000;

describe.skipIf(!qemu)(`the libc-style e1000 driver on QEMU's e1000${qemu ? '' : ' (skipped: qemu-system-x86_64 is not installed)'}`, () => {
  it('through sysfs (UIO) and VFIO: sends frames that reach the link partner and receives its echoes, the counters agreeing', async () => {
    // under build/: the guest sees the project (read-only) at its working directory
    const check = join(packageRoot, 'build', 'e1000l-check');
    const src = join(packageRoot, 'drivers', 'e1000-libc');
    // undefined behaviour traps (UBSan without its runtime: a static program)
    execFileSync('cc', ['-static', '-O2', '-Wall', '-Wextra', '-Werror', '-fsanitize=undefined', '-fsanitize-undefined-trap-on-error',
      '-o', check, ...['e1000l.c', 'vfio.c', 'check.c'].map((f) => join(src, f))]);

    const atPartner: Record<PciVia, Buffer[]> = { uio: [], vfio: [] };
    const run = await runPciGuest([
      'mkdir -p /mnt/huge && mount -t hugetlbfs nodev /mnt/huge',
      `node dist/lib/cli/main.js pci bind ${guestNics.uio} uio --json`,
      `node dist/lib/cli/main.js pci bind ${guestNics.vfio} vfio --json`,
      `build/e1000l-check ${guestNics.uio} ${FRAMES}`,
      `build/e1000l-check ${guestNics.vfio} ${FRAMES}`,
      // (no $ here: the guest's init expands the command line once before running it)
      ...Object.values(guestNics).map((a) => `[ -e /sys/bus/pci/devices/${a}/driver ] && echo '{"driverAfter":"bound"}' || echo '{"driverAfter":"none"}'`),
    ].join(' ; '), (via, socket) => {
      // the link partner: each frame back to the sender, the MAC addresses swapped
      socket.on('message', (frame, from) => {
        atPartner[via].push(frame);
        const echo = Buffer.concat([frame.subarray(6, 12), frame.subarray(0, 6), frame.subarray(12)]);
        socket.send(echo, from.port, from.address);
      });
    });
    const out = guestJson(run);
    const results = out.filter((o) => o.check === 'e1000l') as any[];
    if (results.length !== 2 || results.some((r) => r.intact !== FRAMES)) console.log(run.output.slice(-6000));
    expect(out.filter((o) => 'driver' in o)).toEqual([
      expect.objectContaining({ address: guestNics.uio, driver: 'uio_pci_generic' }),
      expect.objectContaining({ address: guestNics.vfio, driver: 'vfio-pci' }),
    ]);
    expect(results).toHaveLength(2);
    for (const [i, via] of (['uio', 'vfio'] as const).entries()) {
      const result = results[i];
      console.log(`e1000l on QEMU's e1000 (${via}): ${FRAMES} frames out and echoed back in ${result.ms} ms`);
      expect(run.output).toContain(`e1000l: ${guestNics[via]}: ${result.mac}, link up, ${via === 'uio' ? 'sysfs' : 'vfio'}`);
      expect(result).toMatchObject({ address: guestNics[via], link: 1, sent: FRAMES, received: FRAMES, intact: FRAMES });
      // the partner saw every frame, with the sender's MAC (read from RAL0/RAH0) as source
      expect(atPartner[via]).toHaveLength(FRAMES);
      expect(atPartner[via].every((f) => f.subarray(6, 12).toString('hex') === result.mac.replace(/:/g, ''))).toBe(true);
      // QEMU's counters (read-to-clear, summed by the driver): frames and octets, FCS included
      const octets = atPartner[via].reduce((n, f) => n + f.length + 4, 0);
      expect(result.stats).toEqual({ rxFrames: FRAMES, rxBytes: octets, txFrames: FRAMES, txBytes: octets, rxMissed: 0 });
    }
    // through sysfs the driver let uio_pci_generic go (driver/unbind), as such drivers do; VFIO keeps vfio-pci
    expect(out.filter((o) => 'driverAfter' in o)).toEqual([{ driverAfter: 'none' }, { driverAfter: 'bound' }]);
  }, 250_000);
});
