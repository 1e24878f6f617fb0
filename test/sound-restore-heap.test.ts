// The shadow's restore writes a stream's runtime (struct snd_pcm_runtime, which
// the driver reads) into the host-object heap. Under isolation 'mprotect' that
// heap is read-only while driver code runs on any thread, so the restore opens
// driver memory first (DomainMemoryAccess in driver_setup,
// native/classes/sound/pcm_stream.cc), which waits for that code to leave.
// The restore is held until driver code runs on another thread
// (pcmHoldRestore), in a process of its own (test/helpers/sound-restore-heap.mjs):
// a write into the read-only heap kills it.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { programReport } from './helpers/util.js';

const program = join(packageRoot, 'test', 'helpers', 'sound-restore-heap.mjs');
const BUSY_LOOPS = 200_000_000; // a few hundred ms of driver code

it("isolation mprotect: a stream's restore while driver code runs on another thread waits for it, completes, and the stream plays", async () => {
  // Before (no DomainMemoryAccess in driver_setup): the program dies of SIGSEGV in the restore's write.
  expect(await programReport([program, String(BUSY_LOOPS)], 40_000)).toEqual({ driverRuns: true, framesDone: 1600, error: null, restarting: false });
}, 60_000);
