// The workload of @NAME@'s fault-injection campaigns (written by `nooks new @NAME@ --class sound`):
//   npx nooks inject build/@NAME@.so --workload @NAME@/workload.mjs
//   npx nooks campaign --driver build/@NAME@.so --workload @NAME@/workload.mjs --trials 50
// nooks loads the driver with a fault injected into its code, then calls this;
// it plays a short tone and says whether every frame was played (a throw is a
// failure). It uses the emulated PCM device the driver has bound if there is
// one, and otherwise adds one that plays into /dev/null (the driver probes it then).
import { openPcm } from 'nooks';

const RATE = 8000;

export default async function workload({ kernel, driver }) {
  let dev = kernel.devices().find((d) => d.kind === 'pcm' && d.driver === driver.name);
  dev ??= kernel.addDevice('pcm', { playback: '/dev/null' });
  const frames = Buffer.alloc(RATE / 5 * 2);      // 0.2 s of a square wave
  for (let i = 0; i < frames.length / 2; i++) frames.writeInt16LE(i & 16 ? 4000 : -4000, i * 2);
  const p = openPcm(kernel, dev.name, { rate: RATE, channels: 1 });
  try {
    await p.write(frames);
    await p.drain();
    const { framesDone, error } = p.status();
    return framesDone === RATE / 5 ? true : { ok: false, detail: `played ${framesDone} of ${RATE / 5} frames${error ? ` (${error})` : ''}` };
  } finally {
    p.close();
  }
}
