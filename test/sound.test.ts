// The sound class end to end: the emulated PCM device (native/classes/sound/
// pcm_device.cc), its driver (drivers/pcm), the class's kernel side and the
// applications' API (lib/classes/sound.ts, lib/apps/player.ts, recorder.ts).
// Runs in the default isolation.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPolicy, Kernel, PcmError, openCapture, openPcm, pcmDevices, type Driver } from '../lib/index.js';
import { play } from '../lib/apps/player.js';
import { record } from '../lib/apps/recorder.js';
import { readWav, tone, writeWav } from '../lib/apps/wav.js';
import { packageRoot } from '../lib/paths.js';
import { errorOf, runNode, until, suiteIsolation } from './helpers/util.js';

const RATE = 16000;

/** Sign changes of a mono S16 signal. */
function zeroCrossings(b: Buffer): number {
  let n = 0;
  for (let i = 2; i + 1 < b.length; i += 2) if ((b.readInt16LE(i - 2) < 0) !== (b.readInt16LE(i) < 0)) n++;
  return n;
}

describe('the sound class: PCM playback and capture through an isolated driver', () => {
  let kernel: Kernel;
  let drv: Driver;
  let dir: string;
  let played: string;
  let source: Buffer;
  /** The samples the device wrote since `fromBytes` of the WAV's data. */
  const wavTail = (fromBytes: number) => readWav(played).data.subarray(fromBytes);
  const wavBytes = () => readWav(played).data.length;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nooks-sound-'));
    played = join(dir, 'played.wav');
    source = tone(8000, 1, 1000, 0.5, 0.3);
    writeWav(join(dir, 'source.wav'), 8000, 1, source);
    kernel = await Kernel.boot({
      isolation: suiteIsolation,
      policy: { default: { ...defaultPolicy.default, shadow: false, maxFailures: 100, timeBudgetMs: 2_000, memLimitBytes: 16 << 20 }, drivers: new Map() },
    });
    expect(kernel.addDevice('pcm', { playback: played, capture: join(dir, 'source.wav') })).toMatchObject({ name: 'pcm0', kind: 'pcm' });
    drv = await kernel.load('pcm');
  });
  afterAll(async () => {
    await kernel.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the driver registers pcm0 with the class, tracked as a pcm object', () => {
    expect(pcmDevices(kernel)).toEqual([{ name: 'pcm0', driver: 'pcm', playback: true, capture: true }]);
    expect(drv.objects().map((o) => o.type)).toContain('pcm');
  });

  it('plays a 440 Hz tone: the WAV holds it at the right rate and length, paced by the wall clock', async () => {
    const r = await play(kernel, { rate: RATE, channels: 1, freq: 440, seconds: 0.3 });
    expect(r).toMatchObject({ app: 'player', ok: true, device: 'pcm0', frames: 4800 });
    expect(r.elapsedMs).toBeGreaterThanOrEqual(250); // real time, not instantaneous
    expect(r.elapsedMs).toBeLessThan(2000);
    const w = readWav(played);
    expect({ rate: w.rate, channels: w.channels, bits: w.bits }).toEqual({ rate: RATE, channels: 1, bits: 16 });
    expect(w.frames).toBe(4800); // frames written == frames in the file: no silence invented
    expect(statSync(played).size).toBe(44 + 4800 * 2); // the header's sizes were fixed up
    expect(zeroCrossings(w.data)).toBeGreaterThanOrEqual(2 * 440 * 0.3 - 3);
    expect(zeroCrossings(w.data)).toBeLessThanOrEqual(2 * 440 * 0.3 + 3);
    expect(w.data.equals(tone(RATE, 1, 440, 0.3))).toBe(true); // sample for sample
    expect(Number(drv.call('irqs'))).toBeGreaterThanOrEqual(4); // period interrupts (20 ms periods)
  });

  it('writes in small batches too, and volume and mute scale the samples', async () => {
    const t = tone(RATE, 1, 440, 0.1);
    let from = wavBytes();
    expect(await play(kernel, { rate: RATE, channels: 1, freq: 440, seconds: 0.1, volume: 50, chunkFrames: 100 })).toMatchObject({ ok: true, frames: 1600 });
    const half = wavTail(from);
    expect(half.length).toBe(t.length);
    for (let i = 0; i < t.length; i += 2) expect(half.readInt16LE(i)).toBe(Math.trunc((t.readInt16LE(i) * 50) / 100));
    from = wavBytes();
    expect(await play(kernel, { rate: RATE, channels: 1, freq: 440, seconds: 0.1, muted: true })).toMatchObject({ ok: true, frames: 1600 });
    const muted = wavTail(from);
    expect(muted.length).toBe(t.length);
    expect(muted.every((b) => b === 0)).toBe(true);
    // the mixer is the device's: it stays as set for the next stream
    const p = openPcm(kernel, 'pcm0', { rate: RATE, channels: 1 });
    try {
      expect(p.setVolume(30)).toEqual({ volume: 30, muted: true });
      expect(p.mute(false)).toEqual({ volume: 30, muted: false });
    } finally {
      p.close();
    }
  });

  it('the recorder reads the capture WAV back; the player plays a WAV track', async () => {
    const r = await record(kernel, { rate: 8000, channels: 1, seconds: 0.25 });
    expect(r).toMatchObject({ app: 'recorder', ok: true, frames: 2000 });
    expect(r.elapsedMs).toBeGreaterThanOrEqual(200);
    expect(r.data!.equals(source.subarray(0, 4000))).toBe(true);
    // and the player plays a WAV track: a new format starts a new file on the device
    const p = await play(kernel, { track: join(dir, 'source.wav') });
    expect(p).toMatchObject({ ok: true, frames: 4000 });
    const w = readWav(played);
    expect({ rate: w.rate, frames: w.frames }).toEqual({ rate: 8000, frames: 4000 });
    expect(w.data.equals(source)).toBe(true);
  });

  it('the data path is batched: JavaScript hears of a stream a few times, not once per period', async () => {
    const p = openPcm(kernel, 'pcm0', { rate: RATE, channels: 1, periodFrames: 160 }); // 10 ms periods
    try {
      const irqs = Number(drv.call('irqs'));
      await p.write(tone(RATE, 1, 440, 1)); // more than the kernel's queue holds (0.5 s): waits for room once or twice
      await p.drain();
      expect(p.status().framesDone).toBe(RATE);
      expect(Number(drv.call('irqs')) - irqs).toBeGreaterThanOrEqual(80); // ~100 period interrupts...
      expect(p.events).toBeLessThanOrEqual(4); // ...and a handful of JavaScript wakeups
    } finally {
      p.close();
    }
    const c = openCapture(kernel, 'pcm0', { rate: 8000, channels: 1, periodFrames: 80 });
    try {
      expect((await c.read(2000)).equals(source.subarray(0, 4000))).toBe(true);
      expect(c.events).toBeLessThanOrEqual(2);
    } finally {
      c.close();
    }
  });

  // Before: drain() asked the kernel only. Frames of a write still waiting for room in the kernel's queue (its
  // event not yet run) are not there: the drain ended on what the kernel had, the rest stayed unplayed.
  it('drain() waits for writes still waiting for room: every frame written has been played when it resolves', async () => {
    const from = existsSync(played) ? wavBytes() : 0; // the device makes the file at its first playback
    const p = openPcm(kernel, 'pcm0', { rate: RATE, channels: 1 });
    try {
      const t = tone(RATE, 1, 440, 1); // more than the kernel's queue holds: the rest waits in the write for room
      const written = p.write(t);
      // Keep the event loop from running until the device has played all the kernel held: the write cannot refill it.
      const bound = Date.now() + 10_000;
      while (p.status().framesDone === 0 || p.status().framesQueued + p.status().framesInRing > 0) if (Date.now() > bound) break;
      expect(p.status().framesDone).toBeLessThan(RATE);
      await p.drain();
      expect(p.status().framesDone).toBe(RATE);
      await written;
      expect(wavTail(from).equals(t)).toBe(true);
    } finally {
      p.close();
    }
  });

  it('bad input is refused with clear errors', async () => {
    const code = (f: () => unknown) => errorOf(f, PcmError).code;
    expect(code(() => openPcm(kernel, 'pcm9', { rate: RATE, channels: 1 }))).toBe('ENODEV');
    expect(code(() => openPcm(kernel, 'pcm0', { rate: 3, channels: 1 }))).toBe('EINVAL');
    expect(code(() => openPcm(kernel, 'pcm0', { rate: RATE, channels: 9 }))).toBe('EINVAL');
    // the capture file is 8000 Hz: the device refuses to start at 16000, the driver says so
    expect(code(() => openCapture(kernel, 'pcm0', { rate: RATE, channels: 1 }))).toBe('EIO');
    const p = openPcm(kernel, 'pcm0', { rate: RATE, channels: 1 });
    try {
      expect(code(() => openPcm(kernel, 'pcm0', { rate: RATE, channels: 1 }))).toBe('EBUSY');
      await expect(p.write(Buffer.alloc(3))).rejects.toMatchObject({ code: 'EINVAL' });
      expect(code(() => p.setVolume(101))).toBe('EINVAL');
    } finally {
      p.close();
    }
    await expect(p.write(Buffer.alloc(2))).rejects.toMatchObject({ code: 'EBADF' });
    expect(drv.state).toBe('running');
  });

  it('a driver recovery ends the stream with "device gone", not a hang; the restarted driver plays again', async () => {
    const recoveries = kernel.domains().find((d) => d.name === 'pcm')!.recoveries;
    const p = openPcm(kernel, 'pcm0', { rate: RATE, channels: 1 });
    const writing = p.write(tone(RATE, 1, 440, 2)).then(() => p.drain());
    await until(() => p.status().framesDone > 800, 'playback under way');
    const t0 = Date.now();
    drv.recover();
    await expect(writing).rejects.toMatchObject({ name: 'PcmError', code: 'ENODEV', message: expect.stringContaining('pcm0') });
    expect(Date.now() - t0).toBeLessThan(1000);
    p.close();
    expect(kernel.domains().find((d) => d.name === 'pcm')!.recoveries).toBe(recoveries + 1);
    await until(() => pcmDevices(kernel).length === 1, 'pcm0 registered again');
    expect(await play(kernel, { rate: RATE, channels: 1, freq: 440, seconds: 0.1 })).toMatchObject({ ok: true, frames: 1600 });
  });

  it('a driver that lies about the hardware position is failed and restarted; the player reports it', async () => {
    drv.call('lie_about_pointer');
    const r = await play(kernel, { rate: RATE, channels: 1, freq: 440, seconds: 0.5 });
    expect(r).toMatchObject({ ok: false, error: { code: 'ENODEV' } });
    await until(() => drv.state === 'running' && pcmDevices(kernel).length === 1, 'the driver restarted');
    expect(kernel.events().filter((e) => e.event === 'fault').at(-1)).toMatchObject({ driver: 'pcm', fault: { kind: 'bad-call', message: expect.stringContaining('2147483647') } }); // names the value
    expect(await play(kernel, { rate: RATE, channels: 1, freq: 440, seconds: 0.1 })).toMatchObject({ ok: true, frames: 1600 });
  });

  it('unloading the driver ends open streams; the device is then not ready', async () => {
    const p = openPcm(kernel, 'pcm0', { rate: RATE, channels: 1 });
    const writing = p.write(tone(RATE, 1, 440, 2)).then(() => p.drain());
    await until(() => p.status().framesDone > 0, 'playback under way');
    drv.unload();
    await expect(writing).rejects.toMatchObject({ code: 'ENODEV', message: expect.stringContaining('pcm0') });
    p.close();
    expect(pcmDevices(kernel)).toEqual([]);
    expect(() => openPcm(kernel, 'pcm0', { rate: RATE, channels: 1 })).toThrow(expect.objectContaining({ code: 'ENOTREADY', message: expect.stringContaining('pcm0') }));
  });
});

