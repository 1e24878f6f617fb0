// A stream the sound shadow parked waits for its driver's load: the failed
// driver's, or, once a fallback driver takes its place, the fallback's
// (native/shadow): the rule that ends it once that driver has run for 2 s
// without registering the pcm, and a give-up, look at that load only (its
// serial), never at a driver loaded later into the slot the failed one left.
// A fallback driver is loaded before its predecessor is unloaded, so it never
// has that slot: here the fallback registers no pcm, and an unrelated driver
// takes the freed slot. Its unload ends nothing (before, a give-up ended every
// parked pcm of its slot, with its own reason); the stream ends by the
// fallback's 2 s, naming the fallback (before, the rule watched the slot, and
// named that driver as the one that 'restarted without registering it again').
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { defaultPolicy, DriverFault, Kernel, openPcm } from '../lib/index.js';
import { tone } from '../lib/apps/wav.js';
import { fallbackTo, suiteIsolation, until } from './helpers/util.js';

const RATE = 16000;

let kernel: Kernel | undefined;
const dir = mkdtempSync(join(tmpdir(), 'nooks-sound-parked-slot-'));
afterEach(async () => {
  await kernel?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

it('a parked stream is not ended by a later driver that took its failed driver\'s slot, nor by its unload, but by the fallback\'s 2 s', async () => {
  kernel = await Kernel.boot({
    isolation: suiteIsolation,
    policy: { default: defaultPolicy.default, drivers: new Map([['pcm', { ...fallbackTo('null'), shadow: true }]]) },
  });
  kernel.addDevice('pcm', { playback: join(dir, 'played.wav') });
  const pcm = await kernel.load('pcm');
  const slot = pcm.id;
  const stream = openPcm(kernel, 'pcm0', { rate: RATE, channels: 1 });
  await stream.write(tone(RATE, 1, 440, 0.4));
  await until(() => stream.status().running, 'the stream to start');
  try {
    pcm.call('crash_next_pointer');
  } catch (e) {
    if (!(e instanceof DriverFault)) throw e; // the stream's thread met the bug first
  }
  await until(() => kernel!.events().some((e) => e.event === 'fallback'), 'the fallback driver in place of pcm', 10_000);
  expect(pcm.id).not.toBe(slot);
  expect(stream.status()).toMatchObject({ restarting: true, error: null });

  const later = await kernel.load('ticker');
  expect(later.id).toBe(slot);
  later.unload(); // its give-up: nothing of pcm's load (if the fallback's 2 s ended it meanwhile, that names the fallback)
  expect(stream.status().error ?? '').not.toContain('ticker');
  const again = await kernel.load('ticker');
  expect(again.id).toBe(slot);
  // waits for the fallback's 2 s (a slow machine only delays this), while ticker runs in the failed driver's slot
  await until(() => stream.status().error !== null, 'the fallback\'s rule to end the stream', 10_000);
  expect(stream.status()).toMatchObject({ restarting: true, error: 'pcm0: device gone (fallback null.so of driver pcm ran without registering it)' });
  expect(again.state).toBe('running');
  stream.close();
}, 20_000);
