// The emulated pcm device moves a stream's frames by DMA outside its lock's
// planning step; a reset (its driver's recovery or unload tears the device
// down) outdates what was planned before, and that DMA must not run after:
// it would reach the memory of a driver that let go of the device (the
// restarted driver's by then, or freed). A test hook (pcmHoldDma) holds the
// next planned DMA until the driver has let go of the device; the driver is
// then unloaded. Before, the held DMA ran anyway and, bound to no driver by
// then, was a device error ('DMA write of ... outside any driver's DMA memory').
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { Kernel, openCapture } from '../lib/index.js';
import { tone, writeWav } from '../lib/apps/wav.js';
import { pcmHoldDma } from '../lib/testing.js';
import { logEvents, suiteIsolation, until } from './helpers/util.js';

const RATE = 16000;

let kernel: Kernel | undefined;
const dir = mkdtempSync(join(tmpdir(), 'nooks-pcm-dma-reset-'));
afterEach(async () => {
  await kernel?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

it('a DMA the device planned before its driver let go of it does not run after', async () => {
  writeWav(join(dir, 'source.wav'), RATE, 1, tone(RATE, 1, 440, 2));
  kernel = await Kernel.boot({ isolation: suiteIsolation });
  kernel.addDevice('pcm', { capture: join(dir, 'source.wav') });
  const driver = await kernel.load('pcm');
  const capture = openCapture(kernel, 'pcm0', { rate: RATE, channels: 1 });
  expect(pcmHoldDma('pcm0')).toBe(true);
  await until(() => logEvents(kernel!, 'test-dma-held').length === 1, 'the capture engine\'s next DMA, held', 5_000);

  driver.unload();
  await until(() => logEvents(kernel!, 'test-dma-hold-passed').length === 1, 'the held DMA\'s step to be over', 5_000);
  expect(logEvents(kernel, 'device-error')).toEqual([]);
  expect(kernel.devices().find((d) => d.name === 'pcm0')?.errors).toBe(0);
  capture.close();
}, 20_000);
