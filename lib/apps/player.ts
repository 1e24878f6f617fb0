// An audio player: writes a tone (or a WAV track) to a PCM device and waits
// until it has played. Reports one JSON line: { app, ok, device, frames,
// seconds, elapsedMs, error? }.
//   node dist/lib/apps/player.js --out played.wav [--freq 440] [--seconds 1] [--rate 16000] [--channels 1] [--volume 100]
//   node dist/lib/apps/player.js --out played.wav --track song.wav
// (boots a kernel with an emulated pcm device whose playback goes to --out, and loads drivers/pcm)
import type { Kernel } from '../kernel.js';
import { openPcm, PcmError } from '../classes/sound.js';
import { isolationOption, numberOption, runIfMain, withProgramKernel, type Program } from './program.js';
import { readWav, tone } from './wav.js';

export interface PlayerOptions {
  device?: string;
  rate?: number;
  channels?: number;
  /** A tone at this frequency (Hz)... */
  freq?: number;
  seconds?: number;
  /** ...or this WAV file (16-bit). */
  track?: string;
  volume?: number;
  muted?: boolean;
  /** Frames per write() (default: all at once). */
  chunkFrames?: number;
  /** Called after each write() with the frames written so far (progress, for whoever watches). */
  onWritten?: (frames: number) => void;
}

export interface AppResult {
  app: 'player' | 'recorder';
  ok: boolean;
  device: string;
  frames: number;
  seconds: number;
  elapsedMs: number;
  error?: { code: string; message: string };
}

export function failure(app: AppResult['app'], device: string, frames: number, rate: number, t0: number, e: unknown): AppResult {
  const err = e as Error & { code?: string };
  return {
    app, ok: false, device, frames, seconds: frames / rate, elapsedMs: Date.now() - t0,
    error: { code: e instanceof PcmError ? e.code : err.code ?? 'EAPP', message: err.message ?? String(e) },
  };
}

/** Plays on `kernel`'s PCM device; never throws: the result says what happened. */
export async function play(kernel: Kernel, o: PlayerOptions = {}): Promise<AppResult> {
  const device = o.device ?? 'pcm0';
  const t0 = Date.now();
  let rate = o.rate ?? 16000;
  let channels = o.channels ?? 1;
  let frames = 0;
  let pcm;
  try {
    let data: Buffer;
    if (o.track) {
      const w = readWav(o.track);
      if (w.bits !== 16) throw new PcmError('EINVAL', `${o.track}: ${w.bits}-bit samples; the player plays 16-bit`);
      ({ rate, channels, data } = w);
    } else {
      data = tone(rate, channels, o.freq ?? 440, o.seconds ?? 1);
    }
    pcm = openPcm(kernel, device, { rate, channels });
    pcm.setVolume(o.volume ?? 100); // the mixer outlives streams: the player sets it each time
    pcm.mute(o.muted ?? false);
    const fb = channels * 2;
    const chunk = (o.chunkFrames ?? data.length / fb) * fb;
    for (let off = 0; off < data.length; off += chunk) {
      await pcm.write(data.subarray(off, off + chunk));
      o.onWritten?.(Math.min(data.length, off + chunk) / fb);
    }
    await pcm.drain();
    frames = pcm.status().framesDone;
    pcm.close();
    return { app: 'player', ok: true, device, frames, seconds: frames / rate, elapsedMs: Date.now() - t0 };
  } catch (e) {
    if (pcm) {
      frames = pcm.status().framesDone;
      pcm.close();
    }
    return failure('player', device, frames, rate, t0, e);
  }
}

export const program: Program = {
  name: 'player',
  class: 'sound',
  summary: 'plays a tone or a WAV track on pcm0 (the emulated device writes what it plays to --out) and waits until played',
  options: {
    out: '!WAV: where the device writes what it plays', freq: 'HZ (default 440)', seconds: 'S (default 1)', rate: 'HZ (default 16000)',
    channels: 'N (default 1)', volume: '0..100 (default 100)', track: 'WAV: play this instead of a tone', isolation: isolationOption,
  },
  async run(o) {
    return withProgramKernel(o, async (kernel) => {
      kernel.addDevice('pcm', { playback: o.out! });
      await kernel.load('pcm');
      return await play(kernel, {
        track: o.track, freq: numberOption(o, 'freq'), seconds: numberOption(o, 'seconds'), rate: numberOption(o, 'rate'),
        channels: numberOption(o, 'channels'), volume: numberOption(o, 'volume'),
      });
    });
  },
};

runIfMain(import.meta.url, program);
