// The sound class, as applications see it: PCM playback and capture streams
// on the devices PCM drivers register (pcm0, ...), and their mixer.
//
// The data path stays in C++ (native/classes/sound/pcm_class.cc): write()
// hands a batch of frames (any number of periods) to the kernel's queue at
// once, and the kernel moves them into the driver's DMA ring as the hardware
// plays them; JavaScript only hears of progress, batched. A driver that fails
// ends the stream with a PcmError (code 'ENODEV', "device gone"), unless it is
// shadowed (its policy's `shadow`): then the stream is parked while the driver
// restarts (writes queue up to the kernel's queue, drain() and read() wait;
// a stream opened meanwhile starts parked)
// and goes on from where the hardware stopped once the restarted driver has
// registered the device again; it ends with 'ENODEV' and the reason if the
// policy gives up, or the driver runs 2 s without registering it again. A device that stops moving ends it with 'ETIMEDOUT': never
// a hang.
import { onKernelShutdown, type Kernel } from '../kernel.js';
import { native } from '../native.js';
import type { PcmEvent } from '../wrappers/addon/sound.js';
import { ArgCheck } from './args.js';
import { classCall, WritesInOrder } from './common.js';

/** Frames are interleaved signed 16-bit little-endian samples. Each option an integer (else EINVAL naming it); one given as undefined is not given. */
export interface PcmOptions {
  /** Frames per second, 4000..192000. */
  rate: number;
  /** 1..8. */
  channels: number;
  /** Frames per period: the driver is interrupted once per period (default: rate / 50, 20 ms). */
  periodFrames?: number;
  /** Periods in the DMA ring (default 4). */
  periods?: number;
}

/** A PCM stream error: `code` is 'ENODEV' (no such device, or device gone), 'ENOTREADY', 'EBUSY', 'EINVAL', 'EIO', 'ETIMEDOUT', 'EBADF'. */
export class PcmError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'PcmError';
    this.code = code;
  }
}

export interface PcmStatus {
  /** Frames the hardware played (playback) or captured, since open. */
  framesDone: number;
  /** Frames waiting in the kernel's queue: written and not yet in the ring (playback), or captured and not yet read. */
  framesQueued: number;
  /** Frames in the driver's DMA ring not yet played. */
  framesInRing: number;
  running: boolean;
  /** Parked by the shadow driver while the device's driver restarts (false once the stream has failed: `error`). */
  restarting: boolean;
  error: string | null;
}

export interface PcmDevice {
  name: string;
  driver: string;
  playback: boolean;
  capture: boolean;
}

const wrap = <T>(f: () => T): T => classCall(f, PcmError);

/** Checks of the arguments of a call about `device`: EINVAL naming it and the argument. */
const pcmArgs = (device: string) => new ArgCheck(device, (message) => new PcmError('EINVAL', message));

/** The options of an open of `name` by `call` (openPcm, openCapture), checked (the device checks their ranges): undefined ones are not given. */
function checkedOptions(call: string, name: unknown, o: unknown): { name: string; options: PcmOptions } {
  const device = pcmArgs(call).string(name, 'the device name');
  const arg = pcmArgs(device);
  const given = arg.settings(o, 'option', ['rate', 'channels', 'periodFrames', 'periods']);
  const optional = (key: string) => (given[key] === undefined ? undefined : arg.uint32(given[key], key));
  return {
    name: device,
    options: { rate: arg.uint32(given.rate, 'rate'), channels: arg.uint32(given.channels, 'channels'), periodFrames: optional('periodFrames'), periods: optional('periods') },
  };
}

/** The PCM devices drivers have registered. */
export function pcmDevices(_kernel: Kernel): PcmDevice[] {
  return native().pcmList();
}

/**
 * Test hook: the next DMA emulated pcm device `device` (e.g. 'pcm0') plans
 * waits, before it starts, until the driver has let go of the device (10 s at
 * most): a DMA in flight across the driver's teardown. Logs `test-dma-held`
 * when it waits and `test-dma-hold-passed` once that step is over. False if
 * there is no such device.
 */
export function pcmHoldDma(device: string): boolean {
  return native().pcmHoldDma(device);
}

