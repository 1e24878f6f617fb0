// An audio recorder: reads frames from a PCM device's capture stream into a
// WAV file. Reports one JSON line: { app, ok, device, frames, seconds, elapsedMs, error? }.
//   node dist/lib/apps/recorder.js --in source.wav --out recorded.wav [--seconds 1]
// (boots a kernel with an emulated pcm device capturing from --in, and loads drivers/pcm)
import { fileURLToPath } from 'node:url';
import { Kernel } from '../kernel.js';
import { openCapture } from '../classes/sound.js';
import { failure, options, type AppResult } from './player.js';
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

async function main(): Promise<void> {
  let result: AppResult;
  let kernel: Kernel | undefined;
  try {
    const a = options(process.argv.slice(2));
    if (!a.in || !a.out) throw new Error('usage: recorder --in source.wav --out recorded.wav [--seconds 1]');
    const src = readWav(a.in);
    kernel = await Kernel.boot();
    kernel.addDevice('pcm', { capture: a.in });
    await kernel.load('pcm');
    const { data: _data, ...r } = await record(kernel, { rate: src.rate, channels: src.channels, seconds: Number(a.seconds ?? 1), out: a.out });
    result = r;
  } catch (e) {
    result = failure('recorder', 'pcm0', 0, 1, Date.now(), e);
  }
  console.log(JSON.stringify(result));
  await kernel?.shutdown();
  process.exitCode = result.ok ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) void main();
