// A CLOCK_REALTIME timerfd (native/posix/timerfd.h) when the clock is set
// back (date -s, an NTP step): the expiries already read are not due again,
// so a read finds none (EAGAIN nonblocking) and poll none, as on Linux, until
// the clock passes the next one. The clock is set back for this process
// alone by a preloaded clock_gettime (test/helpers/realtime-back.c), which
// the program (test/helpers/realtime-back.mjs) turns on between its reads.
// Before: the count went below those read and the read returned it, ~2^64.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { buildDriver } from './helpers/build-driver.js';
import { runNode } from './helpers/util.js';

const source = `
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <nooks/kapi.h>

static int fd = -1;
static uint64_t count;

/* Nonblocking, at 1 s past the epoch and every second since: some 1.7e9 expiries due at once. 0, or -errno. */
NOOKS_EXPORT long arm(void)
{
	struct itimerspec every_second = { .it_value = { 1, 0 }, .it_interval = { 1, 0 } };

	fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	return fd >= 0 && timerfd_settime(fd, TFD_TIMER_ABSTIME, &every_second, NULL) == 0 ? 0 : -errno;
}

/* 0 (the count read), or the read's errno. */
NOOKS_EXPORT long read_errno(void)
{
	return read(fd, &count, sizeof(count)) == sizeof(count) ? 0 : errno;
}

/* The last count read's high 32 bits: 0 for any count the clock allows. */
NOOKS_EXPORT long count_high(void)
{
	return (long)(count >> 32);
}

NOOKS_EXPORT long readable(void)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0);
}
`;

let dir: string;
let driver: string;
let preload: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nooks-timerfd-clock-step-'));
  driver = buildDriver(dir, 'realtime-timerfd', source, { posix: true });
  preload = join(dir, 'realtime-back.so');
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC', join(packageRoot, 'test', 'helpers', 'realtime-back.c'), '-o', preload, '-ldl']);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('a realtime timerfd read, then the clock set back 10 s: poll finds it not readable and a nonblocking read EAGAIN, not a count of ~2^64', async () => {
  // after any preload of the run's own (an ASan run's libasan must come first)
  const env = { ...process.env, LD_PRELOAD: [process.env.LD_PRELOAD, preload].filter(Boolean).join(' ') };
  const run = await runNode([join(packageRoot, 'test', 'helpers', 'realtime-back.mjs'), driver], packageRoot, 20_000, env);
  expect({ code: run.code, signal: run.signal, stderr: run.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  expect(JSON.parse(run.stdout.trim().split('\n').pop()!)).toEqual({
    armed: 0,
    before: { readable: 1, readErrno: 0, countHigh: 0 },
    after: { readable: 0, readErrno: 11 /* EAGAIN */, countHigh: 0 }, // before the fix: readErrno 0, countHigh 4294967295
  });
}, 30_000);
