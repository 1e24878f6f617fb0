// Real PCI devices: QEMU's e1000 (a device model nobody here wrote) inside a
// guest with an IOMMU, one NIC bound to uio_pci_generic and one to vfio-pci
// by the real Linux drivers, each driven by drivers/e1000 isolated (mprotect,
// and pkey: the guest kernel is >= 6.12, see guest-pkey.test.ts). A file goes
// to a link partner on this side of the wire with checksums while the driver
// fails mid-stream; the restart resets the device and the transfer goes on.
// Skipped only when QEMU is not installed (.ci/run installs it).
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiveFile, type PeerResult } from '../lib/apps/net-peer.js';
import { qemuAvailable, runInGuest } from '../lib/guest/qemu.js';
import { freeUdpPort } from '../lib/classes/net.js';

const qemu = qemuAvailable();

/** A link partner serving every transfer that reaches `socket`. */
function partner(socket: Socket, results: PeerResult[]): void {
  void receiveFile(socket).then((r) => {
    results.push(r);
    partner(socket, results);
  });
}

describe.skipIf(!qemu)(`real PCI devices in a QEMU guest${qemu ? '' : ' (skipped: qemu-system-x86_64 is not installed)'}`, () => {
  const sockets: Socket[] = [];
  const received: Record<'uio' | 'vfio', PeerResult[]> = { uio: [], vfio: [] };
  const nics: string[] = [];

  beforeAll(async () => {
    for (const [i, via] of (['uio', 'vfio'] as const).entries()) {
      const [host, guest] = [await freeUdpPort(), await freeUdpPort()];
      const s = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
      await new Promise<void>((r) => s.bind(host, '127.0.0.1', r));
      sockets.push(s);
      partner(s, received[via]);
      nics.push('-device', `e1000,netdev=n${i},romfile=,addr=0${3 + i}.0`, '-netdev', `socket,id=n${i},udp=127.0.0.1:${host},localaddr=127.0.0.1:${guest}`);
    }
  });
  afterAll(() => sockets.forEach((s) => s.close()));

  it('drives QEMU\'s e1000 through UIO and VFIO, isolated, across a driver failure mid-stream', async () => {
    const runs = [['0000:00:03.0', 'uio'], ['0000:00:04.0', 'vfio']].flatMap(([address, via]) =>
      ['mprotect', 'pkey'].map((iso) => `node dist/lib/guest/pci-nic.js --address ${address} --via ${via} --isolation ${iso}`));
    const run = await runInGuest({
      minKernel: [6, 12],
      iommu: true,
      append: 'hugepages=32',
      modules: ['uio_pci_generic', 'vfio-pci', 'vfio_iommu_type1'],
      extraArgs: nics,
      command: `rc=0; for c in ${runs.map((r) => `'${r}'`).join(' ')}; do $c || rc=1; done; exit $rc`,
      timeoutMs: 170_000,
    });
    const lines = run.output.split('\n').filter((l) => l.startsWith('{"')).map((l) => JSON.parse(l));
    if (run.exitCode !== 0 || lines.length !== 4) console.log(run.output.slice(-8000));
    for (const l of lines) console.log(`${l.via}/${l.isolation}: ok ${l.ok}, ${l.bytes} bytes in ${l.ms} ms, recovery ${l.recoveries?.join(', ')} ms`);
    expect(lines.map((l) => [l.via, l.isolation, l.ok, l.process])).toEqual([
      ['uio', 'mprotect', true, 'survived'], ['uio', 'pkey', true, 'survived'],
      ['vfio', 'mprotect', true, 'survived'], ['vfio', 'pkey', true, 'survived'],
    ]);
    for (const l of lines) {
      expect(l.recoveries).toHaveLength(1); // the driver failed once and was restarted
      expect(l.recoveries[0]).toBeGreaterThanOrEqual(0);
      expect(l.deviceErrors).toBe(0);
    }
    // the partner received each file intact (the CRC of every frame, the SHA-256 of the whole)
    for (const via of ['uio', 'vfio'] as const) {
      expect(received[via].map((r) => r.ok)).toEqual([true, true]);
      expect(received[via].every((r) => r.sha256 === r.senderSha256 && r.bytes === 512 << 10)).toBe(true);
    }
    expect(run.exitCode).toBe(0);
  }, 180_000);
});
