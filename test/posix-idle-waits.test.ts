// A driver's waits in the kernel sleep until their event, their deadline or
// the driver's failure, which wakes them itself (native/kapi/wait.h,
// docs/recovery.md "How waits end"): nothing wakes an idle wait only to look
// whether the driver failed. A driver's threads wait for what never comes,
// each its own way (poll, a blocking read, epoll_wait, a condition, a
// contended mutex, a join, a sleep of an hour); over one idle second each may
// wake a few times at most (Linux's count of its voluntary context switches,
// /proc/self/task/<tid>/status), where a wait that woke every 10 ms to look
// would wake 100 times. The second is twice the driver's time budget: a
// driver's own thread is not timed while it waits. Then the driver faults on
// another thread, a call from the host (isolation 'none' traps no fault: the
// driver is failed on purpose), and every wait ends at once: the recovery
// completes, none of the threads left.
// As on Linux before 5.16 (test/no-futex-waitv.test.ts runs this file so),
// a wait on a word of driver memory (a condition, a contended mutex) sleeps
// on that word alone and looks every 10 ms: those idlers wake that often.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver, Isolation } from '../lib/index.js';
import { buildDriver } from './helpers/build-driver.js';
import { crashSource, failWhileWaiting } from './helpers/fail-waiting.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { inKernelWait, noFutexWaitv, sleeps, tasks, tidOf } from './helpers/tasks.js';
import { until } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-posix-idle-waits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const source = `
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <nooks/kapi.h>

enum { HOLDER, POLL, READ, EPOLL, COND, MUTEX, JOIN, SLEEP, IDLERS };
static const char *const names[IDLERS] = {
	"idle-holder", "idle-poll", "idle-read", "idle-epoll", "idle-cond", "idle-mutex", "idle-join", "idle-sleep",
};
static int files[IDLERS], epfd;
static pthread_t threads[IDLERS];
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER, cond_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static volatile long waiting;

/* Waits once, the way its name says, for what never comes (the holder holds
 * the mutex the mutex idler wants and never ends, which the join idler waits
 * for). Only a failure ends the wait: under isolation 'none', which unwinds no
 * driver code, the thread then returns. */
static void *idle(void *arg)
{
	long which = (long)arg;
	struct pollfd p = { .fd = files[which], .events = POLLIN };
	struct epoll_event got;
	eventfd_t v;

	if (which == HOLDER)
		pthread_mutex_lock(&held);
	if (which == COND)
		pthread_mutex_lock(&cond_lock);
	__atomic_add_fetch(&waiting, 1, __ATOMIC_SEQ_CST);
	if (which == HOLDER || which == POLL)
		poll(&p, 1, -1);
	else if (which == READ)
		eventfd_read(files[which], &v);
	else if (which == EPOLL)
		epoll_wait(epfd, &got, 1, -1);
	else if (which == COND)
		pthread_cond_wait(&never, &cond_lock);
	else if (which == MUTEX)
		pthread_mutex_lock(&held);
	else if (which == JOIN)
		pthread_join(threads[HOLDER], NULL);
	else
		sleep(3600);
	return arg;
}

static long start(long from, long to)
{
	for (long i = from; i < to; i++)
		if (pthread_create(&threads[i], NULL, idle, (void *)i) || pthread_setname_np(threads[i], names[i]))
			return -1;
	return 0;
}

/* The holder first: the mutex idler must find the mutex held. */
NOOKS_EXPORT long start_holder(void)
{
	return start(HOLDER, HOLDER + 1);
}

NOOKS_EXPORT long start_idlers(void)
{
	return start(HOLDER + 1, IDLERS);
}

NOOKS_EXPORT long idlers_waiting(void)
{
	return waiting;
}

${crashSource}

static int idlers_init(void)
{
	struct epoll_event ev = { .events = EPOLLIN };

	for (long i = 0; i < IDLERS; i++)
		files[i] = eventfd(0, 0);
	epfd = epoll_create1(0);
	return epoll_ctl(epfd, EPOLL_CTL_ADD, files[EPOLL], &ev);
}

module_init(idlers_init);
`;

let path: string;
beforeAll(() => {
  path = buildDriver(dir, 'idlers', source, { posix: true });
}, 120_000);

const kIdlers = ['idle-holder', 'idle-poll', 'idle-read', 'idle-epoll', 'idle-cond', 'idle-mutex', 'idle-join', 'idle-sleep'];
const kBudgetMs = 500; // the host's calls' too: on a loaded machine start_idlers took 62 ms (not the host process's start: it is up before)
const kIdleMs = 1000;
const kOnDriverWord = noFutexWaitv ? ['idle-cond', 'idle-mutex'] : []; // waits that look every 10 ms
const kFallbackTitle = noFutexWaitv ? ' (without futex_waitv: a condition and a mutex every 10 ms)' : '';

const threadObjects = (d: Driver) => d.objects().filter((o) => o.type === 'thread');

describe.each<Isolation>(['none', 'mprotect', 'process'])("idle waits, isolation '%s'", (isolation) => {
  const kernel = kernelPerBlock({ isolation });

  it(`a driver's threads idle in poll, read, epoll, a condition, a mutex, a join and a sleep wake at most 3 times in a second past their budget${kFallbackTitle}; a failure ends every wait at once`, async () => {
    const d = await kernel().load(path, { timeBudgetMs: kBudgetMs });
    const before = tasks();
    const events = kernel().events().length;
    expect(d.call('start_holder')).toBe(0);
    await until(() => d.call('idlers_waiting') === 1, 'the holder holding the mutex');
    expect(d.call('start_idlers')).toBe(0);
    await until(() => d.call('idlers_waiting') === kIdlers.length, 'every idler at its wait');
    const tids = kIdlers.map(tidOf);
    await until(() => tids.every(inKernelWait), 'every idler asleep in its wait');
    const idleFrom = performance.now();
    const slept = tids.map(sleeps);
    await new Promise((resolve) => setTimeout(resolve, kIdleMs)); // the idle second measured
    const woke = tids.map((tid, i) => sleeps(tid) - slept[i]);
    // a look every 10 ms, and now and then a wait to enter the driver again after one (mprotect: measured 98 in 1010 ms)
    const lookedAtMost = Math.ceil((performance.now() - idleFrom) / 10) + 10;
    expect(kernel().events().slice(events).filter((e) => e.event === 'fault')).toEqual([]); // none timed out: waiting is no running
    for (const [i, name] of kIdlers.entries()) expect(woke[i], `${name}'s wake-ups`).toBeLessThanOrEqual(kOnDriverWord.includes(name) ? lookedAtMost : 3);
    expect(threadObjects(d)).toHaveLength(kIdlers.length);

    await failWhileWaiting(kernel(), d, isolation, before);
    d.unload();
  });
});
