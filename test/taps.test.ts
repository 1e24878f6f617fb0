// The shadow's taps (native/shadow/taps.h): every crossing between a device
// class and its driver, both ways, passes a tap generated from the interface
// descriptions (lib/wrappers/kapi.ts: driver → kernel; lib/wrappers/ops.ts:
// kernel → driver). The counts are exact: each call the class makes into the
// driver, and each kernel call the driver makes, is seen once.
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultPolicy, Kernel, openBlock, openNet, openPcm, openSerial, type Driver, type Tap } from '../lib/index.js';
import { ptyPair } from '../lib/testing.js';
import { until, suiteIsolation } from './helpers/util.js';

const tap = (drv: Driver, table: string, name: string): Tap | undefined => drv.taps().find((t) => t.table === table && t.name === name);
const policy = { default: { ...defaultPolicy.default, maxFailures: 4, memLimitBytes: 32 << 20 }, drivers: new Map() };

describe('taps on the crossings between a class and its driver', () => {
  let kernel: Kernel | undefined;
  let dir: string | undefined;
  let peer: Socket | undefined;
  afterEach(async () => {
    await kernel?.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
    peer?.close();
    [kernel, dir, peer] = [undefined, undefined, undefined];
  });

  /** A kernel with the blk driver over a fresh 4 MiB image: the driver and its disk. */
  async function bootBlock() {
    dir = mkdtempSync(join(tmpdir(), 'nooks-taps-'));
    const booted = (kernel = await Kernel.boot({ isolation: suiteIsolation, policy }));
    booted.addDevice('blk', { image: join(dir, 'disk.img'), size: 4 << 20 });
    const drv = await booted.load('blk');
    return { booted, drv, disk: openBlock(booted, 'blk0') };
  }

  it('block: each request is one submit tap and one blk_complete tap; a fault is counted on its operation', async () => {
    const { drv, disk } = await bootBlock();
    await Promise.all(Array.from({ length: 40 }, (_, i) => disk.write(i * 4096, Buffer.alloc(4096, i))));
    expect(tap(drv, 'blk_disk_ops', 'submit')).toMatchObject({ direction: 'to-driver', role: 'request', calls: 40, faults: 0, held: 0 });
    expect(tap(drv, 'kapi', 'blk_complete')).toMatchObject({ direction: 'to-kernel', calls: 40 });
    expect(tap(drv, 'kapi', 'blk_register_disk')?.calls).toBe(1);

    expect(drv.call('crash_next_submit')).toBe(0);
    await disk.write(0, Buffer.alloc(4096, 1)); // faults the driver; the shadow resubmits to the restarted one
    // the counts outlive the restart: the same domain, its history
    expect(tap(drv, 'blk_disk_ops', 'submit')).toMatchObject({ calls: 42, faults: 1 });
    expect(tap(drv, 'kapi', 'blk_register_disk')?.calls).toBe(2);
    expect(tap(drv, 'kapi', 'blk_complete')?.calls).toBe(41);
  });

  it('block: a batch of requests is one crossing of the submit tap; the domain counts its interrupt handler\'s runs', async () => {
    const { booted, drv, disk } = await bootBlock();
    const interrupts = () => booted.domains().find((d) => d.id === drv.id)!.interrupts;
    await disk.write(0, Buffer.alloc(4096, 1));
    expect(tap(drv, 'blk_disk_ops', 'submit')).toMatchObject({ calls: 1, crossings: 1 });
    const before = interrupts();
    expect(before).toBeGreaterThanOrEqual(1); // the disk completed the write through its interrupt
    // the disk is idle: its 32 request slots are free, and the 32 submits go in one crossing (deferred calls)
    await disk.submitAll(Array.from({ length: 32 }, (_, i) => ({ op: 'write' as const, offset: i * 4096, data: Buffer.alloc(4096, i) })));
    expect(tap(drv, 'blk_disk_ops', 'submit')).toMatchObject({ calls: 33, crossings: 2 });
    expect(interrupts() - before).toBeGreaterThanOrEqual(1);
    expect(interrupts() - before).toBeLessThanOrEqual(32); // completions coalesce: at most one run per request
    expect(tap(drv, 'kapi', 'blk_complete')).toMatchObject({ calls: 33, crossings: 33 }); // each kernel call is an upcall of its own
  });

  it('net: open, configuration, queries and frames each pass their own operation\'s tap, with its shadow role', async () => {
    peer = createSocket('udp4');
    const atPeer: Buffer[] = [];
    peer.on('message', (m) => atPeer.push(m));
    await new Promise<void>((r) => peer!.bind(0, '127.0.0.1', r));
    kernel = await Kernel.boot({ isolation: suiteIsolation, policy });
    kernel.addDevice('e1000', { peer: `127.0.0.1:${peer.address().port}` });
    const drv = await kernel.load('e1000');
    const eth = openNet(kernel, 'eth0');
    expect(tap(drv, 'net_device_ops', 'ndo_open')).toMatchObject({ role: 'lifecycle', calls: 1 });
    await until(() => eth.link, 'link up');
    const frames = Array.from({ length: 30 }, (_, i) => Buffer.alloc(100, i));
    expect(eth.send(frames)).toBe(30);
    await until(() => atPeer.length >= 30, '30 frames at the peer');
    expect(tap(drv, 'net_device_ops', 'ndo_start_xmit')).toMatchObject({ role: 'request', calls: 30, faults: 0 });
    // the driver frees a frame at its transmit-done interrupt, which may come after the frame reached the peer
    await until(() => (tap(drv, 'kapi', 'dev_kfree_skb_any')?.calls ?? 0) >= 30, '30 frames freed');
    expect(tap(drv, 'kapi', 'dev_kfree_skb_any')?.calls).toBe(30);
    eth.configure({ mtu: 4000 });
    expect(tap(drv, 'net_device_ops', 'ndo_change_mtu')).toMatchObject({ role: 'config', calls: 1 });
    const before = tap(drv, 'net_device_ops', 'ndo_get_stats')?.calls ?? 0;
    eth.stats();
    expect(tap(drv, 'net_device_ops', 'ndo_get_stats')).toMatchObject({ role: 'query', calls: before + 1 });
    eth.close();
    expect(tap(drv, 'net_device_ops', 'ndo_stop')?.calls).toBe(1);
  });

  it('serial and sound: opening, configuring and moving data cross through their operations\' taps', async () => {
    dir = mkdtempSync(join(tmpdir(), 'nooks-taps-'));
    kernel = await Kernel.boot({ isolation: suiteIsolation, policy });
    const pty = ptyPair();
    try {
      kernel.addDevice('uart16550', { tty: pty.a });
      const uart = await kernel.load('uart16550');
      const port = openSerial(kernel, 'ttyS0', { baudRate: 9600 });
      await port.write('taps');
      await port.close();
      expect(tap(uart, 'uart_ops', 'startup')).toMatchObject({ direction: 'to-driver', role: 'lifecycle', calls: 1 });
      expect(tap(uart, 'uart_ops', 'set_termios')).toMatchObject({ role: 'config' });
      expect(tap(uart, 'uart_ops', 'start_tx')?.calls).toBeGreaterThanOrEqual(1);
      expect(tap(uart, 'uart_ops', 'shutdown')?.calls).toBe(1);
    } finally {
      pty.close();
    }
    kernel.addDevice('pcm', { playback: join(dir, 'played.wav') });
    const pcm = await kernel.load('pcm');
    const p = openPcm(kernel, 'pcm0', { rate: 8000, channels: 1 });
    p.setVolume(40);
    p.close();
    for (const op of ['open', 'hw_params', 'prepare', 'close']) expect(tap(pcm, 'snd_pcm_ops', op)?.calls, op).toBe(1);
    expect(tap(pcm, 'snd_pcm_ops', 'mixer')).toMatchObject({ role: 'config', calls: 1 });
  });
});
