// snd_pcm_set_buffer (native/classes/sound/pcm_kapi.cc) takes as a stream's
// DMA ring only an area that is itself the driver's DMA memory: the class
// copies frames into it and the device walks it. Anything else is refused
// (-EINVAL, logged): the driver's heap, even when the driver's own VFIO IOMMU
// maps the heap's bus address onto DMA memory, where the check of the CPU
// address behind the area's bus address (before) took it. An address that is
// no memory of the driver's at all (past its DMA memory, a bus address) is a
// bad call, which fails the driver. A driver of the test's
// (test/fixtures/drivers/pcm-set-buffer.c) hands it each kind.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPcm, type DeviceInfo, type Driver, type PcmPlayback } from '../lib/index.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { suiteIsolation, until } from './helpers/util.js';

const EINVAL = -22;
const path = fixtureDriver('pcm-set-buffer', { posix: true });

describe('snd_pcm_set_buffer takes only the driver\'s DMA memory', () => {
  const kernel = kernelPerBlock({ isolation: suiteIsolation });
  const dir = mkdtempSync(join(tmpdir(), 'nooks-pcm-set-buffer-'));
  let held: DeviceInfo;
  let d: Driver;
  let stream: PcmPlayback;
  let ring: bigint;
  const refusals = () => kernel().log().filter((l) => l.text.includes('snd_pcm_set_buffer:') && l.text.includes('is not a DMA ring')).length;

  beforeAll(async () => {
    held = kernel().addDevice('testdev'); // a device the driver holds: its VFIO group (/dev/vfio/<its bus index>) goes into a container
    kernel().addDevice('pcm', { playback: join(dir, 'played.wav') });
    d = await kernel().load(path, { devices: [held.address] });
    stream = openPcm(kernel(), 'pcm0', { rate: 16000, channels: 1 }); // hw_params: the stream's runtime, the ring taken
    ring = BigInt(d.call('ring_address'));
  });
  afterAll(() => {
    stream?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('its DMA ring: taken', () => {
    expect(ring).toBeGreaterThan(0n);
    expect(d.call('set_buffer', ring)).toBe(0);
    expect(refusals()).toBe(0);
  });

  it('its heap: refused', () => {
    const heap = BigInt(d.call('heap_address'));
    expect(heap).toBeGreaterThan(0n);
    expect(d.call('set_buffer', heap)).toBe(EINVAL);
    expect(refusals()).toBe(1);
  });

  it('its heap where its VFIO IOMMU maps the heap\'s bus address onto its DMA memory: refused', () => {
    expect(d.call('alias_heap', d.cstring(`/dev/vfio/${held.index}`))).toBe(0);
    expect(d.objects().filter((o) => o.type === 'iova')).toHaveLength(1);
    // Before (the CPU address behind the area's bus address checked): 0, the heap taken as the ring.
    expect(d.call('set_buffer', BigInt(d.call('heap_address')))).toBe(EINVAL);
    expect(d.call('set_buffer', ring)).toBe(0); // the ring still is
    expect(refusals()).toBe(2);
    expect(d.state).toBe('running');
  });

  it('an address past its DMA memory, and the ring\'s bus address: no memory of the driver\'s, a bad call that fails it', async () => {
    const bus = BigInt(d.call('ring_bus_address'));
    for (const area of [ring + (1n << 30n), bus]) {
      expect(() => d.call('set_buffer', area)).toThrow(`nooks_snd_pcm_set_buffer(area=0x${area.toString(16)}): pointer outside the driver's writable memory`);
      await until(() => d.state === 'running', 'the driver restarted');
    }
  });
});

// The ring goes with the registration: the open ends 'device gone' and the driver's stream is closed again
// (before: EIO 'hw_params gave no DMA ring'; with the ring's loss taken for the driver's failure, not closed).
describe('a pcm its running driver unregisters during an open', () => {
  const kernel = kernelPerBlock({ isolation: suiteIsolation });
  const dir = mkdtempSync(join(tmpdir(), 'nooks-pcm-unregister-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the open fails ENODEV, and the driver\'s stream is closed', async () => {
    kernel().addDevice('pcm', { playback: join(dir, 'played.wav') });
    const d = await kernel().load(path);
    expect(d.call('unregister_at_next_hw_params')).toBe(0);
    expect(() => openPcm(kernel(), 'pcm0', { rate: 16000, channels: 1 })).toThrow('pcm0: device gone (unregistered by its driver)');
    expect(d.call('open_streams')).toBe(0);
    expect(d.state).toBe('running');
  });
});
