// The waits of the POSIX personality (docs/drivers.md, "Unmodified C: the POSIX personality", its row events) sleep on the
// files they wait for: a change to one file wakes only the waits registered
// on it (native/posix/wait_queue.h), never a wait on another file or in
// another driver. One driver's threads wait on their own eventfds (a blocking
// read, poll, epoll_wait) while a second driver writes its own eventfd 100k
// times; the waiters' kernel threads must not wake for those writes. What
// shows it is Linux's count of each thread's voluntary context switches
// (/proc/self/task/<tid>/status): a wait that wakes and sleeps again is one
// more. Nothing else wakes a wait (a failed driver wakes its waits itself:
// test/posix-idle-waits.test.ts): counted from when each sleeps in its wait,
// each shows a few at most. Isolation 'none' and 'process' only: under
// 'mprotect' a woken wait must take the driver back (one driver's code at a
// time) before it sleeps again, so the writer's crossing holds the waiters
// off and the count would show little.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Isolation } from '../lib/index.js';
import { buildDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { inKernelWait, sleeps, tidOf } from './helpers/tasks.js';
import { until } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-posix-wait-queues-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const waitersSource = `
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <nooks/kapi.h>

enum { READ, POLL, EPOLL, WAITERS };
static const char *const names[WAITERS] = { "wait-read", "wait-poll", "wait-epoll" };
static int files[WAITERS], epfd;
static pthread_t threads[WAITERS];
static volatile long waiting, woken[WAITERS];

/* Waits once on its own eventfd, the way its name says; counts the wake. */
static void *wait_once(void *arg)
{
	long which = (long)arg;
	struct pollfd p = { .fd = files[which], .events = POLLIN };
	struct epoll_event got;
	eventfd_t v;

	__atomic_add_fetch(&waiting, 1, __ATOMIC_SEQ_CST);
	if (which == READ)
		woken[which] = eventfd_read(files[which], &v) == 0 ? (long)v : -1;
	else if (which == POLL)
		woken[which] = poll(&p, 1, -1) == 1 && p.revents == POLLIN ? 1 : -1;
	else
		woken[which] = epoll_wait(epfd, &got, 1, -1) == 1 && got.data.u64 == 7 ? 1 : -1;
	return arg;
}

NOOKS_EXPORT long waiters_waiting(void)
{
	return waiting;
}

/* Ends waiter which by a write to its eventfd. */
NOOKS_EXPORT long wake(long which)
{
	return eventfd_write(files[which], 1);
}

/* What waiter which saw when it woke (1: its file ready), 0 while it waits. */
NOOKS_EXPORT long woken_with(long which)
{
	return woken[which];
}

static int waiters_init(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 7 };

	for (long i = 0; i < WAITERS; i++)
		files[i] = eventfd(0, 0);
	epfd = epoll_create1(0);
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, files[EPOLL], &ev))
		return -1;
	for (long i = 0; i < WAITERS; i++)
		if (pthread_create(&threads[i], NULL, wait_once, (void *)i) || pthread_setname_np(threads[i], names[i]))
			return -1;
	return 0;
}

static void waiters_exit(void)
{
	for (long i = 0; i < WAITERS; i++) {
		eventfd_write(files[i], 1);
		pthread_join(threads[i], NULL);
	}
}

module_init(waiters_init);
module_exit(waiters_exit);
`;

const writerSource = `
#include <sys/eventfd.h>
#include <unistd.h>

#include <nooks/kapi.h>

/* n writes of 1 to an eventfd of its own, which nothing waits on. */
NOOKS_EXPORT long storm(long n)
{
	int e = eventfd(0, 0);
	long done = 0;

	while (done < n && eventfd_write(e, 1) == 0)
		done++;
	close(e);
	return done;
}
`;

let waitersPath: string, writerPath: string;
beforeAll(() => {
  waitersPath = buildDriver(dir, 'waiters', waitersSource, { posix: true });
  writerPath = buildDriver(dir, 'writer', writerSource, { posix: true });
}, 120_000);

const kWaiters = ['wait-read', 'wait-poll', 'wait-epoll'];

describe.each<Isolation>(['none', 'process'])("waits wake only for their own files, isolation '%s'", (isolation) => {
  const kernel = kernelPerBlock({ isolation });

  it("100k writes to one driver's eventfd wake none of another driver's waits on its own eventfds; a write to its own ends each", async () => {
    const waiters = await kernel().load(waitersPath);
    const writer = await kernel().load(writerPath, { timeBudgetMs: 60_000 });
    await until(() => waiters.call('waiters_waiting') === kWaiters.length, 'the waiters started');
    const tids = kWaiters.map(tidOf);
    await until(() => tids.every(inKernelWait), 'the waiters asleep in their waits');
    const before = tids.map(sleeps);
    expect(writer.call('storm', 100_000)).toBe(100_000);
    for (const [i, name] of kWaiters.entries()) expect(sleeps(tids[i]) - before[i], `${name}'s wake-ups`).toBeLessThanOrEqual(3);
    for (const [i, name] of kWaiters.entries()) {
      expect(waiters.call('woken_with', i), name).toBe(0);
      expect(waiters.call('wake', i)).toBe(0);
      await until(() => waiters.call('woken_with', i) === 1, `${name} woken by its own eventfd`);
    }
    writer.unload();
    waiters.unload();
  });
});
