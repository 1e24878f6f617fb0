// A kernel booted after another's shutdown, in the same process, starts
// afresh: every device class forgets the previous kernel's devices (names,
// counters, what its shadow kept), and a handle an application kept open
// across the shutdown fails, naming it, instead of reaching the new kernel's
// device of the same name. Each class: boot, use the device (and restart its
// driver once, so the shadow's counters move), shut down, boot again the same way.
import type { Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Kernel, netInterfaces, openBlock, openNet, openPcm, openSerial, pcmDevices, serialPorts, type BlockDevice, type NetInterface,
} from '../lib/index.js';
import { native } from '../lib/native.js';
import { ptyPair } from '../lib/testing.js';
import { pattern } from './helpers/data.js';
import { Far } from './helpers/far-end.js';
import { frame, nicPortOf, wirePartner } from './helpers/frames.js';
import { rejectionOf, until, suiteIsolation } from './helpers/util.js';

const SHUT_DOWN = /the kernel was shut down/;
let kernel: Kernel | undefined;
const boot = async () => (kernel = await Kernel.boot({ isolation: suiteIsolation }));
afterEach(async () => {
  await kernel?.shutdown();
  kernel = undefined;
});
let dir: string; // the disk image, the played WAV
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nooks-reboot-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('net: the emulated e1000 on a UDP wire', () => {
  const NIC_MAC = '52:54:00:aa:bb:01';
  const PEER_MAC = '52:54:00:cc:dd:02';
  let peer: Socket;
  const atPeer: Buffer[] = [];
  beforeAll(async () => {
    peer = await wirePartner(atPeer);
  });
  afterAll(() => peer?.close());

  /** A kernel with eth0 up; `frames` receive frames from the peer. */
  const up = async (frames: number) => {
    const k = await boot();
    const dev = k.addDevice('e1000', { peer: `127.0.0.1:${peer.address().port}`, mac: NIC_MAC });
    const drv = await k.load('e1000');
    const eth = openNet(k, 'eth0');
    const received: Buffer[] = [];
    eth.on('frames', (fs) => received.push(...fs));
    await until(() => eth.link, 'link up');
    const port = nicPortOf(dev.name);
    for (let i = 0; i < frames; i++) peer.send(frame(NIC_MAC, PEER_MAC, i, 100), port, '127.0.0.1');
    await until(() => received.length >= frames, `${frames} frames received`, 5_000);
    return { drv, eth };
  };

  it('starts afresh: eth0 again, one registration, only the new frames counted; a kept handle fails', async () => {
    const first = await up(30);
    first.drv.recover();
    await until(() => first.eth.stats().kernel.registrations === 2, 'eth0 registered again');
    first.eth.send([frame(PEER_MAC, NIC_MAC, 1, 100)]);
    await kernel!.shutdown();
    const kept: NetInterface = first.eth;

    const second = await up(7);
    expect(netInterfaces()).toEqual(['eth0']);
    expect(second.eth.info()).toMatchObject({ name: 'eth0', registered: true, open: true });
    expect(second.eth.stats().kernel).toEqual({ rxDelivered: 7, rxDropped: 0, txQueued: 0, txDropped: 0, txLost: 0, txBusy: 0, txWaiting: 0, txHeld: 0, registrations: 1 });
    expect(() => kept.send([frame(PEER_MAC, NIC_MAC, 2, 100)])).toThrow(SHUT_DOWN);
    atPeer.length = 0;
    expect(second.eth.send([frame(PEER_MAC, NIC_MAC, 3, 100)])).toBe(1);
    await until(() => atPeer.length === 1, 'the frame at the peer');
    expect(second.eth.stats().kernel.txQueued).toBe(1);
  });
});

describe('block: blk', () => {
  const up = async () => {
    const k = await boot();
    k.addDevice('blk', { image: join(dir, 'disk.img'), size: 8 << 20 });
    const drv = await k.load('blk');
    return { drv, disk: openBlock(k, 'blk0') };
  };

  it('starts afresh: blk0 again, nothing resubmitted; a kept handle fails, and so does what it had in flight', async () => {
    const first = await up();
    expect(first.drv.call('plug', 1)).toBe(0); // held by the driver: in flight at the recovery, resubmitted after
    const writes = Array.from({ length: 4 }, (_, i) => first.disk.write(i * 4096, pattern(4096, i)));
    first.drv.recover();
    await Promise.all(writes);
    expect(native().blockDisk('blk0')?.resubmitted).toBe(4);
    expect(first.drv.call('plug', 1)).toBe(0);
    const inFlight = first.disk.write(0, pattern(4096, 9));
    await kernel!.shutdown();
    expect((await rejectionOf(inFlight)).message).toMatch(SHUT_DOWN);
    const kept: BlockDevice = first.disk;

    const second = await up();
    expect(native().blockDisk('blk0')).toMatchObject({ name: 'blk0', restarting: false, queued: 0, resubmitted: 0 });
    expect((await rejectionOf(kept.read(0, 4096))).message).toMatch(SHUT_DOWN);
    await second.disk.write(8192, pattern(4096, 5));
    expect((await second.disk.read(8192, 4096)).equals(pattern(4096, 5))).toBe(true);
    expect((await second.disk.read(0, 4096)).equals(pattern(4096, 0))).toBe(true); // the image kept the first kernel's data
  });
});

