// `nooks pci`: the machine's PCI devices and what drives them; `pci bind
// <address> uio|vfio` hands one to the stub driver nooks reaches it through,
// `pci unbind <address>` gives it back (lib/pci.ts).
import { pciBind, pciDevices, pciUnbind, type PciDevice, type PciVia } from '../../pci.js';
import { closest, UsageError } from '../args.js';
import { table, toJson, type Context } from './common.js';

const actions = ['bind', 'unbind'] as const;
const vias = ['uio', 'vfio'] as const;
const hex = (n: number, digits: number) => n.toString(16).padStart(digits, '0');

/** As JSON shows it: ids in hex, as lspci does. */
function shown(d: PciDevice) {
  return { ...d, vendor: hex(d.vendor, 4), device: hex(d.device, 4), class: hex(d.class, 6) };
}

export async function pci(ctx: Context): Promise<number> {
  const [action, address, via] = ctx.args;
  if (action === undefined) {
    const devices = pciDevices();
    if (ctx.flags.json) {
      ctx.print(toJson({ devices: devices.map(shown) }));
      return 0;
    }
    const rows = devices.map((d) => [d.address, `${hex(d.vendor, 4)}:${hex(d.device, 4)}`, hex(d.class, 6), d.driver ?? '-',
      d.iommuGroup === null ? '-' : String(d.iommuGroup), d.inUse.join('; ') || '-']);
    for (const line of table(['address', 'vendor:device', 'class', 'driver', 'iommu group', 'in use by this system'], rows)) ctx.print(line);
    return 0;
  }
  if (!actions.includes(action as (typeof actions)[number])) {
    const hint = closest(action, actions);
    throw new UsageError(`unknown pci action "${action}"${hint ? ` (did you mean "${hint}"?)` : ''}; usage: nooks pci [bind <address> uio|vfio | unbind <address>]`);
  }
  if (!address) throw new UsageError(`nooks pci ${action} needs a PCI address (nooks pci lists them)`);
  if (action === 'bind' && !vias.includes(via as PciVia)) throw new UsageError(`nooks pci bind ${address} needs uio or vfio, got ${via === undefined ? 'nothing' : `"${via}"`}`);
  const d = action === 'bind' ? pciBind(address, via as PciVia, ctx.flags.force) : pciUnbind(address);
  ctx.print(ctx.flags.json ? toJson(shown(d)) : `${d.address}: ${d.driver ? `bound to ${d.driver}` : 'bound to no driver'}`);
  return 0;
}
