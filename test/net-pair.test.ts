// Two emulated e1000s wired to each other (each one's UDP wire points at the
// other's), both driven by one e1000 driver: eth0 and eth1 are each other's
// link partner. Unisolated ('none'): the same driver binary, the native baseline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../lib/classes/net.js';
import { Kernel, openNet, type NetInterface } from '../lib/index.js';
import { frame } from './helpers/frames.js';
import { streamsByProgress, until, untilProgress } from './helpers/util.js';

streamsByProgress();

describe('two emulated NICs back to back', () => {
  let kernel: Kernel;
  let a: NetInterface;
  let b: NetInterface;
  const atA: Buffer[] = [];
  const atB: Buffer[] = [];

  beforeAll(async () => {
    const [pa, pb] = [await freeUdpPort(), await freeUdpPort()];
    kernel = await Kernel.boot({ isolation: 'none' });
    kernel.addDevice('e1000', { bind: `127.0.0.1:${pa}`, peer: `127.0.0.1:${pb}`, mac: '52:54:00:00:0a:01' });
    kernel.addDevice('e1000', { bind: `127.0.0.1:${pb}`, peer: `127.0.0.1:${pa}`, mac: '52:54:00:00:0b:01' });
    await kernel.load('e1000');
    a = openNet(kernel, 'eth0');
    b = openNet(kernel, 'eth1');
    a.on('frames', (f) => atA.push(...f));
    b.on('frames', (f) => atB.push(...f));
  });
  afterAll(async () => {
    a?.close();
    b?.close();
    await kernel?.shutdown();
  });

  it('one driver binds both: eth0 and eth1, each with its own MAC', () => {
    expect(kernel.isolation).toBe('none');
    expect(a.info()).toMatchObject({ device: 'e10000', mac: '52:54:00:00:0a:01' });
    expect(b.info()).toMatchObject({ device: 'e10001', mac: '52:54:00:00:0b:01' });
  });

  it('frames cross in both directions at once, in order and intact', async () => {
    const toB = Array.from({ length: 1000 }, (_, i) => frame('52:54:00:00:0b:01', '52:54:00:00:0a:01', i, 64 + (i % 1400)));
    const toA = Array.from({ length: 1000 }, (_, i) => frame('52:54:00:00:0a:01', '52:54:00:00:0b:01', i, 1400 - (i % 1300)));
    expect(a.send(toB)).toBe(1000);
    expect(b.send(toA)).toBe(1000);
    await untilProgress(() => atB.length >= 1000 && atA.length >= 1000, () => atA.length + atB.length, 'both directions');
    expect(atB.every((f, i) => f.equals(toB[i]))).toBe(true);
    expect(atA.every((f, i) => f.equals(toA[i]))).toBe(true);
    const sa = a.stats();
    const sb = b.stats();
    expect(sa.driver).toMatchObject({ txPackets: 1000, rxPackets: 1000, hwTxGood: 1000, hwRxGood: 1000 });
    expect(sb.driver).toMatchObject({ txPackets: 1000, rxPackets: 1000 });
  });
});
