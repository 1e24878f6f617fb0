// The load of @NAME@'s benchmark (written by `nooks new @NAME@ --class sound`):
//   npx nooks bench driver --driver build/@NAME@.so --workload @NAME@/bench.mjs --seconds 1 --runs 3
// In each isolation mode nooks loads the driver, calls start(), and reads done()
// at both ends of the measuring time: throughput is done() per second, and
// relative is that over none's. The load is `nooks bench sound`'s own
// (pcmPlaybackLoad): silence written 100 ms per write(). The device plays in
// real time, so the periods per second are the same in every mode: what tells
// the modes apart is the CPU time and the breakdown per period.
import { join } from 'node:path';
import { openPcm, pcmPlaybackLoad } from 'nooks';

export const unit = 'periods'; // what done() counts: an interrupt, and a snd_pcm_period_elapsed(), each

const RATE = 192_000; // the device's highest
const PERIOD_FRAMES = RATE / 50; // 20 ms

export function start({ kernel, dir }) {
  // an emulated PCM device of its own in each mode, playing into a WAV file in nooks's scratch space;
  // the driver, loaded already, probes it now
  const dev = kernel.addDevice('pcm', { playback: join(dir, `${kernel.isolation}.wav`) });
  const load = pcmPlaybackLoad(openPcm(kernel, dev.name, { rate: RATE, channels: 2, periodFrames: PERIOD_FRAMES }));
  return { done: () => Math.floor(load.done() / PERIOD_FRAMES), stop: load.stop }; // stop() closes the stream
}
