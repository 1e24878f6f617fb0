// Tests of the @NAME@ sound driver (written by `nooks new @NAME@ --class
// sound`), with Node's own test runner: `node --test @NAME@/@NAME@.test.mjs`.
// Build the driver first: `npx nooks build @SOURCE@ -o build/@NAME@.so`.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Kernel, openPcm, pcmDevices } from 'nooks';

const so = fileURLToPath(new URL('../build/@NAME@.so', import.meta.url)); // not .pathname: a space in the path is %20 there
const dir = mkdtempSync(join(tmpdir(), '@NAME@-'));
const played = join(dir, 'played.wav');         // the device writes what it plays here
const RATE = 16000;
let kernel;
let driver;
let pcm;

/** A mono 16-bit tone of `frames` frames. */
function tone(frames, freq = 440) {
  const b = Buffer.alloc(frames * 2);
  for (let i = 0; i < frames; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * freq * i) / RATE)), i * 2);
  return b;
}
/** The samples the device wrote to its WAV file (after the 44-byte header), from byte `from` on. */
const playedSamples = (from = 0) => readFileSync(played).subarray(44 + from);

before(async () => {
  kernel = await Kernel.boot();                  // isolation 'auto': pkey where the CPU has it, else mprotect
  pcm = kernel.addDevice('pcm', { playback: played }).name;  // pcm0: playback only (no capture file)
  driver = await kernel.load(so);                // probes pcm0
  assert.deepEqual(pcmDevices(kernel), [{ name: pcm, driver: driver.name, playback: true, capture: false }]);
});
after(async () => {
  await kernel?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

test('plays frames at the device\'s pace: the WAV holds them all', async () => {
  const frames = tone(RATE / 5);                 // 0.2 s
  const p = openPcm(kernel, pcm, { rate: RATE, channels: 1 });
  const t0 = Date.now();
  await p.write(frames);
  await p.drain();
  assert.ok(Date.now() - t0 >= 150, 'played in real time');
  assert.equal(p.status().framesDone, RATE / 5);
  p.close();
  assert.deepEqual(playedSamples(), frames);
});

test('the driver is restarted mid-stream: the stream goes on, no frame lost or doubled', async () => {
  const frames = tone(RATE / 2, 330);            // 0.5 s
  const from = playedSamples().length;           // a stream of the same format goes on in the same file
  const p = openPcm(kernel, pcm, { rate: RATE, channels: 1 });
  await p.write(frames);
  while (p.status().framesDone < RATE / 10) await new Promise((r) => setTimeout(r, 5));
  driver.recover();                              // as if it had failed: torn down, restarted, the stream resumed
  await p.drain();
  assert.equal(p.status().framesDone, RATE / 2);
  p.close();
  assert.equal(driver.state, 'running');
  assert.deepEqual(playedSamples(from), frames);
});
