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

let busDir = '/sys/bus/pci';

/** Test hook: the PCI bus's sysfs directory is `root` (a fake one) from now on; without it, /sys/bus/pci again. */
export function pciSysfsForTest(root = '/sys/bus/pci'): void {
  busDir = root;
}

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
  /**
   * What the running system uses it for (an interface that is up, a mounted
   * disk; for devices that are neither network nor storage controllers, any
   * kernel driver bound); empty if nothing.
   */
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

/** Why the running system needs the device: its network interfaces that are up, its disks mounted, swapped on or held (md, dm). */
function usesOf(dir: string): string[] {
  const uses: string[] = [];
  const real = `${realpathSync(dir)}/`; // interfaces and disks sit below the device (virtio: below virtioN)
  const below = (p: string) => realpathSync(p).startsWith(real);
  for (const ifname of existsSync('/sys/class/net') ? readdirSync('/sys/class/net') : []) {
    const p = join('/sys/class/net', ifname);
    if (below(p) && parseInt(readFileSync(join(p, 'flags'), 'utf8'), 16) & 1) uses.push(`network interface ${ifname} is up`);
  }
  const mounted = new Set(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[2]));
  const swaps = readFileSync('/proc/swaps', 'utf8');
  for (const disk of existsSync('/sys/block') ? readdirSync('/sys/block') : []) {
    const p = join('/sys/block', disk);
    if (!below(p)) continue;
    const parts = [disk, ...readdirSync(p).filter((e) => e.startsWith(disk))];
    const dev = (part: string) => readFileSync(join(p, part === disk ? '' : part, 'dev'), 'utf8').trim();
    if (parts.some((part) => mounted.has(dev(part)) || swaps.includes(`/dev/${part} `)))
      uses.push(`disk ${disk} is mounted or used for swap`);
    else if (parts.some((part) => readdirSync(join(p, part === disk ? '' : part, 'holders')).length))
      uses.push(`disk ${disk} is held by another device (md, dm)`);
  }
  return uses;
}

export function pciDevice(address: string): PciDevice {
  const a = pciAddress(address);
  const dir = join(busDir, 'devices', a);
  if (!existsSync(dir)) throw new PciError('ENODEV', `no PCI device ${a} (\`nooks pci\` lists them)`);
  const group = link(join(dir, 'iommu_group'));
  const driver = link(join(dir, 'driver'));
  const cls = hex(dir, 'class');
  const inUse = usesOf(dir);
  // Past network and storage controllers, what a driver does with a device is not visible here: assume it matters.
  if (driver && !Object.values(stubDriver).includes(driver) && ![1, 2].includes(cls >> 16)) inUse.push(`driven by ${driver}`);
  if (cls >> 16 === 6) inUse.push('a bridge: the bus itself');
  return {
    address: a, vendor: hex(dir, 'vendor'), device: hex(dir, 'device'), class: cls,
    driver, iommuGroup: group === null ? null : Number(group), inUse,
  };
}

export function pciDevices(): PciDevice[] {
  const dir = join(busDir, 'devices');
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
  if (existsSync(join(busDir, 'drivers', driver))) return;
  try {
    execFileSync('modprobe', [driver], { stdio: 'ignore' });
  } catch {
    /* said below */
  }
  if (!existsSync(join(busDir, 'drivers', driver)))
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
  let now: PciDevice;
  try {
    now = reprobe(dev, target);
  } catch (e) {
    // A write after the unbind failed (the device gone, the kernel refusing): off its driver, maybe kept from it by
    // the override; given back as pciUnbind does. A failed unbind changed nothing.
    const stays = dev.driver !== null && existsSync(join(busDir, 'devices', dev.address, 'driver'));
    throw new PciError((e as PciError).code, `${(e as Error).message}; ${stays ? `it stays with ${dev.driver}` : giveBack(dev.address)}`);
  }
  if (now.driver === target) return now;
  // Not left without a driver, nor kept from its own by the override.
  throw new PciError('EIO', `${target} did not take ${dev.address} (see dmesg); ${giveBack(dev.address)}`);
}

/** Gives the device back (pciUnbind): where it is then, or why that failed too, as the end of an error's message. */
function giveBack(address: string): string {
  try {
    return `it is back with ${pciUnbind(address).driver ?? 'no driver'}`;
  } catch (e) {
    return `giving it back failed too: ${(e as Error).message}`;
  }
}

/** Gives the device back: off its driver, the override cleared, and offered to the kernel's own drivers again. */
export function pciUnbind(address: string): PciDevice {
  return reprobe(pciDevice(address), '\n');
}

/** The device off its driver, `override` its driver_override ("\n": none), probed again: what it is then. */
function reprobe(dev: PciDevice, override: string): PciDevice {
  const dir = join(busDir, 'devices', dev.address);
  if (dev.driver) write(join(dir, 'driver', 'unbind'), dev.address);
  write(join(dir, 'driver_override'), override);
  write(join(busDir, 'drivers_probe'), dev.address);
  return pciDevice(dev.address);
}
