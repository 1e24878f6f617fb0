// A QEMU guest with real PCI NICs for nooks to drive: a q35 machine with an
// Intel IOMMU (on, passthrough for the guest's own drivers so UIO works
// beside VFIO), hugepages for UIO's DMA memory, the uio_pci_generic and
// vfio-pci modules, and two QEMU e1000s whose wires (-netdev socket, one UDP
// datagram per frame) end at sockets on this side, on loopback.
import { createSocket, type Socket } from 'node:dgram';
import { freeUdpPort } from '../classes/net.js';
import type { PciVia } from '../pci.js';
import { runInGuest, type GuestRun } from './qemu.js';

/** The guest's NIC for each way of reaching it (bind it with `nooks pci bind ADDRESS VIA`). */
export const guestNics: Record<PciVia, string> = { uio: '0000:00:03.0', vfio: '0000:00:04.0' };

/**
 * Boots the guest and runs `command` (in the project directory) there.
 * `wire` is given this side's socket of each NIC's wire before the guest
 * boots (a link partner, or a sink); the sockets close when the guest is done.
 */
export async function runPciGuest(command: string, wire: (via: PciVia, socket: Socket) => void, timeoutMs = 240_000): Promise<GuestRun> {
  const sockets: Socket[] = [];
  const nics: string[] = [];
  try {
    for (const [i, via] of (['uio', 'vfio'] as const).entries()) {
      const [host, guest] = [await freeUdpPort(), await freeUdpPort()];
      const s = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
      await new Promise<void>((r) => s.bind(host, '127.0.0.1', r));
      sockets.push(s);
      wire(via, s);
      const slot = guestNics[via].slice(-4); // 03.0
      nics.push('-device', `e1000,netdev=n${i},romfile=,addr=${slot}`, '-netdev', `socket,id=n${i},udp=127.0.0.1:${host},localaddr=127.0.0.1:${guest}`);
    }
    return await runInGuest({
      minKernel: [6, 12], // pkey too (see test/guest-pkey.test.ts)
      iommu: true,
      append: 'hugepages=32',
      modules: ['uio_pci_generic', 'vfio-pci', 'vfio_iommu_type1'],
      extraArgs: nics,
      command,
      timeoutMs,
    });
  } finally {
    sockets.forEach((s) => s.close());
  }
}

/** The JSON objects the guest printed, on one line or pretty-printed over several (a console escape may precede one). */
export function guestJson(run: GuestRun): Record<string, unknown>[] {
  const lines = run.output.split('\n').map((l) => l.trimEnd());
  const found: Record<string, unknown>[] = [];
  for (let i = 0; i < lines.length; i++) {
    const at = lines[i].indexOf('{');
    if (at < 0 || !/^\{("|$)/.test(lines[i].slice(at))) continue;
    let text = lines[i].slice(at);
    for (let j = i; j < lines.length; text += `\n${lines[++j] ?? ''}`) {
      try {
        found.push(JSON.parse(text) as Record<string, unknown>);
        i = j;
        break;
      } catch {
        if (j - i > 2000 || (j > i && lines[j] === '}')) break; // closed and still not JSON: not an object
      }
    }
  }
  return found;
}
