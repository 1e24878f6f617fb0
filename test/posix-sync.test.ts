// Semaphores, read-write locks and barriers of the POSIX personality
// (native/driver-rt/posix/semaphore.c, rwlock.c, barrier.c), with real
// threads in a real driver: every function's answers (the errors POSIX gives
// them, the timed waits ending at their deadline), contention (a producer and
// a consumer pass items in order through a ring counted by two semaphores;
// threads take a semaphore as a lock; readers hold a read lock together and
// writers alone, the driver counting who is inside, on a lock that prefers
// readers and on one that prefers writers; threads meet at a barrier round
// after round, one of them the serial thread each time, with its serial
// thread destroying and initing it again each round, and on the stack of a
// thread that destroys it and ends each round), a waiting writer keeps a new
// reader out of a lock that prefers writers only, and a driver
// that faults while threads wait on each of them is recovered with none of
// them left, in each isolation mode the personality runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver, Isolation } from '../lib/index.js';
import { buildDriver } from './helpers/build-driver.js';
import { crashSource, failWhileWaiting } from './helpers/fail-waiting.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { inKernelWait, tasks, tasksBackTo, tidOf } from './helpers/tasks.js';
import { until } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-posix-sync-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const source = `
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <nooks/kapi.h>

#define CHECK(x) do { if (!(x)) return -__LINE__; } while (0)

static long long now_ns(clockid_t clock)
{
	struct timespec t;

	clock_gettime(clock, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* CLOCK_REALTIME's time ms from now, as an abstime. */
static struct timespec in_ms(long ms)
{
	long long at = now_ns(CLOCK_REALTIME) + ms * 1000000LL;

	return (struct timespec){ .tv_sec = at / 1000000000LL, .tv_nsec = at % 1000000000LL };
}

/* Every semaphore call's answers on one thread: 0, or minus the failing line. */
NOOKS_EXPORT long sem_answers(void)
{
	sem_t s;
	int v;
	struct timespec bad = { .tv_sec = 0, .tv_nsec = -1 }, soon;
	long long from;

	CHECK(sem_init(&s, 1, 0) == -1 && errno == ENOSYS);
	CHECK(sem_init(&s, 0, (unsigned int)SEM_VALUE_MAX + 1) == -1 && errno == EINVAL);
	CHECK(sem_init(&s, 0, 2) == 0);
	CHECK(sem_getvalue(&s, &v) == 0 && v == 2);
	CHECK(sem_trywait(&s) == 0 && sem_wait(&s) == 0);
	CHECK(sem_trywait(&s) == -1 && errno == EAGAIN);
	CHECK(sem_timedwait(&s, &bad) == -1 && errno == EINVAL);
	from = now_ns(CLOCK_REALTIME);	/* before the deadline is made: a thread preempted in between still waits 20 ms from here */
	soon = in_ms(20);
	CHECK(sem_timedwait(&s, &soon) == -1 && errno == ETIMEDOUT);
	CHECK(now_ns(CLOCK_REALTIME) - from >= 20000000LL);
	CHECK(sem_post(&s) == 0 && sem_getvalue(&s, &v) == 0 && v == 1);
	/* takeable at once, but a bad deadline is EINVAL first, as glibc 2.36 checks: nothing taken */
	CHECK(sem_timedwait(&s, &bad) == -1 && errno == EINVAL && sem_getvalue(&s, &v) == 0 && v == 1);
	CHECK(sem_trywait(&s) == 0);
	CHECK(sem_destroy(&s) == 0);
	CHECK(sem_init(&s, 0, SEM_VALUE_MAX - 1) == 0 && sem_post(&s) == 0);
	CHECK(sem_post(&s) == -1 && errno == EOVERFLOW);
	CHECK(sem_getvalue(&s, &v) == 0 && v == SEM_VALUE_MAX);
	return sem_destroy(&s);
}

enum { RING = 8 };
static long ring[RING];
static sem_t slots, items;

static void *produce(void *arg)
{
	for (long i = 1; i <= (long)arg; i++) {
		sem_wait(&slots);
		ring[i % RING] = i;
		sem_post(&items);
	}
	return NULL;
}

/* A producer thread passes 1..n through a ring of 8 counted by two
 * semaphores; this thread takes them: the sum if every one came in order, else -1. */
NOOKS_EXPORT long sem_produce_consume(long n)
{
	pthread_t producer;
	long sum = 0;

	if (sem_init(&slots, 0, RING) || sem_init(&items, 0, 0) || pthread_create(&producer, NULL, produce, (void *)n))
		return -2;
	for (long i = 1; i <= n; i++) {
		sem_wait(&items);
		if (ring[i % RING] != i)
			sum = -1;
		else if (sum >= 0)
			sum += i;
		sem_post(&slots);
	}
	pthread_join(producer, NULL);
	return sum;
}

enum { LOCKERS = 4 };
static sem_t as_lock;
static long inside, most_inside, locked_count;

static void *lock_often(void *arg)
{
	for (long i = 0; i < (long)arg; i++) {
		sem_wait(&as_lock);
		long now = __atomic_add_fetch(&inside, 1, __ATOMIC_SEQ_CST);
		if (now > most_inside)
			most_inside = now;
		locked_count++;	/* not atomic: the semaphore is the lock */
		__atomic_sub_fetch(&inside, 1, __ATOMIC_SEQ_CST);
		sem_post(&as_lock);
	}
	return NULL;
}

/* 4 threads take a semaphore of 1 as a lock n times each: the count
 * if never two were inside and no increment was lost, else -1. */
NOOKS_EXPORT long sem_as_lock(long n)
{
	pthread_t t[LOCKERS];

	sem_init(&as_lock, 0, 1);
	for (int i = 0; i < LOCKERS; i++)
		pthread_create(&t[i], NULL, lock_often, (void *)n);
	for (int i = 0; i < LOCKERS; i++)
		pthread_join(t[i], NULL);
	return most_inside == 1 ? locked_count : -1;
}

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static sem_t held, release;

/* Holds rw (to write if arg) until told to let go. */
static void *hold_rw(void *arg)
{
	if (arg)
		pthread_rwlock_wrlock(&rw);
	else
		pthread_rwlock_rdlock(&rw);
	sem_post(&held);
	sem_wait(&release);
	pthread_rwlock_unlock(&rw);
	return NULL;
}

static pthread_t start_holder(long write)
{
	pthread_t t;

	pthread_create(&t, NULL, hold_rw, (void *)write);
	sem_wait(&held);
	return t;
}

static void stop_holder(pthread_t t)
{
	sem_post(&release);
	pthread_join(t, NULL);
}

/* Every rwlock call's answers, another thread holding it to read or to write. */
NOOKS_EXPORT long rwlock_answers(void)
{
	struct timespec bad = { .tv_sec = 0, .tv_nsec = 1000000000 }, soon;
	pthread_rwlockattr_t a;
	pthread_t t;
	long long from;

	sem_init(&held, 0, 0);
	sem_init(&release, 0, 0);
	CHECK(pthread_rwlockattr_init(&a) == 0 && pthread_rwlockattr_setkind_np(&a, 3) == EINVAL);
	CHECK(pthread_rwlockattr_setpshared(&a, PTHREAD_PROCESS_SHARED) == ENOSYS && pthread_rwlockattr_setpshared(&a, PTHREAD_PROCESS_PRIVATE) == 0);
	CHECK(pthread_rwlock_init(&rw, &a) == 0 && pthread_rwlockattr_destroy(&a) == 0);
	/* this thread alone */
	CHECK(pthread_rwlock_rdlock(&rw) == 0 && pthread_rwlock_tryrdlock(&rw) == 0);	/* a read lock taken twice */
	CHECK(pthread_rwlock_trywrlock(&rw) == EBUSY && pthread_rwlock_destroy(&rw) == EBUSY);
	CHECK(pthread_rwlock_unlock(&rw) == 0 && pthread_rwlock_unlock(&rw) == 0);
	CHECK(pthread_rwlock_wrlock(&rw) == 0);
	CHECK(pthread_rwlock_rdlock(&rw) == EDEADLK && pthread_rwlock_wrlock(&rw) == EDEADLK);
	CHECK(pthread_rwlock_unlock(&rw) == 0 && pthread_rwlock_trywrlock(&rw) == 0 && pthread_rwlock_unlock(&rw) == 0);
	/* another thread reads: reading goes on, writing waits */
	t = start_holder(0);
	CHECK(pthread_rwlock_tryrdlock(&rw) == 0 && pthread_rwlock_unlock(&rw) == 0);
	soon = in_ms(20);
	CHECK(pthread_rwlock_timedrdlock(&rw, &soon) == 0 && pthread_rwlock_unlock(&rw) == 0);
	CHECK(pthread_rwlock_trywrlock(&rw) == EBUSY);
	CHECK(pthread_rwlock_timedwrlock(&rw, &bad) == EINVAL);
	from = now_ns(CLOCK_REALTIME);	/* before the deadline is made: a thread preempted in between still waits 20 ms from here */
	soon = in_ms(20);
	CHECK(pthread_rwlock_timedwrlock(&rw, &soon) == ETIMEDOUT);
	CHECK(now_ns(CLOCK_REALTIME) - from >= 20000000LL);
	stop_holder(t);
	/* another thread writes: both wait */
	t = start_holder(1);
	CHECK(pthread_rwlock_tryrdlock(&rw) == EBUSY && pthread_rwlock_trywrlock(&rw) == EBUSY);
	soon = in_ms(20);
	CHECK(pthread_rwlock_timedrdlock(&rw, &soon) == ETIMEDOUT);
	soon = in_ms(20);
	CHECK(pthread_rwlock_timedwrlock(&rw, &soon) == ETIMEDOUT);
	stop_holder(t);
	soon = in_ms(20);
	CHECK(pthread_rwlock_timedwrlock(&rw, &soon) == 0 && pthread_rwlock_unlock(&rw) == 0);
	return pthread_rwlock_destroy(&rw);
}

static pthread_mutex_t timed = PTHREAD_MUTEX_INITIALIZER;
static sem_t timed_held, timed_release;

/* Holds timed until told to let go. */
static void *hold_mutex(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&timed);
	sem_post(&timed_held);
	sem_wait(&timed_release);
	pthread_mutex_unlock(&timed);
	return NULL;
}

/* pthread_mutex_timedlock and clocklock, the mutex free, another thread's or the caller's. */
NOOKS_EXPORT long mutex_timed_answers(void)
{
	struct timespec bad = { .tv_sec = 0, .tv_nsec = 1000000000 }, past = { .tv_sec = -1, .tv_nsec = 0 }, soon;
	pthread_mutexattr_t a;
	pthread_mutex_t own;
	pthread_t t;
	long long from;

	sem_init(&timed_held, 0, 0);
	sem_init(&timed_release, 0, 0);
	CHECK(pthread_mutex_timedlock(&timed, &bad) == 0 && pthread_mutex_unlock(&timed) == 0);	/* free: the deadline is not looked at */
	pthread_create(&t, NULL, hold_mutex, NULL);
	sem_wait(&timed_held);
	CHECK(pthread_mutex_trylock(&timed) == EBUSY);
	CHECK(pthread_mutex_timedlock(&timed, &bad) == EINVAL);
	CHECK(pthread_mutex_timedlock(&timed, &past) == ETIMEDOUT);
	from = now_ns(CLOCK_REALTIME);	/* before the deadline is made: a thread preempted in between still waits 20 ms from here */
	soon = in_ms(20);
	CHECK(pthread_mutex_timedlock(&timed, &soon) == ETIMEDOUT);
	CHECK(now_ns(CLOCK_REALTIME) - from >= 20000000LL);
	from = now_ns(CLOCK_MONOTONIC) + 20000000LL;
	soon = (struct timespec){ .tv_sec = from / 1000000000LL, .tv_nsec = from % 1000000000LL };
	CHECK(pthread_mutex_clocklock(&timed, CLOCK_MONOTONIC, &soon) == ETIMEDOUT && now_ns(CLOCK_MONOTONIC) >= from);
	CHECK(pthread_mutex_clocklock(&timed, CLOCK_BOOTTIME, &soon) == EINVAL);
	/* let go while this thread waits, or is about to: taken */
	sem_post(&timed_release);
	soon = in_ms(10000);
	CHECK(pthread_mutex_timedlock(&timed, &soon) == 0);
	CHECK(pthread_join(t, NULL) == 0 && pthread_mutex_unlock(&timed) == 0);
	/* the caller's own: as pthread_mutex_lock for a recursive or an error-checking one; a normal one times out, as glibc's */
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&own, &a);
	CHECK(pthread_mutex_lock(&own) == 0 && pthread_mutex_timedlock(&own, &bad) == 0);
	CHECK(pthread_mutex_unlock(&own) == 0 && pthread_mutex_unlock(&own) == 0 && pthread_mutex_destroy(&own) == 0);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&own, &a);
	CHECK(pthread_mutex_lock(&own) == 0 && pthread_mutex_timedlock(&own, &bad) == EDEADLK && pthread_mutex_unlock(&own) == 0);
	soon = in_ms(20);
	CHECK(pthread_mutex_lock(&timed) == 0 && pthread_mutex_timedlock(&timed, &soon) == ETIMEDOUT);
	CHECK(pthread_mutex_unlock(&timed) == 0 && pthread_mutex_trylock(&timed) == 0 && pthread_mutex_unlock(&timed) == 0);
	return 0;
}

enum { READERS = 4, WRITERS = 2 };
static pthread_barrier_t readers_meet;
static long readers_in, writers_in, broken, written;

static int rw_kind;

/* Readers first hold the lock all together (they meet at a barrier while
 * holding it, which never ends if one reader shuts out another; not when
 * writers are preferred: a waiting writer keeps the later readers out by
 * design); then readers and writers take it n times each, and count who is inside. */
static void *use_rw(void *arg)
{
	long n = (long)arg & 0xffffff, writer = (long)arg >> 24;

	if (!writer && rw_kind != PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP) {
		pthread_rwlock_rdlock(&rw);
		pthread_barrier_wait(&readers_meet);
		pthread_rwlock_unlock(&rw);
	}
	for (long i = 0; i < n; i++) {
		if (writer) {
			pthread_rwlock_wrlock(&rw);
			if (__atomic_add_fetch(&writers_in, 1, __ATOMIC_SEQ_CST) != 1 || __atomic_load_n(&readers_in, __ATOMIC_SEQ_CST))
				__atomic_add_fetch(&broken, 1, __ATOMIC_SEQ_CST);
			written++;	/* not atomic: the lock is held to write */
			__atomic_sub_fetch(&writers_in, 1, __ATOMIC_SEQ_CST);
		} else {
			pthread_rwlock_rdlock(&rw);
			__atomic_add_fetch(&readers_in, 1, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&writers_in, __ATOMIC_SEQ_CST))
				__atomic_add_fetch(&broken, 1, __ATOMIC_SEQ_CST);
			__atomic_sub_fetch(&readers_in, 1, __ATOMIC_SEQ_CST);
		}
		pthread_rwlock_unlock(&rw);
	}
	return NULL;
}

/* 4 readers and 2 writers, n rounds each, on a lock of that kind: what the
 * writers wrote if nobody ever found a writer beside another or beside a reader, else -1. */
NOOKS_EXPORT long rwlock_contend(long n, long kind)
{
	pthread_t t[READERS + WRITERS];
	pthread_rwlockattr_t a;

	rw_kind = (int)kind;
	broken = written = 0;
	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a, rw_kind);
	pthread_rwlock_init(&rw, &a);
	pthread_barrier_init(&readers_meet, NULL, READERS);
	for (long i = 0; i < READERS + WRITERS; i++)
		pthread_create(&t[i], NULL, use_rw, (void *)(n | (i >= READERS ? 1L << 24 : 0)));
	for (int i = 0; i < READERS + WRITERS; i++)
		pthread_join(t[i], NULL);
	return broken ? -1 : written;
}

enum { MEETERS = 4 };
static pthread_barrier_t meet;
static long round_of[MEETERS], serials, mismatches;

static void *meet_often(void *arg)
{
	long me = (long)arg & 0xff, rounds = (long)arg >> 8;

	for (long r = 1; r <= rounds; r++) {
		round_of[me] = r;
		if (pthread_barrier_wait(&meet) == PTHREAD_BARRIER_SERIAL_THREAD)
			__atomic_add_fetch(&serials, 1, __ATOMIC_SEQ_CST);
		for (int i = 0; i < MEETERS; i++)
			if (__atomic_load_n(&round_of[i], __ATOMIC_SEQ_CST) != r)
				__atomic_add_fetch(&mismatches, 1, __ATOMIC_SEQ_CST);
		if (pthread_barrier_wait(&meet) == PTHREAD_BARRIER_SERIAL_THREAD)	/* nobody writes round r + 1 before all have looked */
			__atomic_add_fetch(&serials, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

/* 4 threads meet twice a round for n rounds: the serial threads counted
 * if each saw every other at its round, else -1. */
NOOKS_EXPORT long barrier_rounds(long n)
{
	pthread_barrierattr_t a;
	pthread_t t[MEETERS];

	CHECK(pthread_barrier_init(&meet, NULL, 0) == EINVAL);
	CHECK(pthread_barrierattr_init(&a) == 0 && pthread_barrier_init(&meet, &a, MEETERS) == 0 && pthread_barrierattr_destroy(&a) == 0);
	for (long i = 0; i < MEETERS; i++)
		pthread_create(&t[i], NULL, meet_often, (void *)(i | n << 8));
	for (int i = 0; i < MEETERS; i++)
		pthread_join(t[i], NULL);
	CHECK(pthread_barrier_destroy(&meet) == 0);
	return mismatches ? -1 : serials;
}

enum { REUSERS = 4 };
static pthread_barrier_t reused, gate;
static sem_t reusers_done;
static long reuse_errors;

/* Each round the serial thread destroys the barrier the moment its wait
 * returns, scribbles over it as a reuse of the memory would and inits it
 * again, while the others may not yet have looked at its round; the gate
 * keeps them from the next round until it is ready. */
static void *reuse_often(void *arg)
{
	for (long r = 0; r < (long)arg; r++) {
		if (pthread_barrier_wait(&reused) == PTHREAD_BARRIER_SERIAL_THREAD) {
			if (pthread_barrier_destroy(&reused) != 0)
				__atomic_add_fetch(&reuse_errors, 1, __ATOMIC_SEQ_CST);
			memset(&reused, 0xa5, sizeof(reused));
			pthread_barrier_init(&reused, NULL, REUSERS);
		}
		pthread_barrier_wait(&gate);
	}
	sem_post(&reusers_done);
	return NULL;
}

/* 4 threads through n rounds of a barrier destroyed and inited again by its
 * serial thread: n, or -1 if a destroy failed, or the threads left when they
 * did not all end within 60 s (a thread stuck in a wait that never ends). */
NOOKS_EXPORT long barrier_reuse(long n)
{
	pthread_t t[REUSERS];
	struct timespec until = in_ms(60000);
	int left = REUSERS;

	CHECK(pthread_barrier_init(&reused, NULL, REUSERS) == 0 && pthread_barrier_init(&gate, NULL, REUSERS) == 0);
	CHECK(sem_init(&reusers_done, 0, 0) == 0);
	for (long i = 0; i < REUSERS; i++)
		pthread_create(&t[i], NULL, reuse_often, (void *)n);
	while (left && sem_timedwait(&reusers_done, &until) == 0)
		left--;
	if (left)
		return 1000000 + left;
	for (int i = 0; i < REUSERS; i++)
		pthread_join(t[i], NULL);
	return reuse_errors ? -1 : n;
}

/* Writer preference: the host's call holds kind_rw to read while a writer
 * thread waits for it; a new reader then gets in, but for a lock that
 * prefers writers (PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP). */
static pthread_rwlock_t kind_rw;
static pthread_t kind_writer;

static void *write_kind_rw(void *arg)
{
	pthread_rwlock_wrlock(&kind_rw);
	pthread_rwlock_unlock(&kind_rw);
	return arg;
}

/* A lock of that kind held to read, and its writer thread rw-writer-<kind> started. */
NOOKS_EXPORT long kind_start(long kind)
{
	pthread_rwlockattr_t a;
	char name[24];
	int got;

	CHECK(pthread_rwlockattr_init(&a) == 0 && pthread_rwlockattr_setkind_np(&a, (int)kind) == 0);
	CHECK(pthread_rwlockattr_getkind_np(&a, &got) == 0 && got == kind);
	CHECK(pthread_rwlock_init(&kind_rw, &a) == 0 && pthread_rwlock_rdlock(&kind_rw) == 0);
	snprintf(name, sizeof(name), "rw-writer-%ld", kind);
	CHECK(pthread_create(&kind_writer, NULL, write_kind_rw, NULL) == 0 && pthread_setname_np(kind_writer, name) == 0);
	return 0;
}

/* tryrdlock's answer now (a lock it takes it lets go at once). */
NOOKS_EXPORT long kind_try_read(void)
{
	int r = pthread_rwlock_tryrdlock(&kind_rw);

	if (r == 0)
		pthread_rwlock_unlock(&kind_rw);
	return r;
}

/* The read lock let go: the writer gets in and ends. */
NOOKS_EXPORT long kind_finish(void)
{
	CHECK(pthread_rwlock_unlock(&kind_rw) == 0 && pthread_join(kind_writer, NULL) == 0);
	return pthread_rwlock_destroy(&kind_rw);
}

enum { OWNED = 8 };
static sem_t owned_left;
static long owned_errors;

static void *meet_owned(void *barrier)
{
	pthread_barrier_wait(barrier);
	sem_post(&owned_left);
	return NULL;
}

/* A barrier on this thread's stack, met by 7 threads it starts: destroyed
 * the moment its own wait returns, and then the thread ends, its stack gone
 * with it while the others may still be leaving their waits. */
static void *own_barrier(void *arg)
{
	pthread_barrier_t b;
	pthread_t t;

	(void)arg;
	pthread_barrier_init(&b, NULL, OWNED);
	for (int i = 0; i < OWNED - 1; i++)
		if (pthread_create(&t, NULL, meet_owned, &b) == 0)
			pthread_detach(t);
	pthread_barrier_wait(&b);
	if (pthread_barrier_destroy(&b) != 0)
		__atomic_add_fetch(&owned_errors, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* n rounds of a barrier on the stack of a thread that ends right after its
 * destroy: n, or -1 if a destroy failed. */
NOOKS_EXPORT long barrier_freed(long n)
{
	CHECK(sem_init(&owned_left, 0, 0) == 0);
	for (long r = 0; r < n; r++) {
		pthread_t owner;

		CHECK(pthread_create(&owner, NULL, own_barrier, NULL) == 0 && pthread_join(owner, NULL) == 0);
		for (int i = 0; i < OWNED - 1; i++)
			sem_wait(&owned_left);
	}
	return owned_errors ? -1 : n;
}

/* Threads that wait for what never comes: on a semaphore, for a read lock a
 * writer holds, for a write lock a reader holds, at a barrier. The holders
 * wait on the semaphore too. */
enum { SEM, WRITE_HOLDER, READ, READ_HOLDER, WRITE, BARRIER, WAITERS };
static const char *const names[WAITERS] = { "wait-sem", "wait-wholder", "wait-read", "wait-rholder", "wait-write", "wait-barrier" };
static sem_t never;
static pthread_rwlock_t written_lock, read_lock;
static pthread_barrier_t never_met;
static long waiting;

static void *wait_once(void *arg)
{
	long which = (long)arg;

	if (which == WRITE_HOLDER)
		pthread_rwlock_wrlock(&written_lock);
	if (which == READ_HOLDER)
		pthread_rwlock_rdlock(&read_lock);
	__atomic_add_fetch(&waiting, 1, __ATOMIC_SEQ_CST);
	if (which == READ)
		pthread_rwlock_rdlock(&written_lock);
	else if (which == WRITE)
		pthread_rwlock_wrlock(&read_lock);
	else if (which == BARRIER)
		pthread_barrier_wait(&never_met);
	else
		sem_wait(&never);
	return arg;
}

static long start(long from, long to)
{
	for (long i = from; i < to; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, wait_once, (void *)i) || pthread_setname_np(t, names[i]) || pthread_detach(t))
			return -1;
	}
	return 0;
}

/* The holders first: the others must find the locks held. */
NOOKS_EXPORT long start_holders(void)
{
	pthread_rwlock_init(&written_lock, NULL);
	pthread_rwlock_init(&read_lock, NULL);
	pthread_barrier_init(&never_met, NULL, 2);
	sem_init(&never, 0, 0);
	return start(SEM, SEM + 1) || start(WRITE_HOLDER, WRITE_HOLDER + 1) || start(READ_HOLDER, READ_HOLDER + 1);
}

NOOKS_EXPORT long start_waiters(void)
{
	return start(READ, READ + 1) || start(WRITE, WRITE + 1) || start(BARRIER, BARRIER + 1);
}

NOOKS_EXPORT long waiters_waiting(void)
{
	return waiting;
}

${crashSource}`;