describe('the sound applications on the command line', () => {
  // Each program's start: 3.5-11 s in the pkey guest (TCG) on a loaded machine, over 20 s once (the player,
  // while the rest of the suite ran beside the guest): as serial.test.ts's programs, 40 s each.
  const kProgramMs = 40_000;
  it('the player and the recorder report success and failure as one JSON line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nooks-sound-cli-'));
    try {
      const out = join(dir, 'out.wav');
      const p = await runNode([join(packageRoot, 'dist/lib/apps/player.js'), '--out', out, '--rate', '8000', '--seconds', '0.2'], dir, kProgramMs);
      expect(p.code).toBe(0);
      expect(JSON.parse(p.stdout.trim())).toMatchObject({ app: 'player', ok: true, device: 'pcm0', frames: 1600 });
      expect(readWav(out).frames).toBe(1600);
      const r = await runNode([join(packageRoot, 'dist/lib/apps/recorder.js'), '--in', out, '--out', join(dir, 'rec.wav'), '--seconds', '0.1'], dir, kProgramMs);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout.trim())).toMatchObject({ app: 'recorder', ok: true, frames: 800 });
      expect(readWav(join(dir, 'rec.wav')).data.equals(readWav(out).data.subarray(0, 1600))).toBe(true);
      // a kernel shut down under a playing stream: the application gets its error and the process exits
      const script = `
        import { Kernel, openPcm } from ${JSON.stringify(join(packageRoot, 'dist/lib/index.js'))};
        const k = await Kernel.boot({ isolation: ${JSON.stringify(suiteIsolation)} });
        k.addDevice('pcm', { playback: ${JSON.stringify(join(dir, 'cut.wav'))} });
        await k.load('pcm');
        const p = openPcm(k, 'pcm0', { rate: 8000, channels: 1 });
        const w = p.write(Buffer.alloc(8000 * 2 * 3)).then(() => p.drain()).catch((e) => console.log(e.code));
        const underWay = setInterval(() => { // the stream under way (0.1 s played), then the kernel goes
          if (p.status().framesDone <= 800) return;
          clearInterval(underWay);
          void k.shutdown();
        }, 5);
        await w;`;
      const cut = await runNode(['--input-type=module', '-e', script], dir, kProgramMs); // exits, within kProgramMs
      expect({ code: cut.code, stdout: cut.stdout.trim() }).toEqual({ code: 0, stdout: 'ENODEV' });
      const bad = await runNode([join(packageRoot, 'dist/lib/apps/recorder.js'), '--in', join(dir, 'missing.wav'), '--out', join(dir, 'x.wav')], dir, kProgramMs);
      expect(bad.code).toBe(1);
      expect(JSON.parse(bad.stdout.trim())).toMatchObject({ app: 'recorder', ok: false, error: { message: expect.stringMatching(/missing\.wav/) } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 4 * kProgramMs + 10_000);
});
