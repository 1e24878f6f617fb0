// timerfd in the POSIX personality (native/posix/timerfd.h, native/driver-rt/posix/timerfd.c)
// and the CPU-affinity queries (native/driver-rt/posix/affinity.c), with real
// clocks and real threads in a real driver, in each isolation mode the
// personality runs: a periodic timer read blocking counts every expiry (the
// sum of the counts between the expiries the clock allows before the last read and
// after it, never an exact count in a time), and a read after a long nap
// catches up; a nonblocking read before the expiry is EAGAIN; TFD_TIMER_ABSTIME
// in the past fires at once; a disarm stops the expiries; an epoll loop
// over a timerfd and an eventfd reports both (none of them, nor a signalfd or an epoll, has a position: ESPIPE), EPOLLET once per batch of expiries (those between two reads, as Linux); poll and
// select find it readable; armed timerfds start no thread; a thread blocked
// reading a timerfd ends when the driver fails, which is recovered with no
// thread left.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver, Isolation } from '../lib/index.js';
import { buildDriver } from './helpers/build-driver.js';
import { failWhileWaiting } from './helpers/fail-waiting.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { inKernelWait, tasks, tidOf } from './helpers/tasks.js';
import { until } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-posix-timerfd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const source = `
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <nooks/kapi.h>

#define CHECK(x) do { if (!(x)) return -__LINE__; } while (0)
#define NS 1000000000LL

static long long now_ns(clockid_t clock)
{
	struct timespec t;

	clock_gettime(clock, &t);
	return t.tv_sec * NS + t.tv_nsec;
}

static struct timespec ts_of(long long ns)
{
	return (struct timespec){ .tv_sec = ns / NS, .tv_nsec = ns % NS };
}

/* Arms fd: first expiry value_ns (from now, or absolute), then every interval_ns. */
static int arm(int fd, int flags, long long value_ns, long long interval_ns)
{
	struct itimerspec v = { .it_value = ts_of(value_ns), .it_interval = ts_of(interval_ns) };

	return timerfd_settime(fd, flags, &v, NULL);
}

static long long ns_of(struct timespec t)
{
	return t.tv_sec * NS + t.tv_nsec;
}

static long long lowest, highest;

/* A periodic timer of interval_us read blocking n times, the reader napping 4
 * intervals before read nap_at: each read counts 1 or more, the napped one 4 or
 * more, and gettime's remaining is within (0, interval]. Returns the sum of the
 * counts; lowest() and highest() the expiries the clock allowed before the last
 * read began and after it ended. */
NOOKS_EXPORT long periodic(long interval_us, long n, long nap_at)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	long long interval = interval_us * 1000LL, armed_before, armed_after, last_from = 0, sum = 0;
	struct itimerspec cur;
	uint64_t count;

	CHECK(fd >= 0);
	armed_before = now_ns(CLOCK_MONOTONIC);
	CHECK(arm(fd, 0, interval, interval) == 0);
	armed_after = now_ns(CLOCK_MONOTONIC);
	for (long i = 0; i < n; i++) {
		if (i == nap_at)
			usleep((useconds_t)(4 * interval_us));
		last_from = now_ns(CLOCK_MONOTONIC);
		CHECK(read(fd, &count, sizeof(count)) == sizeof(count));
		CHECK(count >= (i == nap_at ? 4 : 1));
		sum += (long long)count;
		CHECK(timerfd_gettime(fd, &cur) == 0 && ns_of(cur.it_interval) == interval);
		CHECK(ns_of(cur.it_value) > 0 && ns_of(cur.it_value) <= interval);
	}
	/* the expiries at time t: those of (t - armed) / interval, armed between armed_before and armed_after */
	lowest = (last_from - armed_after) / interval;
	highest = (now_ns(CLOCK_MONOTONIC) - armed_before) / interval;
	close(fd);
	return (long)sum;
}

NOOKS_EXPORT long periodic_lowest(void)
{
	return (long)lowest;
}

NOOKS_EXPORT long periodic_highest(void)
{
	return (long)highest;
}

/* NULL, unseen by the compiler: where Linux answers EFAULT. */
static void *volatile nowhere;

/* A nonblocking read before the expiry, short reads, writes, gettime and old_value, and what is refused. */
NOOKS_EXPORT long answers(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK), e = eventfd(0, 0);
	struct itimerspec cur, old, bad = { .it_value = { .tv_sec = 1, .tv_nsec = NS } };
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t count;
	char small[4];

	CHECK(fd >= 0 && e >= 0);
	CHECK(timerfd_gettime(fd, &cur) == 0 && ns_of(cur.it_value) == 0 && ns_of(cur.it_interval) == 0);	/* disarmed */
	CHECK(read(fd, &count, sizeof(count)) == -1 && errno == EAGAIN);
	CHECK(arm(fd, 0, 3600 * NS, 0) == 0);
	CHECK(read(fd, &count, sizeof(count)) == -1 && errno == EAGAIN);	/* an hour early */
	CHECK(poll(&p, 1, 0) == 0);
	CHECK(read(fd, small, sizeof(small)) == -1 && errno == EINVAL);
	CHECK(write(fd, &count, sizeof(count)) == -1 && errno == EINVAL);
	CHECK(timerfd_gettime(fd, &cur) == 0 && ns_of(cur.it_value) > 3599 * NS && ns_of(cur.it_value) <= 3600 * NS && ns_of(cur.it_interval) == 0);
	{
		struct itimerspec v = { .it_value = ts_of(7200 * NS), .it_interval = ts_of(NS / 2) };

		CHECK(timerfd_settime(fd, 0, &v, &old) == 0);
	}
	CHECK(ns_of(old.it_value) > 3599 * NS && ns_of(old.it_value) <= 3600 * NS && ns_of(old.it_interval) == 0);
	CHECK(timerfd_gettime(fd, &cur) == 0 && ns_of(cur.it_value) > 7199 * NS && ns_of(cur.it_interval) == NS / 2);
	/* refused as Linux refuses */
	CHECK(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0) == -1 && errno == EINVAL);
	CHECK(timerfd_create(CLOCK_MONOTONIC, EFD_SEMAPHORE) == -1 && errno == EINVAL);
	CHECK(timerfd_settime(fd, 0, &bad, NULL) == -1 && errno == EINVAL);
	CHECK(timerfd_settime(fd, TFD_TIMER_CANCEL_ON_SET, &cur, NULL) == -1 && errno == EINVAL);
	CHECK(timerfd_settime(e, 0, &cur, NULL) == -1 && errno == EINVAL);	/* not a timerfd */
	CHECK(timerfd_gettime(e, &cur) == -1 && errno == EINVAL);
	CHECK(timerfd_settime(999, 0, &cur, NULL) == -1 && errno == EBADF);
	CHECK(timerfd_gettime(999, &cur) == -1 && errno == EBADF);
	CHECK(timerfd_settime(fd, 0, nowhere, NULL) == -1 && errno == EFAULT && timerfd_gettime(fd, nowhere) == -1 && errno == EFAULT);
	CHECK(timerfd_create(CLOCK_BOOTTIME, 0) >= 0 && timerfd_create(CLOCK_REALTIME, 0) >= 0);
	return 0;
}

/* The anonymous files have no position, as Linux's (checked on 6.18): pread
 * and pwrite ESPIPE, lseek 0 whatever it is asked (SEEK_DATA and SEEK_HOLE
 * too; a whence past SEEK_HOLE EINVAL),
 * a read moving nothing. */
NOOKS_EXPORT long no_position(void)
{
	sigset_t hup;
	int fds[4], i;
	uint64_t count = 1;

	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	fds[0] = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	fds[1] = eventfd(1, EFD_NONBLOCK);
	fds[2] = signalfd(-1, &hup, SFD_NONBLOCK);
	fds[3] = epoll_create1(0);
	for (i = 0; i < 4; i++) {
		CHECK(fds[i] >= 0);
		CHECK(pread(fds[i], &count, sizeof(count), 0) == -1 && errno == ESPIPE);
		CHECK(pwrite(fds[i], &count, sizeof(count), 0) == -1 && errno == ESPIPE);
		CHECK(lseek(fds[i], 5, SEEK_SET) == 0 && lseek(fds[i], 0, SEEK_CUR) == 0 && lseek(fds[i], 0, SEEK_END) == 0);
		CHECK(lseek(fds[i], -7, SEEK_DATA) == 0 && lseek(fds[i], -7, SEEK_HOLE) == 0);
		CHECK(lseek(fds[i], 0, 99) == -1 && errno == EINVAL && lseek(fds[i], 0, -1) == -1 && errno == EINVAL);
	}
	CHECK(read(fds[1], &count, sizeof(count)) == sizeof(count) && lseek(fds[1], 0, SEEK_CUR) == 0);
	return 0;
}

/* TFD_TIMER_ABSTIME in the past: the expiries since fire at once, a blocking read waits for nothing. */
NOOKS_EXPORT long abstime_past(void)
{
	int fd = timerfd_create(CLOCK_REALTIME, 0), mono = timerfd_create(CLOCK_MONOTONIC, 0);
	uint64_t count;
	struct itimerspec cur;

	CHECK(fd >= 0 && mono >= 0);
	CHECK(arm(fd, TFD_TIMER_ABSTIME, now_ns(CLOCK_REALTIME) - NS, 0) == 0);
	CHECK(read(fd, &count, sizeof(count)) == sizeof(count) && count == 1);
	CHECK(timerfd_gettime(fd, &cur) == 0 && ns_of(cur.it_value) == 0);	/* its one expiry past */
	/* 10 ms ago, every ms: 11 expiries at least */
	CHECK(arm(mono, TFD_TIMER_ABSTIME, now_ns(CLOCK_MONOTONIC) - 10 * 1000000LL, 1000000LL) == 0);
	CHECK(read(mono, &count, sizeof(count)) == sizeof(count) && count >= 11);
	close(fd);
	close(mono);
	return 0;
}

/* A disarm stops the expiries: after a catch-up read and the disarm, n intervals bring none. */
NOOKS_EXPORT long disarm(long n)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, 0);
	uint64_t count;
	struct itimerspec cur;

	CHECK(fd >= 0 && arm(fd, 0, 1000000LL, 1000000LL) == 0);
	usleep(3000);
	CHECK(read(fd, &count, sizeof(count)) == sizeof(count) && count >= 3);	/* caught up */
	CHECK(arm(fd, 0, 0, 1000000LL) == 0);
	CHECK(timerfd_gettime(fd, &cur) == 0 && ns_of(cur.it_value) == 0 && ns_of(cur.it_interval) == 1000000LL);
	CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
	usleep((useconds_t)(n * 1000));
	CHECK(read(fd, &count, sizeof(count)) == -1 && errno == EAGAIN);
	close(fd);
	return 0;
}

/* An epoll loop over a timerfd (data 1) and an eventfd (data 2) until both are reported; 3 when they were. */
NOOKS_EXPORT long epoll_loop(void)
{
	int ep = epoll_create1(0), t = timerfd_create(CLOCK_MONOTONIC, 0), e = eventfd(0, 0);
	struct epoll_event ev = { .events = EPOLLIN }, got[2];
	long seen = 0;
	uint64_t v;

	CHECK(ep >= 0 && t >= 0 && e >= 0);
	ev.data.u64 = 1;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev) == 0);
	ev.data.u64 = 2;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev) == 0);
	CHECK(epoll_wait(ep, got, 2, 0) == 0);
	CHECK(arm(t, 0, 2000000LL, 0) == 0 && eventfd_write(e, 5) == 0);
	while (seen != 3) {
		int n = epoll_wait(ep, got, 2, -1);

		CHECK(n > 0);
		for (int i = 0; i < n; i++) {
			CHECK(got[i].events == EPOLLIN);
			CHECK(read(got[i].data.u64 == 1 ? t : e, &v, sizeof(v)) == sizeof(v) && v == (got[i].data.u64 == 1 ? 1 : 5));
			seen |= (long)got[i].data.u64;
		}
	}
	CHECK(epoll_wait(ep, got, 2, 0) == 0);	/* both read: nothing ready */
	close(ep);
	close(t);
	close(e);
	return seen;
}

/* EPOLLET: one report per batch of expiries, those between two reads (a level watch reports while one is unread); poll and select see it readable. */
NOOKS_EXPORT long edges(void)
{
	int edge = epoll_create1(0), level = epoll_create1(0), t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET }, got;
	struct pollfd p = { .fd = t, .events = POLLIN | POLLOUT };
	struct timeval zero = { 0 };
	fd_set r;
	uint64_t v;

	CHECK(edge >= 0 && level >= 0 && t >= 0);
	CHECK(epoll_ctl(edge, EPOLL_CTL_ADD, t, &ev) == 0);
	ev.events = EPOLLIN;
	CHECK(epoll_ctl(level, EPOLL_CTL_ADD, t, &ev) == 0);
	FD_ZERO(&r);
	FD_SET(t, &r);
	CHECK(select(t + 1, &r, NULL, NULL, &zero) == 0 && !FD_ISSET(t, &r));
	CHECK(arm(t, TFD_TIMER_ABSTIME, 1, 0) == 0);	/* long past: one expiry */
	CHECK(epoll_wait(edge, &got, 1, 0) == 1 && epoll_wait(edge, &got, 1, 0) == 0);	/* reported once */
	CHECK(epoll_wait(level, &got, 1, 0) == 1 && epoll_wait(level, &got, 1, 0) == 1);	/* while unread */
	CHECK(poll(&p, 1, 0) == 1 && p.revents == POLLIN);	/* never writable */
	FD_SET(t, &r);
	CHECK(select(t + 1, &r, NULL, NULL, &zero) == 1 && FD_ISSET(t, &r));
	CHECK(arm(t, TFD_TIMER_ABSTIME, 1, 0) == 0);	/* armed again: a new expiry, a new edge */
	CHECK(epoll_wait(edge, &got, 1, 0) == 1 && epoll_wait(edge, &got, 1, 0) == 0);
	CHECK(read(t, &v, sizeof(v)) == sizeof(v) && v == 1);
	CHECK(epoll_wait(level, &got, 1, 0) == 0 && poll(&p, 1, 0) == 0);
	/* every ms: after a read, a nap of 2 ms brings a new batch, a new edge; while it is unread, more expiries join it unseen */
	CHECK(arm(t, 0, 1000000LL, 1000000LL) == 0);
	for (int i = 0; i < 3; i++) {
		usleep(2000);
		CHECK(epoll_wait(edge, &got, 1, 0) == 1);
		usleep(2000);
		CHECK(epoll_wait(edge, &got, 1, 0) == 0 && epoll_wait(level, &got, 1, 0) == 1);
		CHECK(read(t, &v, sizeof(v)) == sizeof(v) && v >= 2);
	}
	close(edge);
	close(level);
	close(t);
	return 0;
}

/* n timerfds armed every ms, left open (the driver's objects until closed or recovered). */
NOOKS_EXPORT long arm_many(long n)
{
	for (long i = 0; i < n; i++) {
		int fd = timerfd_create(CLOCK_MONOTONIC, 0);

		CHECK(fd >= 0 && arm(fd, 0, 1000000LL, 1000000LL) == 0);
	}
	return 0;
}

/* A thread named "timer-read" reads a timerfd armed an hour ahead: only a failure ends its wait. */
static volatile long reading;

static void *read_forever(void *arg)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, 0);
	uint64_t v;

	arm(fd, 0, 3600 * NS, 0);
	reading = 1;
	read(fd, &v, sizeof(v));
	return arg;
}

NOOKS_EXPORT long start_reader(void)
{
	pthread_t t;

	return pthread_create(&t, NULL, read_forever, NULL) || pthread_setname_np(t, "timer-read") || pthread_detach(t);
}

NOOKS_EXPORT long reader_started(void)
{
	return reading;
}

/* A fault on the host's thread, inside the driver while the reader waits. */
NOOKS_EXPORT long crash(long *at)
{
	*(volatile long *)at = 1;
	return 0;
}

static void *returns(void *arg)
{
	return arg;
}

/* CPU 0 alone, as sysconf(_SC_NPROCESSORS_ONLN) says 1; pinning answered 0 and not made. */
NOOKS_EXPORT long affinity(void)
{
	cpu_set_t set, none;

	CPU_ZERO(&none);
	CHECK(pthread_getaffinity_np(pthread_self(), sizeof(set), &set) == 0 && CPU_COUNT(&set) == 1 && CPU_ISSET(0, &set));
	CHECK(sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) == 1 && CPU_ISSET(0, &set));
	CHECK(sched_getaffinity(getpid(), sizeof(set), &set) == 0 && CPU_COUNT(&set) == 1);
	CHECK(sched_getaffinity(0, 4, &set) == -1 && errno == EINVAL);	/* smaller than the kernel's mask */
	CHECK(pthread_getaffinity_np(pthread_self(), 12, &set) == EINVAL);
	CHECK(sched_getaffinity(1, sizeof(set), &set) == -1 && errno == ESRCH);	/* not the driver's */
	CHECK(sched_getaffinity(0, sizeof(set), nowhere) == -1 && errno == EFAULT && pthread_getaffinity_np(pthread_self(), sizeof(set), nowhere) == EFAULT);
	CHECK(sched_setaffinity(0, sizeof(set), nowhere) == -1 && errno == EFAULT && pthread_setaffinity_np(pthread_self(), sizeof(set), nowhere) == EFAULT);
	CPU_ZERO(&set);
	CPU_SET(3, &set);
	CHECK(sched_setaffinity(0, sizeof(set), &set) == 0 && pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0);
	CHECK(sched_setaffinity(0, sizeof(none), &none) == -1 && errno == EINVAL);
	CHECK(pthread_setaffinity_np(pthread_self(), sizeof(none), &none) == EINVAL);
	{
		pthread_attr_t attr;
		pthread_t t;

		/* a thread's set before it starts, as DPDK makes its control threads */
		CHECK(pthread_attr_init(&attr) == 0 && pthread_attr_setaffinity_np(&attr, sizeof(set), &set) == 0);
		CHECK(pthread_attr_setaffinity_np(&attr, sizeof(none), &none) == EINVAL && pthread_attr_setaffinity_np(&attr, 0, &none) == 0);
		CHECK(pthread_attr_getaffinity_np(&attr, 4, &none) == EINVAL);
		CHECK(pthread_attr_getaffinity_np(&attr, sizeof(set), &set) == 0 && CPU_COUNT(&set) == 1 && CPU_ISSET(0, &set));
		CHECK(pthread_create(&t, &attr, returns, NULL) == 0 && pthread_join(t, NULL) == 0 && pthread_attr_destroy(&attr) == 0);
		CPU_ZERO(&none);
		CPU_ZERO(&set);
		CPU_SET(3, &set);
	}
	CHECK(sched_setaffinity(1, sizeof(set), &set) == -1 && errno == ESRCH);
	CHECK(sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) == 1 && CPU_ISSET(0, &set));	/* still CPU 0 */
	CHECK(sched_getcpu() == 0);
	{
		cpu_set_t *many = CPU_ALLOC(256);

		CHECK(many && sched_getaffinity(0, CPU_ALLOC_SIZE(256), many) == 0 && CPU_COUNT_S(CPU_ALLOC_SIZE(256), many) == 1);
		CPU_FREE(many);
	}
	return 0;
}
`;