describe('serial: a 16550A on a pty', () => {
  let pty: ReturnType<typeof ptyPair>;
  let far: Far;
  beforeAll(async () => {
    pty = ptyPair();
    far = await Far.open(pty.b);
  });
  afterAll(async () => {
    await far?.close();
    pty?.close();
  });

  const up = async () => {
    const k = await boot();
    k.addDevice('uart16550', { tty: pty.a });
    const drv = await k.load('uart16550');
    return { drv, port: openSerial(k, 'ttyS0', { baudRate: 115200 }) };
  };

  it('starts afresh: ttyS0 again with its counters at zero; a kept handle fails', async () => {
    const first = await up();
    await first.port.write(pattern(100, 0));
    await far.take(100);
    first.drv.recover();
    await until(() => serialPorts()[0]?.attached && !serialPorts()[0].restarting, 'ttyS0 restored');
    await far.write(pattern(50, 1));
    expect(Buffer.compare(await first.port.read(50, 10_000), pattern(50, 1))).toBe(0);
    await kernel!.shutdown();
    const kept = first.port;

    const second = await up();
    expect(serialPorts()).toEqual([expect.objectContaining({ line: 0, name: 'ttyS0', driver: 'uart16550', attached: true, open: true, rxBytes: 0, txBytes: 0, rxDropped: 0 })]);
    expect((await rejectionOf(kept.write(pattern(10, 2)))).message).toMatch(SHUT_DOWN);
    await second.port.write(pattern(20, 3));
    expect(Buffer.compare(await far.take(20), pattern(20, 3))).toBe(0);
    expect(serialPorts()[0]).toMatchObject({ txBytes: 20, rxBytes: 0 });
  });
});

describe('sound: pcm', () => {
  const up = async () => {
    const k = await boot();
    k.addDevice('pcm', { playback: join(dir, 'played.wav') });
    const drv = await k.load('pcm');
    return { drv, stream: openPcm(k, 'pcm0', { rate: 16000, channels: 1 }) };
  };

  it('starts afresh: pcm0 again, its mixer the device\'s default; a kept stream fails', async () => {
    const first = await up();
    first.stream.setVolume(40);
    await first.stream.write(Buffer.alloc(3200 * 2));
    await until(() => first.stream.status().framesDone >= 1600, 'playback under way');
    first.drv.recover();
    await first.stream.drain();
    await kernel!.shutdown();
    const kept = first.stream;
    expect(kept.status().error).toBe('pcm0: the kernel was shut down: its drivers were unloaded'); // what its calls say (not "device gone")

    const second = await up();
    expect(pcmDevices(kernel!)).toEqual([{ name: 'pcm0', driver: 'pcm', playback: true, capture: false }]);
    expect(second.stream.mute(false)).toEqual({ volume: 100, muted: false });
    expect((await rejectionOf(kept.write(Buffer.alloc(320)))).message).toMatch(SHUT_DOWN);
    await second.stream.write(Buffer.alloc(1600 * 2));
    await second.stream.drain();
    expect(second.stream.status()).toMatchObject({ framesDone: 1600, error: null });
    second.stream.close();
  });

  // Before: { running: true, ..., error: 'pcm0: the kernel was shut down: ...' }, the native stream's last state.
  it('a stream playing when the kernel shuts down says it runs no more, next to the shutdown\'s error', async () => {
    const { stream } = await up();
    const writing = stream.write(Buffer.alloc(16000 * 2)).catch((e: unknown) => e); // 1 s: under way at the shutdown
    await until(() => stream.status().framesDone > 0, 'playback under way');
    expect(stream.status().running).toBe(true);
    await kernel!.shutdown();
    expect(stream.status()).toMatchObject({ running: false, error: 'pcm0: the kernel was shut down: its drivers were unloaded' });
    expect(((await writing) as Error).message).toMatch(SHUT_DOWN);
    stream.close();
  });
});

it('the kernel log starts afresh: what the shutdown logged stays the previous kernel\'s', async () => {
  const first = await boot();
  first.addDevice('uart16550');
  await first.load('uart16550'); // its unload logs that the port went
  await first.shutdown();
  const second = await boot();
  expect(second.log()).toEqual([]);
  expect(first.log().map((l) => l.text)).toContain('ttyS0: uart16550 removed the port');
});
