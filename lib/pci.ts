// Real PCI devices of this machine, from sysfs: which there are, what drives
// them, whether the running system uses them, and binding one to the stub
// driver nooks drives it through (uio_pci_generic or vfio-pci) and back.
// The kernel side (mapping BARs, interrupts, DMA) is native/dev/uio.cc and vfio.cc.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export type PciVia = 'uio' | 'vfio';

/** The Linux driver each way of reaching a device binds it to. */
export const stubDriver: Record<PciVia, string> = { uio: 'uio_pci_generic', vfio: 'vfio-pci' };

export class PciError extends Error {
  constructor(public readonly code: string, message: string) {
    super(message);
    this.name = 'PciError';
  }
}

const SYS = '/sys/bus/pci';

/** A full PCI address (0000:00:03.0) from a full or short one (00:03.0). */
export function pciAddress(address: string): string {
  const full = /^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i.test(address) ? `0000:${address}` : address;
  if (!/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i.test(full))
    throw new PciError('EINVAL', `"${address}" is not a PCI address (like 0000:00:03.0 or 00:03.0)`);
  return full.toLowerCase();
}

export interface PciDevice {
  address: string;
  vendor: number;
  device: number;
  /** The class code, e.g. 0x020000 (Ethernet controller). */
  class: number;
  /** The Linux driver bound to it, or null. */
  driver: string | null;
  iommuGroup: number | null;
  /** What the running system uses it for (an interface that is up, a mounted disk); empty if nothing. */
  inUse: string[];
}

const hex = (dir: string, file: string) => parseInt(readFileSync(join(dir, file), 'utf8').trim(), 16);
const link = (p: string) => {
  try {
    return basename(readlinkSync(p));
  } catch {
    return null;
  }
};

/** Why the running system needs the device: network interfaces that are up, block devices mounted or swapped on. */
function usesOf(dir: string): string[] {
  const uses: string[] = [];
  const netDir = join(dir, 'net');
  for (const ifname of existsSync(netDir) ? readdirSync(netDir) : []) {
    const flags = parseInt(readFileSync(join(netDir, ifname, 'flags'), 'utf8'), 16);
    if (flags & 1) uses.push(`network interface ${ifname} is up`);
  }
  const real = realpathSync(dir);
  const mounts = readFileSync('/proc/mounts', 'utf8') + readFileSync('/proc/swaps', 'utf8');
  for (const disk of existsSync('/sys/block') ? readdirSync('/sys/block') : []) {
    if (!realpathSync(join('/sys/block', disk)).startsWith(`${real}/`)) continue;
    if (new RegExp(`^/dev/${disk}\\S*\\s`, 'm').test(mounts)) uses.push(`disk ${disk} is mounted or used for swap`);
  }
  return uses;
}

export function pciDevice(address: string): PciDevice {
  const a = pciAddress(address);
  const dir = join(SYS, 'devices', a);
  if (!existsSync(dir)) throw new PciError('ENODEV', `no PCI device ${a} (\`nooks pci\` lists them)`);
  const group = link(join(dir, 'iommu_group'));
  return {
    address: a, vendor: hex(dir, 'vendor'), device: hex(dir, 'device'), class: hex(dir, 'class'),
    driver: link(join(dir, 'driver')), iommuGroup: group === null ? null : Number(group), inUse: usesOf(dir),
  };
}

export function pciDevices(): PciDevice[] {
  const dir = join(SYS, 'devices');
  return existsSync(dir) ? readdirSync(dir).sort().map(pciDevice) : [];
}

function write(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EACCES' || err.code === 'EPERM' ? ' (binding devices needs root)' : '';
    throw new PciError(err.code ?? 'EIO', `cannot write "${text.trim()}" to ${path}: ${err.message}${why}`);
  }
}

/** Loads the stub driver's module if the kernel does not have it yet. */
function loadModule(driver: string): void {
  if (existsSync(join(SYS, 'drivers', driver))) return;
  try {
    execFileSync('modprobe', [driver], { stdio: 'ignore' });
  } catch {
    /* said below */
  }
  if (!existsSync(join(SYS, 'drivers', driver)))
    throw new PciError('ENODEV', `the ${driver} driver is not loaded and modprobe ${driver} failed (load it as root)`);
}

/**
 * Binds the device to the stub driver of `via` (driver_override, so no other
 * device of the same kind moves). A device the system uses (see `inUse`) is
 * refused unless `force`.
 */
export function pciBind(address: string, via: PciVia, force = false): PciDevice {
  const dev = pciDevice(address);
  const target = stubDriver[via];
  if (dev.driver === target) return dev;
  if (via === 'vfio' && dev.iommuGroup === null)
    throw new PciError('ENODEV', `${dev.address} has no IOMMU group: the IOMMU is off. Enable VT-d/AMD-Vi in the firmware and boot with intel_iommu=on (or amd_iommu=on); or use uio`);
  if (dev.inUse.length && !force)
    throw new PciError('EBUSY', `${dev.address} is in use by this system (${dev.inUse.join('; ')}): it stays with ${dev.driver}; --force takes it anyway`);
  loadModule(target);
  const dir = join(SYS, 'devices', dev.address);
  if (dev.driver) write(join(dir, 'driver', 'unbind'), dev.address);
  write(join(dir, 'driver_override'), target);
  write(join(SYS, 'drivers_probe'), dev.address);
  const now = pciDevice(dev.address);
  if (now.driver !== target) throw new PciError('EIO', `${target} did not take ${dev.address} (see dmesg)`);
  return now;
}

/** Gives the device back: off its driver, the override cleared, and offered to the kernel's own drivers again. */
export function pciUnbind(address: string): PciDevice {
  const dev = pciDevice(address);
  const dir = join(SYS, 'devices', dev.address);
  if (dev.driver) write(join(dir, 'driver', 'unbind'), dev.address);
  write(join(dir, 'driver_override'), '\n');
  write(join(SYS, 'drivers_probe'), dev.address);
  return pciDevice(dev.address);
}