/**
 * Test hook: the next shadow restore of a stream of pcm `device` waits,
 * before it writes the stream's runtime (host-object heap), until driver code
 * runs on another thread (under isolation 'mprotect': that heap read-only;
 * 10 s at most). Logs `test-restore-held` when it begins to wait and
 * `test-restore-hold-passed` (`driverRuns`: whether driver code ran) when it
 * goes on.
 */
export function pcmHoldRestore(device: string): void {
  native().pcmHoldRestore(device);
}

/**
 * Test hook: the next registration of pcm `device` that hands it streams the
 * shadow parked waits, before it returns to the driver, until their restore
 * onto it is over or the driver failed (10 s at most): the restore crosses
 * into the driver while the registration is still in the kernel (a driver
 * that registers from a work item, after its init). Logs `test-register-held`.
 */
export function pcmHoldRegister(device: string): void {
  native().pcmHoldRegister(device);
}

/**
 * Test hook: the next crossing of a stream of pcm `device` that finds the
 * pcm's driver down (failed, or unloaded) holds the stream's thread before it
 * decides whether that ends the stream, until that driver is unloaded (10 s at
 * most): across the failure's teardown, a fallback driver's load and the
 * failed driver's unload. Logs `test-down-held` when it begins to wait and
 * `test-down-hold-passed` once the stream has decided (`ended`: whether the
 * stream ended, or is the shadow's to restore or end).
 */
export function pcmHoldDownCrossing(device: string): void {
  native().pcmHoldDownCrossing(device);
}

/** The streams not closed yet. */
const openStreams = new Set<PcmStream>();
onKernelShutdown((why) => {
  for (const s of openStreams) s._shutDown(why);
});

/** What playback and capture streams share. */
export abstract class PcmStream {
  readonly name: string;
  readonly rate: number;
  readonly channels: number;
  readonly frameBytes: number;
  protected readonly handle: number;
  protected readonly arg: ArgCheck; // made once: write and read are on the data path
  protected error: PcmError | undefined;
  private closed = false;
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  protected constructor(deviceName: string, dir: 'playback' | 'capture', options: PcmOptions) {
    const { name, options: o } = checkedOptions(dir === 'playback' ? 'openPcm' : 'openCapture', deviceName, options);
    this.name = name;
    this.arg = pcmArgs(name);
    this.rate = o.rate;
    this.channels = o.channels;
    this.frameBytes = o.channels * 2;
    const period = o.periodFrames ?? Math.max(16, Math.round(o.rate / 50));
    this.handle = wrap(() => native().pcmOpen(name, dir, o.rate, o.channels, period, o.periods ?? 4, (e) => this.onEvent(e)));
    openStreams.add(this);
  }

  /** Times the kernel woke JavaScript for this stream (room, data, drained, error): a few per batch, not one per period. */
  events = 0;

  protected onEvent(e: PcmEvent): void {
    this.events++;
    if (e.type === 'error') this.error ??= new PcmError(e.code ?? 'EIO', e.message ?? `${this.name}: stream failed`);
    this.wake();
  }

  /** @internal the kernel was shut down: the stream fails (close() still gives its handle back) */
  _shutDown(why: string): void {
    this.kernelDown = true;
    this.error ??= new PcmError('ENODEV', `${this.name}: ${why}`);
    this.wake();
  }

  private kernelDown = false;

