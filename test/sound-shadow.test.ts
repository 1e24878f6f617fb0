// The sound class's shadow driver (native/shadow, native/classes/sound): a
// shadowed pcm driver fails and is restarted under a stream that stays open.
// The stream is parked meanwhile (writes queue, drain() and read() wait, the
// mixer is recorded) and then goes on from the frame the hardware got to. The
// device model writes what it plays to a WAV file (no silence invented, for a
// cut as for any underrun) and logs each cut: where, and how long the output
// was silent (the audible gap). The WAV must be exactly the frames written,
// each once, in order, at the volume set. A deterministic bug (back after
// every restart) ends with the policy giving up and the stream failing with
// the reason.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultPolicy, DriverFault, Kernel, type DriverPolicy, openCapture, openPcm, PcmError, type Driver, type PcmCapture, type PcmPlayback, type PcmStatus } from '../lib/index.js';
import { play } from '../lib/apps/player.js';
import { record } from '../lib/apps/recorder.js';
import { readWav, tone, writeWav } from '../lib/apps/wav.js';
import { holdTeardown, pcmHoldDownCrossing, pcmHoldRegister, pcmHoldRestore, releaseTeardown } from '../lib/testing.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { logFromNow } from './helpers/left-running.js';
import { ProgressFaults } from './helpers/progress-faults.js';
import { fallbackTo, logEvents, recoveries, streamsByProgress, suiteIsolation, until, untilProgress } from './helpers/util.js';

streamsByProgress();

const RATE = 16000;
const PERIOD = 320; // frames: openPcm's default period (20 ms)
const RING = 4 * PERIOD; // frames: openPcm's default ring (4 periods)
const QUEUE = RATE / 2; // frames: the kernel's queue for such a stream (the larger of four rings and half a second)

/** Mono S16 samples scaled by the device's volume (it truncates, as C does). */
function scaled(b: Buffer, volume: number): Buffer {
  const out = Buffer.alloc(b.length);
  for (let i = 0; i < b.length; i += 2) out.writeInt16LE(Math.trunc((b.readInt16LE(i) * volume) / 100), i);
  return out;
}

function peak(b: Buffer): number {
  let m = 0;
  for (let i = 0; i < b.length; i += 2) m = Math.max(m, Math.abs(b.readInt16LE(i)));
  return m;
}

/** A cut the device logged: playback resumed at frame `at` of the WAV after `ms` of silence. */
interface Cut {
  at: number;
  ms: number;
}

