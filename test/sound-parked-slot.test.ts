// A stream the sound shadow parked waits for its own driver: the rule that
// ends it once that driver runs again (2 s) without having registered the pcm
// again looks at that driver's load only (its serial), never at a driver
// loaded later into the slot it left. A fallback driver is loaded before its
// predecessor is unloaded, so it never has that slot: here the fallback
// registers no pcm, and an unrelated driver takes the freed slot and runs
// past the rule's 2 s. Before, the stream ended then, with ENODEV naming that
// driver as the one that 'restarted without registering it again'. Nor does
// that driver's unload end it: a give-up ends what its own load parked
// (before, it ended every parked pcm of its slot, with its own reason).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { defaultPolicy, DriverFault, Kernel, openPcm } from '../lib/index.js';
import { tone } from '../lib/apps/wav.js';
import { fallbackTo, suiteIsolation, until } from './helpers/util.js';

const RATE = 16000;
const REREGISTER_LIMIT_MS = 2000; // the rule's time (native/classes/sound/pcm_stream.cc, kReregisterLimit)

let kernel: Kernel | undefined;
const dir = mkdtempSync(join(tmpdir(), 'nooks-sound-parked-slot-'));
afterEach(async () => {
  await kernel?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

it('a parked stream is not ended by a later driver that took its failed driver\'s slot, nor by its unload', async () => {
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
  await new Promise((r) => setTimeout(r, REREGISTER_LIMIT_MS + 500));
  expect(later.state).toBe('running');
  expect(stream.status()).toMatchObject({ restarting: true, error: null });
  later.unload(); // its give-up: nothing of pcm's load
  expect(stream.status()).toMatchObject({ restarting: true, error: null });
  stream.close();
}, 20_000);
