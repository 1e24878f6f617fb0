// An emulated device's DMA reaches a driver that polls it without ever
// waiting: drivers/e1000-libc/check.c, built as a program, sends numbered
// frames to the link partner, which echoes each back, and spins on its receive
// ring (e1000l_rx_batch reads each descriptor's status byte in memory; no
// kernel call waits) until every echo is in. The NIC's thread writes each
// echo into the ring by DMA meanwhile, as a real NIC writes memory whatever
// the CPU's page protections: under mprotect it once waited for driver code to
// stop running, which this driver never does, and received nothing (its own
// 30 s deadline ended the run, status 1).
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kernel } from '../lib/index.js';
import { packageRoot } from '../lib/paths.js';
import { buildDriver } from '../lib/sdk/build.js';
import { bootableIsolations } from './helpers/util.js';

const FRAMES = 200;
const src = join(packageRoot, 'drivers', 'e1000-libc');
const dir = mkdtempSync(join(tmpdir(), 'nooks-dma-polling-'));
let check = '';

// the unchanged sources, built as a user builds a program driver (nooks build --posix)
beforeAll(() => {
  check = buildDriver({ sources: ['e1000l.c', 'vfio.c', 'check.c'].map((f) => join(src, f)), out: join(dir, 'e1000l-check.so'), posix: true }).path;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// (not under 'none': there a program's exit() is the process's, as without nooks)
describe.each(bootableIsolations.filter((i) => i !== 'none'))("a program polling its emulated NIC's receive ring under '%s'", (isolation) => {
  let kernel: Kernel;
  let partner: Socket;

  beforeAll(async () => {
    // the link partner: each frame back to the NIC, the MAC addresses swapped
    partner = createSocket('udp4');
    partner.on('message', (f, from) => partner.send(Buffer.concat([f.subarray(6, 12), f.subarray(0, 6), f.subarray(12)]), from.port, from.address));
    await new Promise<void>((r) => partner.bind(0, '127.0.0.1', r));
    kernel = await Kernel.boot({ isolation });
  });
  afterAll(async () => {
    await kernel?.shutdown();
    partner?.close();
  });

  it('receives every echo the NIC writes into its ring while it spins in driver code', async () => {
    const dev = kernel.addDevice('e1000', { peer: `127.0.0.1:${partner.address().port}` });
    const d = await kernel.load(check, { name: 'e1000l-check', devices: [dev.address], argv: ['e1000l-check', dev.address, String(FRAMES)] });
    const exit = await d.exited;
    const report = kernel.log().filter((l) => l.source === 'e1000l-check' && l.text.startsWith('{"check"')).map((l) => JSON.parse(l.text))[0];
    expect(report).toMatchObject({ sent: FRAMES, received: FRAMES, intact: FRAMES });
    expect(exit).toEqual({ driver: 'e1000l-check', status: 0, signal: null });
  }, 60_000);
});