let path: string;
beforeAll(() => {
  path = buildDriver(dir, 'sync', source, { posix: true });
}, 120_000);

const kWaiters = ['wait-sem', 'wait-wholder', 'wait-read', 'wait-rholder', 'wait-write', 'wait-barrier'];
const threadObjects = (d: Driver) => d.objects().filter((o) => o.type === 'thread');
const kPreferWriterNonrecursive = 2; // PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP
const kEBUSY = 16;

describe.each<Isolation>(['mprotect', 'process', 'none'])("semaphores, rwlocks and barriers, isolation '%s'", (isolation) => {
  const kernel = kernelPerBlock({ isolation });

  it('each call answers as POSIX says: values, EAGAIN, EBUSY, EDEADLK, EINVAL, EOVERFLOW, ENOSYS for pshared; timed waits (a mutex\'s too) end at a 20 ms deadline', async () => {
    const d = await kernel().load(path, { timeBudgetMs: 10_000 });
    expect(d.call('sem_answers')).toBe(0);
    expect(d.call('rwlock_answers')).toBe(0);
    expect(d.call('mutex_timed_answers')).toBe(0);
    d.unload();
  });

  it('contended: 3000 items in order through two semaphores; a semaphore as a lock for 4 threads; 4 readers together, 2 writers alone (readers or writers preferred); 4 threads meet at a barrier 500 rounds', async () => {
    const d = await kernel().load(path, { timeBudgetMs: 20_000 });
    const before = tasks();
    expect(d.call('sem_produce_consume', 3000)).toBe((3000 * 3001) / 2);
    expect(d.call('sem_as_lock', 2000)).toBe(4 * 2000);
    expect(d.call('rwlock_contend', 2000, 0)).toBe(2 * 2000);
    expect(d.call('rwlock_contend', 2000, kPreferWriterNonrecursive)).toBe(2 * 2000);
    expect(d.call('barrier_rounds', 500)).toBe(2 * 500);
    expect(threadObjects(d)).toEqual([]);
    await tasksBackTo(before);
    d.unload();
  });

  it('with a reader holding an rwlock and a writer waiting, a new reader gets in under the default kind and PREFER_WRITER_NP (as glibc), not under PREFER_WRITER_NONRECURSIVE_NP (EBUSY)', async () => {
    const d = await kernel().load(path, { timeBudgetMs: 5_000 });
    const before = tasks();
    for (const [kind, answer] of [[0, 0], [1, 0], [kPreferWriterNonrecursive, kEBUSY]]) {
      expect(d.call('kind_start', kind)).toBe(0);
      const writer = tidOf(`rw-writer-${kind}`);
      await until(() => inKernelWait(writer), 'the writer waiting for the lock');
      expect(d.call('kind_try_read'), `kind ${kind}`).toBe(answer);
      expect(d.call('kind_finish')).toBe(0);
    }
    expect(threadObjects(d)).toEqual([]);
    await tasksBackTo(before);
    d.unload();
  });

  it('the serial thread destroys a barrier the moment its wait returns and inits it again, 2000 rounds with 4 threads: no thread is left waiting on the old round', async () => {
    const d = await kernel().load(path, { timeBudgetMs: 90_000 });
    const before = tasks();
    expect(d.call('barrier_reuse', 2000)).toBe(2000);
    expect(threadObjects(d)).toEqual([]);
    await tasksBackTo(before);
    d.unload();
  }, 120_000);

  // Without the drop and wake in one step (barrier.c's leave), the last thread
  // to leave wakes the barrier's word after destroy may have returned and
  // its owner ended: the wake's check of the word, on a stack gone, fails
  // the driver ('process': at once; 'mprotect': a window too narrow to hit
  // here; 'none' checks no kernel call).
  it('a barrier on the stack of a thread that destroys it the moment its wait returns and then ends, 1000 rounds of 8 threads: the driver runs on', async () => {
    const d = await kernel().load(path, { timeBudgetMs: 90_000 });
    const before = tasks();
    expect(d.call('barrier_freed', 1000)).toBe(1000);
    expect(d.state).toBe('running');
    // the last round's detached threads posted and are ending: each thread object goes as its thread ends
    await until(() => threadObjects(d).length === 0, 'the last round\'s threads ended');
    await tasksBackTo(before);
    d.unload();
  }, 120_000);

  it('threads waiting on a semaphore, a read lock, a write lock and a barrier sleep in the kernel; a failure ends every wait and the driver is recovered', async () => {
    const d = await kernel().load(path, { timeBudgetMs: 2_000 });
    const before = tasks();
    expect(d.call('start_holders')).toBe(0);
    await until(() => d.call('waiters_waiting') === 3, 'the holders holding the locks');
    expect(d.call('start_waiters')).toBe(0);
    await until(() => d.call('waiters_waiting') === kWaiters.length, 'every thread at its wait');
    const tids = kWaiters.map(tidOf);
    await until(() => tids.every(inKernelWait), 'every thread asleep in its wait');
    expect(threadObjects(d)).toHaveLength(kWaiters.length);

    await failWhileWaiting(kernel(), d, isolation, before);
    d.unload();
  });
});
