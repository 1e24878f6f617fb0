// Under 'mprotect' an emulated device's DMA goes through its DMA arena's
// memory file (a pread/pwrite, design.md "Device DMA") only on the device's
// own thread, which must not wait for driver code to stop. The model's DMA on
// a driver's own thread (eth0's send: the driver writes TDT, and the model
// reads each descriptor and frame and writes its status back, inside the MMIO
// trap, its domain open) copies through the pages, as before the file: once it
// cost three system calls per frame, and net-send-libc's throughput.
// /proc/self/io counts the process's read and write system calls (pread and
// pwrite included; UDP sends and receives not).
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kernel, openNet, type NetInterface } from '../lib/index.js';
import { frame, wirePartner } from './helpers/frames.js';
import { until } from './helpers/util.js';

const FRAMES = 2048;
const BATCH = 256;
const NIC_MAC = '52:54:00:aa:bb:01';
const PEER_MAC = '52:54:00:cc:dd:02';

const ioCalls = (): number => {
  const io = Object.fromEntries(readFileSync('/proc/self/io', 'utf8').trim().split('\n').map((l) => l.split(': ')));
  return Number(io.syscr) + Number(io.syscw);
};

describe("a NIC's DMA on the driver's own thread under 'mprotect'", () => {
  let kernel: Kernel;
  let peer: Socket;
  let eth: NetInterface;
  const atPeer: Buffer[] = [];

  beforeAll(async () => {
    peer = await wirePartner(atPeer);
    kernel = await Kernel.boot({ isolation: 'mprotect' });
    const dev = kernel.addDevice('e1000', { peer: `127.0.0.1:${peer.address().port}`, mac: NIC_MAC });
    await kernel.load('e1000-libc-net', { devices: [dev.address] });
    eth = openNet(kernel, 'eth0');
  });
  afterAll(async () => {
    eth?.close();
    await kernel?.shutdown();
    peer?.close();
  });

  it('sends frames with no read or write system call per frame', async () => {
    const batch = Array.from({ length: BATCH }, (_, i) => frame(PEER_MAC, NIC_MAC, i));
    const before = ioCalls();
    let sent = 0;
    while (sent < FRAMES) {
      sent += eth.send(batch.slice(0, Math.min(BATCH, FRAMES - sent)));
      await until(() => (eth.stats().driver?.txPackets ?? 0) >= sent, 'the driver transmitted them');
    }
    const calls = ioCalls() - before;
    await until(() => atPeer.length >= FRAMES, 'every frame at the partner');
    expect(calls).toBeLessThan(FRAMES / 4); // three a frame through the file
  }, 60_000);
});
