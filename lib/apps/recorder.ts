// An audio recorder: reads frames from a PCM device's capture stream into a
// WAV file. Reports one JSON line: { app, ok, device, frames, seconds, elapsedMs, error? }.
//   node dist/lib/apps/recorder.js --in source.wav --out recorded.wav [--seconds 1]
// (boots a kernel with an emulated pcm device capturing from --in, and loads drivers/pcm)
import type { Kernel } from '../kernel.js';
import { openCapture } from '../classes/sound.js';
import { failure, type AppResult } from './player.js';
import { isolationOption, numberOption, runIfMain, withProgramKernel, type Program } from './program.js';
import { readWav, writeWav } from './wav.js';

export interface RecorderOptions {
  device?: string;
  rate: number;
  channels: number;
  seconds: number;
  /** Where to write what was recorded (a WAV file); optional. */
  out?: string;
  volume?: number;
}

/** Records from `kernel`'s PCM device; never throws. `data` holds the frames recorded. */
export async function record(kernel: Kernel, o: RecorderOptions): Promise<AppResult & { data?: Buffer }> {
  const device = o.device ?? 'pcm0';
  const t0 = Date.now();
  let pcm;
  try {
    pcm = openCapture(kernel, device, { rate: o.rate, channels: o.channels });
    pcm.setVolume(o.volume ?? 100);
    pcm.mute(false);
    const frames = Math.round(o.rate * o.seconds);
    const data = await pcm.read(frames);
    pcm.close();
    if (o.out) writeWav(o.out, o.rate, o.channels, data);
    return { app: 'recorder', ok: true, device, frames, seconds: frames / o.rate, elapsedMs: Date.now() - t0, data };
  } catch (e) {
    pcm?.close();
    return failure('recorder', device, 0, o.rate, t0, e);
  }
}

export const program: Program = {
  name: 'recorder',
  class: 'sound',
  summary: 'records from pcm0 (the emulated device captures from --in) into a WAV file',
  options: { in: '!WAV: what the device captures', out: '!WAV: what was recorded', seconds: 'S (default 1)', isolation: isolationOption },
  async run(o) {
    const src = readWav(o.in!);
    return withProgramKernel(o, async (kernel) => {
      kernel.addDevice('pcm', { capture: o.in! });
      await kernel.load('pcm');
      const { data: _data, ...r } = await record(kernel, { rate: src.rate, channels: src.channels, seconds: numberOption(o, 'seconds', 1), out: o.out });
      return r;
    });
  },
};

runIfMain(import.meta.url, program);
