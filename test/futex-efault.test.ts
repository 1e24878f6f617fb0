// A kernel call's wait on a driver's word whose futex call fails with EFAULT
// naps 1 ms before it looks again (native/kapi/wait.cc, sleep_on), on both
// futex paths: futex_waitv and, as on Linux before 5.16, the fallback's
// futex. Under mprotect the call fails so when another driver ran between
// the kernel giving up the lock and the call, closing the word's memory: a
// race no test can bring about on purpose. So a launcher
// (test/helpers/futex-efault.c) makes those calls fail with EFAULT by a
// seccomp filter, and this file runs itself under it, once per path: the
// waiting thread then sleeps 50 times (Linux's count of its voluntary
// context switches) in less CPU time than a busy retry burns meanwhile
// (100 ms), and its wait ends when the word changes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { buildLauncher, vitestUnder } from './helpers/launchers.js';
import { cpuUs, sleeps, tidOf } from './helpers/tasks.js';
import { until } from './helpers/util.js';

const kPaths = ['waitv', 'fallback'] as const;
const underLauncher = process.env.NOOKS_TEST_FUTEX_EFAULT as (typeof kPaths)[number] | undefined;

const dir = mkdtempSync(join(tmpdir(), 'nooks-futex-efault-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(underLauncher)('a wait whose futex call fails with EFAULT', () => {
  let launcher: string;
  beforeAll(() => {
    launcher = buildLauncher(dir, 'futex-efault');
  });

  it.each(kPaths)('naps between its looks, on the %s path (this file, under the launcher)', async (path) => {
    const { code, output } = await vitestUnder(launcher, [path], ['test/futex-efault.test.ts'], 100_000);
    expect(code, output).toBe(0);
    expect(output).toContain(`its futex calls failing with EFAULT (${path})`); // the inner test ran, under this path's filter
    expect(output).toMatch(/^\s*Tests\s+1 passed/m);
  }, 110_000);
});

// A driver's thread waits in the kernel while its word holds the value the
// launcher's filter knows (the fallback's futex call gives it), until release.
const source = `
#define _GNU_SOURCE
#include <pthread.h>
#include <time.h>

#include <nooks/kapi.h>
#include <nooks/posix_calls.h>

static unsigned int word = 0x5eccfa17u;	/* FUTEX_EFAULT_SEEN, test/helpers/futex-efault.c */
static pthread_t thread;
static volatile long waiting;

static void *waiter(void *arg)
{
	unsigned int seen = word;

	__atomic_store_n(&waiting, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) == seen)
		nooks_posix_futex_wait(&word, seen, CLOCK_MONOTONIC, -1);
	return arg;
}

NOOKS_EXPORT long start(void)
{
	return pthread_create(&thread, NULL, waiter, NULL) || pthread_setname_np(thread, "efault-waiter") ? -1 : 0;
}

NOOKS_EXPORT long is_waiting(void)
{
	return waiting;
}

NOOKS_EXPORT long release(void)
{
	__atomic_store_n(&word, 0, __ATOMIC_RELEASE);
	nooks_posix_futex_wake(&word, 1);
	return pthread_join(thread, NULL);
}
`;

describe.runIf(underLauncher)(`a wait on a driver's word, its futex calls failing with EFAULT (${underLauncher})`, () => {
  const kernel = kernelPerBlock({ isolation: 'mprotect' }); // where another driver closes the word's memory
  let path: string;
  beforeAll(() => {
    path = buildDriver(dir, 'efault', source, { posix: true });
  }, 120_000);

  it('naps between its looks: 50 sleeps in less than 100 ms of CPU time; it ends when the word changes', async () => {
    const d = await kernel().load(path);
    expect(d.call('start')).toBe(0);
    await until(() => d.call('is_waiting') === 1, 'the waiter at its wait');
    const tid = tidOf('efault-waiter');
    const from = { sleeps: sleeps(tid), cpuUs: cpuUs(tid) };
    // by the thread's own progress: 50 naps, or the CPU time that a retry without them burns first
    await until(() => sleeps(tid) - from.sleeps >= 50 || cpuUs(tid) - from.cpuUs >= 100_000, '50 sleeps or 100 ms of CPU time', 20_000);
    const used = { sleeps: sleeps(tid) - from.sleeps, cpuUs: cpuUs(tid) - from.cpuUs };
    expect(used.cpuUs, 'the waiting thread\'s CPU time (µs)').toBeLessThan(100_000);
    expect(used.sleeps, 'its sleeps').toBeGreaterThanOrEqual(50);
    expect(d.call('release')).toBe(0); // the word changed: the wait ended, the thread returned and is joined
    d.unload();
  });
});
