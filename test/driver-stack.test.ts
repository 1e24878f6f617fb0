// A driver function whose frame is larger than its stack and the 256 KiB
// guard below it: a store into the frame's far end lands past the guard, in
// the memory below. Below a thread's stack there is another's (its frames,
// its area: errno and keys), and below the first stack the DMA arena's end:
// without a probe the store corrupts them without a fault. Drivers are built
// with stack-clash probes (-fstack-clash-protection, lib/sdk/flags.ts): a
// large frame is touched a page at a time, so the first probe past the stack
// lands in the guard, a stack-overflow fault as a deep recursion's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Isolation } from '../lib/index.js';
import { buildDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { faultOf } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-driver-stack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const source = `
#include <pthread.h>

/* One frame of 600 KiB (a 256 KiB stack, the 256 KiB guard below it, and
 * more): its lowest byte stored first, as code that fills a buffer from its start. */
static __attribute__((noinline)) long huge_frame(long v)
{
	volatile char frame[600 * 1024];

	frame[0] = (char)v;
	frame[sizeof frame - 1] = (char)v;
	return frame[0] + frame[sizeof frame - 1];
}

/* On the caller's thread: the domain's first stack, whose own lies below nothing but its guard. */
long huge_frame_here(long v)
{
	return huge_frame(v);
}

static void *on_thread(void *v)
{
	return (void *)huge_frame((long)v);
}

/* On a thread of its own, whose stack lies above the caller's (which waits in pthread_join meanwhile). */
long huge_frame_on_thread(long v)
{
	pthread_t t;
	void *r;

	if (pthread_create(&t, NULL, on_thread, (void *)v) || pthread_join(t, &r))
		return -1;
	return (long)r;
}
`;

let path: string;
beforeAll(() => {
  path = buildDriver(dir, 'huge_frame', source, { posix: true });
}, 60_000);

describe.each<Isolation>(['mprotect', 'process'])("a frame larger than a driver stack and its guard, isolation '%s'", (isolation) => {
  const kernel = kernelPerBlock({ isolation });

  it.each(['huge_frame_here', 'huge_frame_on_thread'])('%s: a stack-overflow fault in the guard, never a store below it', async (fn) => {
    const d = await kernel().load(path);
    try {
      expect(faultOf(() => d.call(fn, 1)).kind).toBe('stack-overflow');
    } finally {
      d.unload();
    }
  });
});