  /** Resolves at the next event (progress, data, drained) and rejects on a stream error. */
  protected nextEvent(): Promise<void> {
    this.check();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) {
      if (this.error) x.reject(this.error);
      else x.resolve();
    }
  }

  protected check(): void {
    if (this.closed) throw new PcmError('EBADF', `${this.name}: the stream is closed`);
    if (this.error) throw this.error;
  }

  /**
   * Volume 0..100 of this direction (the device scales the samples). The
   * mixer belongs to the device: it stays as set for later streams, and
   * across driver restarts when the driver is shadowed (otherwise a restart
   * resets the device to 100, unmuted).
   */
  setVolume(volume: number): { volume: number; muted: boolean } {
    this.arg.integer(volume, 'volume', 0, 100);
    this.check();
    return wrap(() => native().pcmMixer(this.handle, volume, null));
  }

  /** Mutes or unmutes this direction (the volume is kept). */
  mute(on: boolean): { volume: number; muted: boolean } {
    this.arg.boolean(on, 'mute(on)');
    this.check();
    return wrap(() => native().pcmMixer(this.handle, -1, on));
  }

  status(): PcmStatus {
    if (this.closed) return { framesDone: 0, framesQueued: 0, framesInRing: 0, running: false, restarting: false, error: 'closed' };
    const s = native().pcmStatus(this.handle);
    // the kernel's shutdown unregistered the device too ("device gone"): the stream says what its calls say, and
    // that it runs no more (the native stream's last state may still say it ran)
    return this.kernelDown ? { ...s, running: false, error: this.error?.message ?? s.error } : s;
  }

  /** Stops the stream at once (unplayed frames are dropped) and gives the device back. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    openStreams.delete(this);
    native().pcmClose(this.handle);
    this.error ??= new PcmError('EBADF', `${this.name}: the stream is closed`);
    this.wake();
  }
}

/** A playback stream: write frames, drain, close. */
export class PcmPlayback extends PcmStream {
  /** Frames accepted by write() so far. */
  framesWritten = 0;

  constructor(name: string, o: PcmOptions) {
    super(name, 'playback', o);
  }

  /**
   * Queues interleaved S16_LE frames; resolves once the kernel has taken them all (not when they are played: see
   * drain). Writes are taken whole, in the order they were called: one made while another waits for room in the
   * kernel's queue waits behind it.
   */
  async write(frames: Buffer): Promise<void> {
    this.arg.bytes(frames, 'write(frames)');
    if (frames.length % this.frameBytes) throw new PcmError('EINVAL', `${frames.length} bytes is not a whole number of ${this.frameBytes}-byte frames`);
    return this.writes.run(() => this.writeAll(frames));
  }

  private readonly writes = new WritesInOrder();

  private async writeAll(frames: Buffer): Promise<void> {
    this.check();
    let off = 0;
    while (off < frames.length) {
      const n = wrap(() => native().pcmWrite(this.handle, frames.subarray(off)));
      off += n;
      this.framesWritten += n / this.frameBytes;
      if (off < frames.length) await this.nextEvent();
    }
  }

  /** Resolves when every frame written has been played (the device then stops), those of writes still waiting for room included. */
  async drain(): Promise<void> {
    await this.writes.settled(); // their frames are not in the kernel's queue yet: a drain asked now would end before them
    this.check();
    const target = this.drains + 1;
    wrap(() => native().pcmDrain(this.handle));
    while (this.drains < target) await this.nextEvent();
  }

  private drains = 0;

  protected override onEvent(e: PcmEvent): void {
    if (e.type === 'drained') this.drains++;
    super.onEvent(e);
  }
}

/** A capture stream: read frames, close. */
export class PcmCapture extends PcmStream {
  constructor(name: string, o: PcmOptions) {
    super(name, 'capture', o);
  }

  /** The next `frames` captured frames (interleaved S16_LE), taken from the kernel in as few batches as its queue allows. */
  async read(frames: number): Promise<Buffer> {
    this.check();
    this.arg.integer(frames, 'read(frames)', 1, Number.MAX_SAFE_INTEGER);
    const want = frames * this.frameBytes;
    const parts: Buffer[] = [];
    let got = 0;
    while (got < want) {
      const b = wrap(() => native().pcmRead(this.handle, want - got));
      if (b) {
        parts.push(b);
        got += b.length;
      } else {
        await this.nextEvent();
      }
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }
}

/** Opens the playback stream of PCM device `name` (e.g. 'pcm0'); ENODEV with the reason once the shadow ended the device, until a driver registers it again. */
export function openPcm(_kernel: Kernel, name: string, options: PcmOptions): PcmPlayback {
  return new PcmPlayback(name, options);
}

/** Opens the capture stream of PCM device `name`. */
export function openCapture(_kernel: Kernel, name: string, options: PcmOptions): PcmCapture {
  return new PcmCapture(name, options);
}
