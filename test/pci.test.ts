// Real PCI devices, what can be checked on this machine without handing any
// device over (it runs the tests: nothing here is ever bound): addresses,
// the listing, refusals that name the fix. The devices themselves are driven
// in test/guest-pci.test.ts, on QEMU's e1000 in a guest.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pciAddress, pciBind, pciDevices, PciError } from '../lib/index.js';
import { pciSysfsForTest } from '../lib/testing.js';
import { nooks } from './helpers/cli.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { errorOf } from './helpers/util.js';

const hasPci = existsSync('/sys/bus/pci/devices');

describe('PCI addresses and devices', () => {
  it('takes full and short addresses, and refuses what is none', () => {
    expect(pciAddress('00:03.0')).toBe('0000:00:03.0');
    expect(pciAddress('0000:3B:00.1')).toBe('0000:3b:00.1');
    for (const bad of ['eth0', '00:03', '0000:00:03.8', '']) expect(() => pciAddress(bad)).toThrow(PciError);
  });

  it.skipIf(!hasPci)('lists the devices with ids, class, driver and what the system uses them for', () => {
    const devices = pciDevices();
    expect(devices.length).toBeGreaterThan(0);
    for (const d of devices) {
      expect(d.address).toMatch(/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/);
      expect(d.vendor).toBeGreaterThan(0);
      expect(Array.isArray(d.inUse)).toBe(true);
    }
  });

  it.skipIf(!hasPci)('refuses to bind a device the system uses, before touching it', () => {
    const used = pciDevices().find((d) => d.inUse.length && d.iommuGroup !== null) ?? pciDevices().find((d) => d.inUse.length);
    if (!used) return; // nothing in use here: nothing to refuse
    const via = used.iommuGroup === null ? 'uio' : 'vfio';
    const before = used.driver;
    expect(() => pciBind(used.address, via)).toThrow(/is in use by this system .*--force takes it anyway/);
    expect(pciDevices().find((d) => d.address === used.address)!.driver).toBe(before);
  });

  it.skipIf(!hasPci)('nooks pci --json lists them; bind without an IOMMU or of a used device says why', async () => {
    const list = await nooks(['pci', '--json']);
    expect(list.code).toBe(0);
    const devices = JSON.parse(list.stdout).devices;
    expect(devices[0]).toMatchObject({ address: expect.any(String), vendor: expect.stringMatching(/^[0-9a-f]{4}$/), class: expect.stringMatching(/^[0-9a-f]{6}$/) });
    const noGroup = pciDevices().find((d) => d.iommuGroup === null && d.driver !== 'vfio-pci');
    if (noGroup) {
      const r = await nooks(['pci', 'bind', noGroup.address, 'vfio']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('has no IOMMU group: the IOMMU is off');
      expect(r.stderr).toContain('intel_iommu=on');
    }
  });
});

describe('pciBind when the stub driver does not take the device', () => {
  // A fake /sys/bus/pci whose writes take no effect: a NIC bound to no driver
  // (the kernel's own let go) that uio_pci_generic then does not take.
  it('clears driver_override and probes again (the kernel\'s own driver may take it back), and says so', () => {
    const root = mkdtempSync(join(tmpdir(), 'nooks-pci-sysfs-'));
    const address = '0000:00:03.0';
    const dev = join(root, 'devices', address);
    mkdirSync(dev, { recursive: true });
    mkdirSync(join(root, 'drivers', 'uio_pci_generic'), { recursive: true });
    for (const [file, text] of [['vendor', '0x8086'], ['device', '0x100e'], ['class', '0x020000'], ['driver_override', '(null)']])
      writeFileSync(join(dev, file), `${text}\n`);
    pciSysfsForTest(root);
    try {
      expect(errorOf(() => pciBind(address, 'uio'))).toMatchObject({ code: 'EIO',
        message: `uio_pci_generic did not take ${address} (see dmesg); it is back with no driver` });
      expect(readFileSync(join(dev, 'driver_override'), 'utf8')).toBe('\n'); // not 'uio_pci_generic': its own driver may have it
      expect(readFileSync(join(root, 'drivers_probe'), 'utf8')).toBe(address); // offered to the drivers again
    } finally {
      pciSysfsForTest();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('pciBind when a write to sysfs fails midway', () => {
  // Before: the error of the failed write alone, the device left off its driver with driver_override the stub's,
  // which kept its own driver from it. Here drivers_probe is a directory (EISDIR), as a device gone would fail it.
  it('clears driver_override again and says where the device is', () => {
    const root = mkdtempSync(join(tmpdir(), 'nooks-pci-sysfs-'));
    const address = '0000:00:03.0';
    const dev = join(root, 'devices', address);
    mkdirSync(dev, { recursive: true });
    mkdirSync(join(root, 'drivers', 'uio_pci_generic'), { recursive: true });
    mkdirSync(join(root, 'drivers_probe'));
    for (const [file, text] of [['vendor', '0x8086'], ['device', '0x100e'], ['class', '0x020000'], ['driver_override', '(null)']])
      writeFileSync(join(dev, file), `${text}\n`);
    pciSysfsForTest(root);
    try {
      const probe = join(root, 'drivers_probe');
      expect(errorOf(() => pciBind(address, 'uio'))).toMatchObject({ code: 'EISDIR', message: expect.stringMatching(new RegExp(
        `^cannot write "${address}" to ${probe}: .*; giving it back failed too: cannot write "${address}" to ${probe}: `)) });
      expect(readFileSync(join(dev, 'driver_override'), 'utf8')).toBe('\n'); // not 'uio_pci_generic': its own driver may have it
    } finally {
      pciSysfsForTest();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('kernel.attachPci', () => {
  const kernel = kernelPerBlock({ isolation: 'mprotect' });

  it('says what is wrong: no such device, not bound to the stub driver, an unknown way', () => {
    expect(errorOf(() => kernel().attachPci('0000:7f:1f.7', { via: 'uio' }))).toMatchObject({ code: 'ENODEV', message: expect.stringContaining('no PCI device 0000:7f:1f.7') });
    expect(errorOf(() => kernel().attachPci('0000:7f:1f.7', { via: 'vfio' }))).toMatchObject({ code: 'ENODEV' });
    expect(errorOf(() => kernel().attachPci('00:03.0', { via: 'dpdk' as 'uio' }))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining("via must be 'uio' or 'vfio'") });
    const driven = hasPci ? pciDevices().find((d) => d.driver && d.driver !== 'uio_pci_generic') : undefined;
    if (driven) {
      const e = errorOf(() => kernel().attachPci(driven.address, { via: 'uio' }));
      expect(e.code).toBe('EBUSY');
      expect(e.message).toBe(`${driven.address} is bound to ${driven.driver}, not uio_pci_generic: \`nooks pci bind ${driven.address} uio\` binds it`);
    }
    expect(kernel().devices()).toEqual([]);
  });
});