describe('the sound shadow driver', () => {
  let kernel: Kernel;
  let drv: Driver;
  let dir: string;
  let played: string;
  let source: Buffer;
  const cuts = (): Cut[] =>
    logEvents(kernel, 'playback-resumed').filter((e) => e.device === 'pcm0').map((e) => ({ at: e.frame as number, ms: e.cutMs as number }));

  const boot = async (shadow: boolean, policy: DriverPolicy = { ...defaultPolicy.default, maxFailures: 4 }) => {
    kernel = await Kernel.boot({
      isolation: suiteIsolation,
      policy: { default: { ...policy, shadow, memLimitBytes: 16 << 20 }, drivers: new Map() },
    });
    kernel.addDevice('pcm', { playback: played, capture: join(dir, 'source.wav') });
    drv = await kernel.load('pcm');
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nooks-sound-shadow-'));
    played = join(dir, 'played.wav');
    source = tone(RATE, 1, 1000, 1, 0.3);
    writeWav(join(dir, 'source.wav'), RATE, 1, source);
    await boot(true);
  });
  afterEach(async () => {
    releaseTeardown(); // a test that failed while a teardown waited
    await kernel?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  // A stream playing `t` at volume 80: its first 6000 frames written, 2000 of them played.
  const playingAt80 = async (t: Buffer): Promise<PcmPlayback> => {
    const p = openPcm(kernel, 'pcm0', { rate: RATE, channels: 1 });
    p.setVolume(80);
    await p.write(t.subarray(0, 6000 * 2));
    await until(() => p.status().framesDone >= 2000, 'playback under way');
    return p;
  };

  // As a disk, a port or an interface can be opened while its driver restarts (before, ENOTREADY).
  it('a stream opened while its driver restarts is set up on the restarted driver: it plays, and captures', async () => {
    let streams: { p: PcmPlayback; c: PcmCapture; during: PcmStatus } | undefined;
    kernel.once('recovering', () => {
      // the failed driver is torn down and not restarted yet: the shadow keeps pcm0
      const p = openPcm(kernel, 'pcm0', { rate: RATE, channels: 1 });
      const c = openCapture(kernel, 'pcm0', { rate: RATE, channels: 1 });
      streams = { p, c, during: p.status() };
    });
    drv.recover();
    const { p, c, during } = streams!;
    expect(during).toMatchObject({ restarting: true, running: false, error: null });
    const t = tone(RATE, 1, 440, 0.5);
    await p.write(t);
    await p.drain();
    expect(p.status()).toMatchObject({ framesDone: t.length / 2, restarting: false, error: null });
    expect((await c.read(2000)).length).toBe(4000);
    expect(c.status()).toMatchObject({ restarting: false, running: true, error: null });
    p.close();
    c.close();
    expect(recoveries(kernel)).toBe(1);
  });

  it('parks a stream while its driver restarts (writes queue up to the queue, the mixer is recorded) and goes on where the hardware stopped', async () => {
    const t = tone(RATE, 1, 440, 1.2);
    const p = await playingAt80(t);
    let during: { status: PcmStatus; queued: PcmStatus; mixer: { volume: number; muted: boolean } } | undefined;
    let rest: Promise<void> | undefined;
    kernel.once('recovering', () => {
      // the failed driver is torn down and not restarted yet: the shadow answers
      const status = p.status();
      rest = p.write(t.subarray(6000 * 2)); // takes what the queue holds now; the rest waits for room
      during = { status, queued: p.status(), mixer: p.setVolume(50) };
    });
    drv.recover();
    expect(during!.status).toMatchObject({ restarting: true, error: null });
    expect(during!.queued.framesQueued + during!.queued.framesInRing).toBe(QUEUE); // the bound
    expect(during!.mixer).toEqual({ volume: 50, muted: false }); // recorded, given to the restarted driver
    await rest;
    await p.drain();
    expect(p.status()).toMatchObject({ framesDone: t.length / 2, restarting: false, error: null });
    p.close();
    expect(recoveries(kernel)).toBe(1);
    expect(logEvents(kernel, 'shadow-kept')).toEqual([{ kind: 'shadow-kept', device: 'pcm0', driver: 'pcm', streams: 1 }]);
    const cs = cuts();
    expect(cs).toHaveLength(1);
    const { at } = cs[0];
    expect(at).toBeGreaterThanOrEqual(2000);
    const w = readWav(played);
    expect(w.frames).toBe(t.length / 2); // every frame written: none lost, none twice
    // each frame once, in order: at 80 until the cut, at 50 (set while parked) after it
    expect(w.data.equals(Buffer.concat([scaled(t.subarray(0, at * 2), 80), scaled(t.subarray(at * 2), 50)]))).toBe(true);
  });

  // The next pointer() faults. Arming it may itself be cut short by the driver failing on a stream's thread
  // (under a host process the fault ends every call in flight, this one too): that failure counts like the others.
  const armPointerCrash = (): void => {
    try {
      drv.call('crash_next_pointer');
    } catch (err) {
      if (!(err instanceof DriverFault)) throw err;
    }
  };

  // A stream's next pointer() faults, and that failure's teardown waits where holdTeardown holds it: the driver
  // failed, the pcm and its streams not parked yet.
  const failHeld = async () => {
    const logged = logFromNow(kernel);
    holdTeardown(drv);
    expect(drv.call('crash_next_pointer')).toBe(0);
    await until(() => logged('pcm: test hold').length > 0, 'the teardown to wait at the hold', 5_000);
    expect(drv.state).toBe('failed');
  };

  // Before, the mixer and the opens below failed there with ENODEV (device gone (driver pcm failed)).
  it('the mixer set after the failure, before its teardown parks the stream, is recorded: the restarted driver plays at it', async () => {
    const t = tone(RATE, 1, 440, 1.2);
    const p = await playingAt80(t);
    await failHeld();
    expect(p.status()).toMatchObject({ restarting: false, error: null }); // not parked yet
    expect(p.setVolume(50)).toEqual({ volume: 50, muted: false });
    releaseTeardown();
    await p.write(t.subarray(6000 * 2));
    await p.drain();
    expect(p.status()).toMatchObject({ framesDone: t.length / 2, restarting: false, error: null });
    p.close();
    expect(recoveries(kernel)).toBe(1);
    const cs = cuts();
    expect(cs).toHaveLength(1);
    const w = readWav(played);
    expect(w.frames).toBe(t.length / 2);
    // at 80 until the cut, at 50 (set while the failed driver waited for its teardown) after it
    expect(w.data.equals(Buffer.concat([scaled(t.subarray(0, cs[0].at * 2), 80), scaled(t.subarray(cs[0].at * 2), 50)]))).toBe(true);
  });

  it('a capture stream opened after the failure, before its teardown parks the pcm, is set up on the restarted driver', async () => {
    const p = openPcm(kernel, 'pcm0', { rate: RATE, channels: 1 });
    const t = tone(RATE, 1, 440, 0.6);
    await p.write(t);
    await until(() => p.status().framesDone >= 2000, 'playback under way');
    await failHeld();
    const c = openCapture(kernel, 'pcm0', { rate: RATE, channels: 1 });
    releaseTeardown();
    expect(await c.read(2000)).toEqual(source.subarray(0, 4000)); // from the start of the source: started by the restore
    expect(c.status()).toMatchObject({ restarting: false, running: true, error: null });
    await p.drain();
    expect(p.status()).toMatchObject({ framesDone: t.length / 2, error: null });
    c.close();
    p.close();
    expect(recoveries(kernel)).toBe(1);
  });

  it('a playback stream opened after the failure, before its teardown parks the pcm, plays on the restarted driver', async () => {
    const c = openCapture(kernel, 'pcm0', { rate: RATE, channels: 1 });
    await until(() => c.status().framesDone > 800, 'capture under way');
    await failHeld();
    const p = openPcm(kernel, 'pcm0', { rate: RATE, channels: 1 });
    releaseTeardown();
    const t = tone(RATE, 1, 440, 0.5);
    await p.write(t);
    await p.drain();
    expect(p.status()).toMatchObject({ framesDone: t.length / 2, restarting: false, error: null });
    expect(readWav(played).data.equals(t)).toBe(true); // all of it, once: its only engine was the restarted driver's
    p.close();
    c.close();
    expect(recoveries(kernel)).toBe(1);
  });

  // The failed driver's place taken by a fallback that registers pcm0 only after its init has returned (pcm-late:
  // from a work item, once the test lets it), and the stream's thread held from its crossing that found the driver
  // failed until that driver is unloaded (pcmHoldDownCrossing): the parked stream is the shadow's, and goes on on
  // the fallback's registration. Before, its thread ended it there ("pcm0: device gone (driver pcm failed: ...)"):
  // the failed driver gone, no longer shadowed, and the pcm not registered again yet.
  it('a stream whose thread finds its failed driver unloaded, a fallback registering the pcm later, plays on that fallback', async () => {
    await kernel.shutdown();
    const fallback = fixtureDriver('pcm-late'); // test/fixtures/drivers/pcm-late.c
    await boot(true, fallbackTo(fallback));
    const t = tone(RATE, 1, 440, 1.2);
    const p = await playingAt80(t);
    pcmHoldDownCrossing('pcm0');
    armPointerCrash(); // the stream's next pointer() faults: its crossing finds the driver failed
    await until(() => logEvents(kernel, 'test-down-hold-passed').length > 0, 'the held stream to decide', 15_000);
    expect(kernel.events().map((e) => e.event)).toEqual(['fault', 'recovering', 'fallback']);
    expect(drv.path).toBe(fallback);
    expect(p.status()).toMatchObject({ restarting: true, error: null }); // parked, waiting for the fallback's registration
    expect(logEvents(kernel, 'test-down-hold-passed')).toEqual([{ kind: 'test-down-hold-passed', device: 'pcm0', ended: false }]);
    // The registration (the fallback's work item, the driver running) returns to the driver only once the stream's
    // restore is over: before, that restore's snd_pcm_set_buffer could come before the registration had made the pcm
    // the fallback's, which failed it (bad-call: "not a pcm object the driver holds"; the guest's starved vCPUs).
    pcmHoldRegister('pcm0');
    expect(drv.call('register_pcm')).toBe(1);
    await p.write(t.subarray(6000 * 2));
    await p.drain();
    expect(p.status()).toMatchObject({ framesDone: t.length / 2, restarting: false, error: null });
    p.close();
    expect(logEvents(kernel, 'test-register-held')).toEqual([{ kind: 'test-register-held', device: 'pcm0' }]);
    expect(kernel.events().map((e) => e.event)).toEqual(['fault', 'recovering', 'fallback']);
    const cs = cuts();
    expect(cs).toHaveLength(1);
    const w = readWav(played);
    expect(w.frames).toBe(t.length / 2);
    expect(w.data.equals(scaled(t, 80))).toBe(true); // each frame once, in order, the volume given to the fallback
  });

  // The fallback is the last: its own failure disables the driver, and the stream's error says how the fallback
  // failed (before: only that it did, "failed too: there is no other").
  it('a stream on a fallback that faults in turn ends with an error that names the fallback\'s fault', async () => {
    await kernel.shutdown();
    const fallback = fixtureDriver('pcm-late');
    await boot(true, fallbackTo(fallback));
    const t = tone(RATE, 1, 440, 1.2);
    const p = await playingAt80(t);
    armPointerCrash();
    await until(() => kernel.events().some((e) => e.event === 'fallback'), 'the fallback in place');
    expect(drv.call('register_pcm')).toBe(1);
    await until(() => !p.status().restarting, 'the stream restored on the fallback');
    const frames = p.status().framesDone;
    await until(() => p.status().framesDone > frames, 'the fallback playing');
    armPointerCrash(); // the fallback's own pointer() faults now
    await expect(p.write(t.subarray(6000 * 2))).rejects.toMatchObject({
      message: expect.stringContaining(`its fallback driver ${fallback}, in its place, failed too (segv: segmentation fault at address 0x0 in pcm-late.so:`),
    });
    expect(kernel.events().map((e) => e.event)).toEqual(['fault', 'recovering', 'fallback', 'fault', 'recovering', 'disabled']);
  });

  it('the player plays a tone across drv.recover() while it drains: every frame once, its volume kept', async () => {
    const t = tone(RATE, 1, 440, 1.2);
    const irqs = Number(drv.call('irqs'));
    const playing = play(kernel, { rate: RATE, channels: 1, freq: 440, seconds: 1.2, volume: 50 });
    // 40 periods (0.8 s) in: the player has written it all (the queue holds 0.5 s) and waits in drain()
    await untilProgress(() => Number(drv.call('irqs')) >= irqs + 40, () => Number(drv.call('irqs')), 'playback under way'); // 0.8 s of real time: the guest's emulated CPU took over 5 s
    drv.recover();
    expect(await playing).toMatchObject({ app: 'player', ok: true, frames: t.length / 2 });
    expect(recoveries(kernel)).toBe(1);
    const cs = cuts();
    expect(cs).toHaveLength(1);
    const w = readWav(played);
    expect(w.frames).toBe(t.length / 2);
    expect(w.data.equals(scaled(t, 50))).toBe(true);
    // after the cut the samples are still at half amplitude: the volume survived the device's reset
    const after = w.data.subarray(cs[0].at * 2);
    expect(after.length).toBeGreaterThan(0);
    expect(peak(after)).toBe(peak(scaled(t.subarray(cs[0].at * 2), 50)));
    expect(peak(after)).toBeLessThanOrEqual(Math.ceil(32767 * 0.5 * 0.5));
  });

  it('three faults at random moments during one playback: it completes with every frame once', async () => {
    const t = tone(RATE, 1, 440, 1.5);
    // written a period at a time (75 writes; past the 25 the kernel's queue takes at once, each waits
    // for a period to play), the driver armed after a random number of them, and again after each recovery:
    // it faults when the class next asks where the hardware is
    const faults = new ProgressFaults(kernel, { faults: 3, from: QUEUE / PERIOD, between: [5, 15], arm: () => drv.call('crash_next_pointer') });
    const r = await play(kernel, { rate: RATE, channels: 1, freq: 440, seconds: 1.5, volume: 70, chunkFrames: PERIOD, onWritten: () => faults.advance() });
    faults.stop();
    expect(r, faults.describe()).toMatchObject({ ok: true, frames: t.length / 2 });
    expect(recoveries(kernel), faults.describe()).toBe(3);
    expect(kernel.events().filter((e) => e.event === 'fault').every((e) => e.fault?.kind === 'segv')).toBe(true);
    expect(cuts()).toHaveLength(3);
    const w = readWav(played);
    expect(w.frames).toBe(t.length / 2);
    expect(w.data.equals(scaled(t, 70))).toBe(true);
  });

  it('the nanny: a driver whose pointer stops moving (no fault) is failed after stallMs and the stream goes on', async () => {
    await kernel.shutdown();
    kernel = await Kernel.boot({ isolation: suiteIsolation, policy: { default: { ...defaultPolicy.default, stallMs: 300 }, drivers: new Map() } });
    kernel.addDevice('pcm', { playback: played });
    drv = await kernel.load('pcm');
    const t = tone(RATE, 1, 440, 1);
    // a few periods into playback (written a period at a time, 50 writes, 25 taken at once) pointer() starts
    // answering the same position
    const stall = new ProgressFaults(kernel, { faults: 1, from: QUEUE / PERIOD, between: [3, 10], arm: () => drv.call('freeze_pointer') });
    const r = await play(kernel, { rate: RATE, channels: 1, freq: 440, seconds: 1, volume: 100, chunkFrames: PERIOD, onWritten: () => stall.advance() });
    stall.stop();
    expect(r, stall.describe()).toMatchObject({ ok: true, frames: t.length / 2 });
    expect(kernel.events()[0]).toMatchObject({ event: 'fault', fault: { kind: 'stalled', message: expect.stringContaining('pcm0') } }); // the nanny names the device
    expect(recoveries(kernel)).toBe(1);
    const w = readWav(played);
    expect(w.frames).toBe(t.length / 2); // every frame once: the restarted driver reads the hardware again
    expect(w.data.equals(t)).toBe(true);
  });

  // stallMs is any positive integer: one of centuries (1e13 ms) is a nanny that never fires. Before, the nanny
  // compared it in the clock's nanoseconds, which overflowed: the stream was 'stalled' at once, again after each restart.
  it('the nanny: a stallMs of centuries never fails a driver that plays', async () => {
    await kernel.shutdown();
    kernel = await Kernel.boot({ isolation: suiteIsolation, policy: { default: { ...defaultPolicy.default, stallMs: 1e13 }, drivers: new Map() } });
    kernel.addDevice('pcm', { playback: played });
    drv = await kernel.load('pcm');
    const r = await play(kernel, { rate: RATE, channels: 1, freq: 440, seconds: 0.5 });
    expect(kernel.events()).toEqual([]);
    expect(r).toMatchObject({ ok: true, frames: RATE / 2 });
  });

  // The restarted driver registered the pcm again and handed it the parked streams, and failed again before a
  // stream's restore took that registration: the stream is parked on it, its pcm still the first one. Before,
  // closing it left the device busy for ever (EBUSY at every open) and a volume set then was lost. Which stream
  // the second failure catches before its restore is up to their threads (the first restore's pointer() faults),
  // so a few rounds, each on a fresh kernel.
  it('a stream closed or its volume set while parked on a second registration: the device opens again, the volume stays', async () => {
    for (let round = 0; round < 6; round++) {
      if (round > 0) {
        await kernel.shutdown();
        await boot(true);
      }
      const p = openPcm(kernel, 'pcm0', { rate: RATE, channels: 1 });
      const c = openCapture(kernel, 'pcm0', { rate: RATE, channels: 1 });
      const writing = p.write(tone(RATE, 1, 440, 3)).catch(() => undefined); // ended by the close below
      await until(() => p.status().framesDone > 800 && c.status().framesDone > 800, 'both streams under way', 5_000);
      const logged = logFromNow(kernel);
      drv.recover(); // parked, registered again by the restarted driver: both restores pending
      holdTeardown(drv, { afterRelease: true }); // the next failure's teardown waits once it parked the pcm
      armPointerCrash();
      await until(() => logged('pcm: test hold').length > 0, 'the second failure parked', 5_000);
      expect(p.setVolume(30)).toEqual({ volume: 30, muted: false });
      c.close();
      releaseTeardown();
      await until(() => drv.state === 'running' && !p.status().restarting, 'playback restored', 5_000);
      expect(p.mute(false), `round ${round}`).toEqual({ volume: 30, muted: false });
      expect(() => openCapture(kernel, 'pcm0', { rate: RATE, channels: 1 }).close(), `round ${round}`).not.toThrow();
      expect(recoveries(kernel)).toBe(2);
      p.close();
      await writing;
    }
  });

  it('gives up on a bug that is back after every restart: the parked stream ends with the reason, nothing hangs', async () => {
    const p = openPcm(kernel, 'pcm0', { rate: RATE, channels: 1 });
    const playing = p.write(tone(RATE, 1, 440, 2)).then(() => p.drain());
    await until(() => p.status().framesDone > 800, 'playback under way');
    kernel.on('recovered', armPointerCrash); // the bug survives the restart
    const t0 = Date.now();
    armPointerCrash();
    const e = await playing.then(() => null, (err: unknown) => err);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(e).toBeInstanceOf(PcmError);
    expect(e).toMatchObject({
      code: 'ENODEV',
      message: expect.stringMatching(
        /^pcm0: device gone \(the driver failed and will not be restarted: pcm failed 4 times within 60000 ms \(segv last\): its recovery policy gave up\)$/,
      ),
    });
    expect(recoveries(kernel)).toBe(3);
    expect(drv.state).toBe('disabled');
    expect(p.status().error).toBe((e as PcmError).message);
    p.close();
    // ended by the shadow: an open says so, as the stream did (before, ENOTREADY)
    expect(() => openPcm(kernel, 'pcm0', { rate: RATE, channels: 1 })).toThrow(expect.objectContaining({ code: 'ENODEV', message: (e as PcmError).message }));
  });

  it('the recorder records across a recovery: only what the failed driver\'s ring held is lost, nothing repeated', async () => {
    const irqs = Number(drv.call('irqs'));
    const recording = record(kernel, { rate: RATE, channels: 1, seconds: 0.5 });
    await until(() => Number(drv.call('irqs')) >= irqs + 10, 'capture under way', 5_000); // a loaded machine's start
    drv.recover();
    const r = await recording;
    expect(r).toMatchObject({ app: 'recorder', ok: true, frames: QUEUE });
    expect(recoveries(kernel)).toBe(1);
    expect(logEvents(kernel, 'shadow-restored')).toEqual([{ kind: 'shadow-restored', device: 'pcm0', stream: 'capture', frame: expect.any(Number), running: true }]);
    // frames the device had captured into the failed driver's ring and the class had not taken yet are gone with it
    const lostEvent = logEvents(kernel, 'capture-lost').find((e) => e.device === 'pcm0');
    const [lost, taken] = lostEvent ? [lostEvent.frames as number, lostEvent.after as number] : [0, 0];
    expect(lost).toBeLessThan(RING);
    expect(r.data!.equals(Buffer.concat([source.subarray(0, taken * 2), source.subarray((taken + lost) * 2, (QUEUE + lost) * 2)]))).toBe(true);
  });

  it('with shadow: false in the policy (plain Nooks), a recovery ends the stream with "device gone", as before', async () => {
    await kernel.shutdown();
    await boot(false);
    const p = openPcm(kernel, 'pcm0', { rate: RATE, channels: 1 });
    const playing = p.write(tone(RATE, 1, 440, 2)).then(() => p.drain());
    await until(() => p.status().framesDone > 800, 'playback under way');
    const t0 = Date.now();
    drv.recover();
    await expect(playing).rejects.toMatchObject({ name: 'PcmError', code: 'ENODEV', message: expect.stringContaining('pcm0') });
    expect(Date.now() - t0).toBeLessThan(1000);
    p.close();
    expect(logEvents(kernel, 'shadow-kept')).toEqual([]);
    expect(cuts()).toEqual([]);
    // the capture side too
    await until(() => drv.state === 'running', 'the driver restarted');
    const c = openCapture(kernel, 'pcm0', { rate: RATE, channels: 1 });
    const reading = c.read(RATE);
    await until(() => c.status().framesDone > 800, 'capture under way');
    drv.recover();
    await expect(reading).rejects.toMatchObject({ code: 'ENODEV' });
    c.close();
  });
  it('a pcmHoldRestore armed in a kernel that shut down does not hold a restore in the next kernel', async () => {
    pcmHoldRestore('pcm0'); // armed, and no restore takes it before the shutdown
    await kernel.shutdown();
    await boot(true);
    const p = openPcm(kernel, 'pcm0', { rate: RATE, channels: 1 });
    drv.recover();
    await until(() => logEvents(kernel, 'shadow-restored').length === 1, 'the stream restored');
    expect(logEvents(kernel, 'test-restore-held')).toEqual([]);
    const t = tone(RATE, 1, 440, 0.1);
    await p.write(t);
    await p.drain();
    expect(p.status()).toMatchObject({ framesDone: t.length / 2, error: null });
    p.close();
  });
});
