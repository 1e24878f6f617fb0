// A driver function whose frame is larger than its stack and the 256 KiB
// guard below it: a store into the frame's far end lands past the guard, in
// the memory below. Below a thread's stack there is another's (its frames,
// its area: errno and keys), and below the first stack the DMA arena's end:
// without a probe the store corrupts them without a fault. Drivers are built
// with stack-clash probes (-fstack-clash-protection, lib/sdk/flags.ts): a
// large frame is touched a page at a time, so the first probe past the stack
// lands in the guard, a stack-overflow fault as a deep recursion's. Both
// lists of flags have the probes: the freestanding drivers' and the POSIX
// personality's.
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

// One frame of 600 KiB (a 256 KiB stack, the 256 KiB guard below it, and
// more): its lowest byte stored first, as code that fills a buffer from its start.
const hugeFrame = `
static __attribute__((noinline)) long huge_frame(long v)
{
	volatile char frame[600 * 1024];

	frame[0] = (char)v;
	frame[sizeof frame - 1] = (char)v;
	return frame[0] + frame[sizeof frame - 1];
}
`;

// Built with the POSIX personality's flags (posixCflags).
const posixSource = `
#include <pthread.h>
${hugeFrame}
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

// Built with the freestanding flags (driverCflags), as a driver of the kernel API.
const kapiSource = `
#include <nooks/kapi.h>
${hugeFrame}
NOOKS_EXPORT long huge_frame_here(long v)
{
	return huge_frame(v);
}

static int huge_init(void) { return 0; }
module_init(huge_init);
`;

const paths: Record<'posix' | 'kapi', string> = { posix: '', kapi: '' };
beforeAll(() => {
  paths.posix = buildDriver(dir, 'huge_frame_posix', posixSource, { posix: true });
  paths.kapi = buildDriver(dir, 'huge_frame_kapi', kapiSource);
}, 60_000);

const cases: ['posix' | 'kapi', string][] = [['posix', 'huge_frame_here'], ['posix', 'huge_frame_on_thread'], ['kapi', 'huge_frame_here']];

describe.each<Isolation>(['mprotect', 'process'])("a frame larger than a driver stack and its guard, isolation '%s'", (isolation) => {
  const kernel = kernelPerBlock({ isolation });

  it.each(cases)('%s driver, %s: a stack-overflow fault in the guard, never a store below it', async (build, fn) => {
    const d = await kernel().load(paths[build]);
    try {
      expect(faultOf(() => d.call(fn, 1)).kind).toBe('stack-overflow');
    } finally {
      d.unload();
    }
  });
});