let path: string;
beforeAll(() => {
  path = buildDriver(dir, 'timerfd', source, { posix: true });
}, 120_000);

const timerfds = (d: Driver) => d.objects().filter((o) => o.type === 'file' && o.label === 'anon_inode:[timerfd]');

describe.each<Isolation>(['mprotect', 'process', 'none'])("timerfd and affinity, isolation '%s'", (isolation) => {
  const kernel = kernelPerBlock({ isolation, policy: { default: { maxFailures: 20 } } });

  it('a periodic timer read blocking: each read counts 1 or more, a read after a nap of 4 intervals 4 or more, the sum between the expiries the clock allows before the last read and after it', async () => {
    const d = await kernel().load(path, { timeBudgetMs: 20_000 });
    const sum = d.call('periodic', 2000, 40, 20); // 2 ms, 40 reads, a nap before the 21st
    expect(sum).toBeGreaterThanOrEqual(40 + 3);
    expect(sum).toBeGreaterThanOrEqual(d.call('periodic_lowest'));
    expect(sum).toBeLessThanOrEqual(d.call('periodic_highest'));
    expect(timerfds(d)).toEqual([]); // closed
    d.unload();
  });

  it('a nonblocking read an hour early is EAGAIN; reads under 8 bytes and writes EINVAL; gettime and old_value; other clocks, flags and files refused; a NULL setting EFAULT', async () => {
    const d = await kernel().load(path);
    expect(d.call('answers')).toBe(0);
    d.unload();
  });

  it('a timerfd, an eventfd, a signalfd and an epoll have no position, as Linux\'s: pread and pwrite ESPIPE, lseek 0 moving nothing', async () => {
    const d = await kernel().load(path);
    expect(d.call('no_position')).toBe(0);
    d.unload();
  });

  it('TFD_TIMER_ABSTIME in the past fires at once, counting every period since; a disarm stops the expiries', async () => {
    const d = await kernel().load(path, { timeBudgetMs: 5_000 });
    expect(d.call('abstime_past')).toBe(0);
    expect(d.call('disarm', 10)).toBe(0);
    d.unload();
  });

  it('an epoll loop over a timerfd and an eventfd reports both; EPOLLET once per batch of expiries; poll and select see it readable', async () => {
    const d = await kernel().load(path, { timeBudgetMs: 5_000 });
    expect(d.call('epoll_loop')).toBe(3); // both reported
    expect(d.call('edges')).toBe(0);
    d.unload();
  });

  it('50 timerfds armed every ms start no thread; each is an object of type file, released at recovery', async () => {
    const d = await kernel().load(path);
    const before = tasks();
    expect(d.call('arm_many', 50)).toBe(0);
    expect(timerfds(d)).toHaveLength(50);
    expect(tasks()).toBe(before);
    d.recover();
    expect(d.state).toBe('running');
    expect(timerfds(d)).toEqual([]);
    d.unload();
  });

  it('a thread blocked reading a timerfd sleeps in the kernel; a failure ends its wait and the driver is recovered with no thread left', async () => {
    const d = await kernel().load(path, { timeBudgetMs: 2_000 });
    const before = tasks();
    expect(d.call('start_reader')).toBe(0);
    await until(() => d.call('reader_started') === 1 && inKernelWait(tidOf('timer-read')), 'the reader asleep in its read');
    expect(timerfds(d)).toHaveLength(1);

    await failWhileWaiting(kernel(), d, isolation, before);
    expect(timerfds(d)).toEqual([]);
    d.unload();
  });

  it('affinity: CPU 0 alone (pthread_getaffinity_np, pthread_attr_getaffinity_np, sched_getaffinity, sched_getcpu); pinning answered 0 (a thread\'s attribute too), an empty set EINVAL, another pid ESRCH, a NULL set EFAULT', async () => {
    const d = await kernel().load(path);
    expect(d.call('affinity')).toBe(0);
    d.unload();
  });
});
