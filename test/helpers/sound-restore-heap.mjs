// A program for test/sound-restore-heap.test.ts (run from dist/: `npm run build`
// first), in a process of its own, since the bug it looks for kills the process:
//   node sound-restore-heap.mjs <busy loops>
// Under isolation 'mprotect' a shadowed pcm driver is restarted under an open
// stream; the stream's restore is held (pcmHoldRestore) until driver code runs
// on another thread: the JS thread's call of the driver's busy(), which keeps
// the host-object heap read-only meanwhile. The restore, which writes the
// stream's runtime into that heap, must wait for it, complete, and the stream
// play. Prints what it saw, one JSON line.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPolicy, Kernel, openPcm } from '../../dist/lib/index.js';
import { tone } from '../../dist/lib/apps/wav.js';
import { pcmHoldRestore } from '../../dist/lib/testing.js';
import { print, until } from './program.mjs';

const loops = Number(process.argv[2]);
const RATE = 16000;
const dir = mkdtempSync(join(tmpdir(), 'nooks-sound-restore-heap-'));
const kernel = await Kernel.boot({
  isolation: 'mprotect',
  policy: { default: { ...defaultPolicy.default, shadow: true }, drivers: new Map() },
});
const events = (kind) => kernel.log().flatMap((l) => (l.event?.kind === kind ? [l.event] : []));
kernel.addDevice('pcm', { playback: join(dir, 'played.wav') });
// busy() runs longer than the default time budget on a slow machine
const drv = await kernel.load('pcm', { timeBudgetMs: 60_000 });
const p = openPcm(kernel, 'pcm0', { rate: RATE, channels: 1 });
pcmHoldRestore('pcm0');
drv.recover();
await until(() => events('test-restore-held').length === 1, 'the restore, held');
drv.call('busy', loops); // the restore goes on while this runs
await until(() => events('shadow-restored').length === 1, 'the stream restored');
const t = tone(RATE, 1, 440, 0.1);
await p.write(t);
await p.drain();
const { framesDone, error, restarting } = p.status();
const seen = { driverRuns: events('test-restore-hold-passed')[0]?.driverRuns, framesDone, error, restarting };
p.close();
await kernel.shutdown();
rmSync(dir, { recursive: true, force: true });
print(seen);
