/* The POSIX personality's waits (cond.c, pthread_once and the mutexes of
 * pthread.c, the FILE streams' word_lock.c, semaphore.c, rwlock.c,
 * barrier.c) on the host's threads under ASan
 * and UBSan (run-tests.sh). The kernel calls they make are stood in for as
 * the kernel makes them, with real futexes: nooks_posix_futex_wait as
 * native/posix/futex.cc (a wait while the word holds its value, to a deadline
 * on a clock), mutex_lock as native/kapi/locks.cc. Each wait is let go of by
 * progress: what lets it go first sees the waiters asleep (asleep()), never
 * a timer, but for the timed waits themselves. */
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "posix.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #c); exit(1); } } while (0)

#define THREADS 8

/* ---- the kernel's calls, stood in for ---------------------------------- */

static long futex(volatile unsigned int *word, int op, unsigned int val, const struct timespec *at)
{
	return syscall(SYS_futex, word, op, val, at, NULL, FUTEX_BITSET_MATCH_ANY);
}

static unsigned int sleepers, wakes;	/* in nooks_posix_futex_wait now; nooks_posix_futex_wake calls */
static int deadlines_passed;	/* set: a timed wait times out when it next looks, as if its clock had passed its deadline */

static unsigned int asleep(void)
{
	return __atomic_load_n(&sleepers, __ATOMIC_SEQ_CST);
}

/* Until n threads wait in nooks_posix_futex_wait (a nap between looks). */
static void until_asleep(unsigned int n)
{
	while (asleep() < n)
		usleep(100);
}

/* A futex wait while *word is seen, until deadline_ns on clock (-1: none): the futex call's answer. */
static long futex_wait_until(volatile unsigned int *word, unsigned int seen, int clock, long long deadline_ns)
{
	struct timespec at = { (time_t)(deadline_ns / NS_PER_S), (long)(deadline_ns % NS_PER_S) };
	int op = FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG | (clock == CLOCK_REALTIME ? FUTEX_CLOCK_REALTIME : 0);

	return futex(word, op, seen, deadline_ns < 0 ? NULL : &at);
}

int nooks_posix_futex_wait(unsigned int *word, unsigned int seen, int clock, long long deadline_ns)
{
	int r = 0;

	if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
		return -EINVAL;
	__atomic_add_fetch(&sleepers, 1, __ATOMIC_SEQ_CST);
	while (!r && __atomic_load_n(word, __ATOMIC_SEQ_CST) == seen)
		if ((futex_wait_until(word, seen, clock, deadline_ns) && errno == ETIMEDOUT) ||
		    (deadline_ns >= 0 && __atomic_load_n(&deadlines_passed, __ATOMIC_SEQ_CST)))
			r = -ETIMEDOUT;
	__atomic_sub_fetch(&sleepers, 1, __ATOMIC_SEQ_CST);
	return r;
}

void nooks_posix_futex_wake(unsigned int *word, int all)
{
	__atomic_add_fetch(&wakes, 1, __ATOMIC_SEQ_CST);
	futex(word, FUTEX_WAKE_PRIVATE, all ? INT_MAX : 1, NULL);
}

void nooks_posix_futex_dec_wake(unsigned int *word)
{
	__atomic_sub_fetch(word, 1, __ATOMIC_SEQ_CST);
	nooks_posix_futex_wake(word, 1);
}

void mutex_init(struct mutex *m)
{
	m->locked = m->owner = m->waiters = 0;
}

int mutex_trylock(struct mutex *m)
{
	if (__atomic_exchange_n(&m->locked, 1, __ATOMIC_ACQUIRE))
		return 0;
	m->owner = (unsigned int)syscall(SYS_gettid);
	return 1;
}

void mutex_lock(struct mutex *m)
{
	while (!mutex_trylock(m)) {
		__atomic_add_fetch(&m->waiters, 1, __ATOMIC_SEQ_CST);
		futex(&m->locked, FUTEX_WAIT_PRIVATE, 1, NULL);
		__atomic_sub_fetch(&m->waiters, 1, __ATOMIC_SEQ_CST);
	}
}

/* mutex_lock until a deadline, as native/kapi/locks.cc's nooks_posix_mutex_timedlock. */
int nooks_posix_mutex_timedlock(struct mutex *m, int clock, long long deadline_ns)
{
	int r = 0;

	if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
		return -EINVAL;
	__atomic_add_fetch(&m->waiters, 1, __ATOMIC_SEQ_CST);
	while (!r && !mutex_trylock(m))
		if (futex_wait_until(&m->locked, 1, clock, deadline_ns) && errno == ETIMEDOUT)
			r = -ETIMEDOUT;
	__atomic_sub_fetch(&m->waiters, 1, __ATOMIC_SEQ_CST);
	return r;
}

void mutex_unlock(struct mutex *m)
{
	m->owner = 0;
	__atomic_store_n(&m->locked, 0, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&m->waiters, __ATOMIC_SEQ_CST))
		futex(&m->locked, FUTEX_WAKE_PRIVATE, 1, NULL);
}

void nooks_posix_sched_yield(void)
{
	syscall(SYS_sched_yield);
}

/* thread_slot.c's needs a domain stack (test_threads.c tests it there): the kernel's id at once. */
int posix_thread_tid(void)
{
	return (int)syscall(SYS_gettid);
}

/* ---- helpers ------------------------------------------------------------ */

static void start_all(pthread_t *t, int n, void *(*body)(void *))
{
	for (long i = 0; i < n; i++)
		CHECK(pthread_create(&t[i], NULL, body, (void *)i) == 0);
}

static void join_all(pthread_t *t, int n)
{
	for (int i = 0; i < n; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
}

/* `ms` from now on `clock` (before now if negative). */
static struct timespec after_ms(clockid_t clock, long ms)
{
	struct timespec t;
	long long ns;

	clock_gettime(clock, &t);
	ns = (long long)t.tv_sec * NS_PER_S + t.tv_nsec + (long long)ms * 1000000;
	t.tv_sec = (time_t)(ns / NS_PER_S);
	t.tv_nsec = (long)(ns % NS_PER_S);
	return t;
}

static int reached(clockid_t clock, const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(clock, &now);
	return now.tv_sec > deadline->tv_sec || (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* ---- conditions: signal and wait, a producer and a consumer --------------- */

#define ITEMS 20000
#define SLOTS 4

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;
static long queue[SLOTS], queued, head;

static void *produce(void *arg)
{
	for (long v = 1; v <= ITEMS; v++) {
		pthread_mutex_lock(&queue_lock);
		while (queued == SLOTS)
			pthread_cond_wait(&not_full, &queue_lock);
		queue[(head + queued++) % SLOTS] = v;
		pthread_cond_signal(&not_empty);
		pthread_mutex_unlock(&queue_lock);
	}
	return arg;
}

static void *consume(void *arg)
{
	long *in_order = arg;

	for (long v = 1; v <= ITEMS; v++) {
		pthread_mutex_lock(&queue_lock);
		while (!queued)
			pthread_cond_wait(&not_empty, &queue_lock);
		*in_order += queue[head] == v;
		head = (head + 1) % SLOTS;
		queued--;
		pthread_cond_signal(&not_full);
		pthread_mutex_unlock(&queue_lock);
	}
	return NULL;
}

static void signal_and_wait(void)
{
	pthread_t producer, consumer;
	long in_order = 0;

	CHECK(pthread_create(&consumer, NULL, consume, &in_order) == 0);
	CHECK(pthread_create(&producer, NULL, produce, NULL) == 0);
	CHECK(pthread_join(producer, NULL) == 0 && pthread_join(consumer, NULL) == 0);
	CHECK(in_order == ITEMS && queued == 0);
	CHECK(pthread_cond_destroy(&not_full) == 0 && pthread_cond_destroy(&not_empty) == 0);
}

/* ---- conditions: one signal, then a broadcast, to THREADS waiters ---------- */

static pthread_mutex_t ticket_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ticket_given = PTHREAD_COND_INITIALIZER;
static int tickets, served;

static void *wait_for_ticket(void *arg)
{
	pthread_mutex_lock(&ticket_lock);
	while (!tickets)
		pthread_cond_wait(&ticket_given, &ticket_lock);
	tickets--;
	served++;
	pthread_mutex_unlock(&ticket_lock);
	return arg;
}

static int served_now(void)
{
	int n;

	pthread_mutex_lock(&ticket_lock);
	n = served;
	pthread_mutex_unlock(&ticket_lock);
	return n;
}

static void signal_and_broadcast(void)
{
	pthread_t t[THREADS];
	unsigned int woken;

	woken = wakes;
	CHECK(pthread_cond_signal(&ticket_given) == 0 && pthread_cond_broadcast(&ticket_given) == 0);
	CHECK(wakes == woken);	/* nobody waits: no kernel call */
	start_all(t, THREADS, wait_for_ticket);
	until_asleep(THREADS);
	CHECK(pthread_cond_destroy(&ticket_given) == EBUSY);
	pthread_mutex_lock(&ticket_lock);
	tickets = 1;
	pthread_cond_signal(&ticket_given);
	pthread_mutex_unlock(&ticket_lock);
	while (served_now() < 1)
		usleep(100);
	pthread_mutex_lock(&ticket_lock);
	tickets = THREADS - 1;
	pthread_cond_broadcast(&ticket_given);
	pthread_mutex_unlock(&ticket_lock);
	join_all(t, THREADS);
	CHECK(served == THREADS && tickets == 0);
	CHECK(pthread_cond_destroy(&ticket_given) == 0);
}

/* ---- conditions: timed waits ------------------------------------------- */

/* A wait on a cond made for `cond_clock` to a deadline `ms` ahead on
 * `clock` (by clockwait, or timedwait on the cond's own): the result, once
 * the mutex is held again and the deadline reached. */
static int timed_wait(clockid_t cond_clock, clockid_t clock, long ms, int by_clockwait)
{
	pthread_condattr_t a;
	pthread_cond_t c;
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	struct timespec deadline;
	clockid_t got;
	int r;

	CHECK(pthread_condattr_init(&a) == 0 && pthread_condattr_setclock(&a, cond_clock) == 0);
	CHECK(pthread_condattr_getclock(&a, &got) == 0 && got == cond_clock);
	CHECK(pthread_cond_init(&c, &a) == 0 && pthread_condattr_destroy(&a) == 0);
	deadline = after_ms(clock == CLOCK_PROCESS_CPUTIME_ID ? CLOCK_MONOTONIC : clock, ms);
	pthread_mutex_lock(&m);
	r = by_clockwait ? pthread_cond_clockwait(&c, &m, clock, &deadline) : pthread_cond_timedwait(&c, &m, &deadline);
	CHECK(pthread_mutex_trylock(&m) == EBUSY);	/* held again */
	CHECK(r != ETIMEDOUT || reached(clock, &deadline));
	pthread_mutex_unlock(&m);
	CHECK(pthread_cond_destroy(&c) == 0);
	return r;
}

static pthread_mutex_t flag_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flag_set = PTHREAD_COND_INITIALIZER;
static int flag;

static void *raise_flag(void *arg)
{
	until_asleep(1);
	pthread_mutex_lock(&flag_lock);
	flag = 1;
	pthread_cond_signal(&flag_set);
	pthread_mutex_unlock(&flag_lock);
	return arg;
}

/* Waits on flag_set to `deadline` while raise_flag (a thread) sets the flag: the wait's result. */
static int wait_for_flag(const struct timespec *deadline)
{
	pthread_t t;
	int r = 0;

	flag = 0;
	CHECK(pthread_create(&t, NULL, raise_flag, NULL) == 0);
	pthread_mutex_lock(&flag_lock);
	while (!flag && !r)
		r = pthread_cond_timedwait(&flag_set, &flag_lock, deadline);
	pthread_mutex_unlock(&flag_lock);
	CHECK(pthread_join(t, NULL) == 0);
	return r;
}

static void timed_waits(void)
{
	pthread_condattr_t a;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	struct timespec deadline = after_ms(CLOCK_REALTIME, 60 * 1000);
	struct timespec bad[] = { { 0, NS_PER_S }, { 0, -1 }, { -1, NS_PER_S } };
	struct timespec before_start = { -1, 0 };

	CHECK(timed_wait(CLOCK_REALTIME, CLOCK_REALTIME, 20, 0) == ETIMEDOUT);
	CHECK(timed_wait(CLOCK_MONOTONIC, CLOCK_MONOTONIC, 20, 0) == ETIMEDOUT);
	CHECK(timed_wait(CLOCK_REALTIME, CLOCK_REALTIME, -20, 0) == ETIMEDOUT);	/* past: at once */
	/* clockwait's own clock, not the cond's: a monotonic deadline is long past in CLOCK_REALTIME */
	CHECK(timed_wait(CLOCK_REALTIME, CLOCK_MONOTONIC, 20, 1) == ETIMEDOUT);
	CHECK(timed_wait(CLOCK_REALTIME, CLOCK_PROCESS_CPUTIME_ID, 20, 1) == EINVAL);	/* the kernel's refusal */
	CHECK(pthread_condattr_init(&a) == 0 && pthread_condattr_setclock(&a, CLOCK_PROCESS_CPUTIME_ID) == EINVAL);
	CHECK(pthread_condattr_destroy(&a) == 0);
	pthread_mutex_lock(&m);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(pthread_cond_timedwait(&c, &m, &bad[i]) == EINVAL);
	/* a deadline before the clock's start has passed, as glibc answers */
	CHECK(pthread_cond_timedwait(&c, &m, &before_start) == ETIMEDOUT);
	pthread_mutex_unlock(&m);

	/* signalled well before its deadline (a minute) */
	CHECK(wait_for_flag(&deadline) == 0 && flag == 1);
}

/* ---- deadlines past the clock's range -------------------------------------- */

/* tv_sec LONG_MAX: never reached (glibc and Linux clamp such a deadline), not a wrapped one. */
static const struct timespec never = { LONG_MAX, NS_PER_S - 1 };
static sem_t far_sem;
static pthread_rwlock_t far_rw = PTHREAD_RWLOCK_INITIALIZER;

static void *post_when_asleep(void *arg)
{
	until_asleep(1);
	CHECK(sem_post(&far_sem) == 0);
	return arg;
}

static void *write_by_never(void *arg)
{
	CHECK(pthread_rwlock_timedwrlock(&far_rw, &never) == 0 && pthread_rwlock_unlock(&far_rw) == 0);
	return arg;
}

/* A cond, a semaphore and an rwlock waited on to such a deadline sleep until let go, and return 0. */
static void far_deadlines(void)
{
	pthread_t t;

	CHECK(wait_for_flag(&never) == 0 && flag == 1);

	CHECK(sem_init(&far_sem, 0, 0) == 0 && pthread_create(&t, NULL, post_when_asleep, NULL) == 0);
	CHECK(sem_timedwait(&far_sem, &never) == 0);
	CHECK(pthread_join(t, NULL) == 0 && sem_destroy(&far_sem) == 0);

	CHECK(pthread_rwlock_rdlock(&far_rw) == 0);
	/* a deadline before the clock's start has passed, as glibc answers */
	CHECK(pthread_rwlock_timedwrlock(&far_rw, &(struct timespec){ -1, 0 }) == ETIMEDOUT);
	CHECK(pthread_create(&t, NULL, write_by_never, NULL) == 0);
	until_asleep(1);
	CHECK(pthread_rwlock_unlock(&far_rw) == 0 && pthread_join(t, NULL) == 0);
	/* a bad deadline or clock is EINVAL before a free lock is taken, as glibc 2.36 checks */
	CHECK(pthread_rwlock_timedrdlock(&far_rw, &(struct timespec){ 0, NS_PER_S }) == EINVAL);
	CHECK(pthread_rwlock_timedwrlock(&far_rw, &(struct timespec){ -1, -1 }) == EINVAL);
	CHECK(pthread_rwlock_clockwrlock(&far_rw, CLOCK_PROCESS_CPUTIME_ID, &never) == EINVAL);
	CHECK(pthread_rwlock_trywrlock(&far_rw) == 0 && pthread_rwlock_unlock(&far_rw) == 0);
}

/* ---- the FILE streams' word lock, contended ----------------------------- */

#define ROUNDS 20000

static unsigned int word;
static long counted;

static void *count_under_lock(void *arg)
{
	for (int i = 0; i < ROUNDS; i++) {
		posix_word_lock(&word);
		counted++;
		posix_word_unlock(&word);
	}
	return arg;
}

static void word_lock_contended(void)
{
	pthread_t t[THREADS];

	posix_word_lock(&word);
	CHECK(word == 1);	/* held, nobody waits */
	start_all(t, THREADS, count_under_lock);
	until_asleep(THREADS);	/* every thread waits for the holder */
	CHECK(word == 2);	/* held and waited for */
	posix_word_unlock(&word);
	join_all(t, THREADS);
	CHECK(counted == (long)THREADS * ROUNDS && word == 0);
}

/* ---- pthread_once: concurrent callers, a slow init ----------------------- */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int inits, initialised;

/* Runs until every other caller waits for it in the kernel. */
static void slow_init(void)
{
	inits++;
	until_asleep(THREADS - 1);
	initialised = 1;
}

static void *call_once(void *arg)
{
	CHECK(pthread_once(&once, slow_init) == 0);
	CHECK(__atomic_load_n(&initialised, __ATOMIC_ACQUIRE) == 1);	/* init ended before any caller returned */
	return arg;
}

static void once_concurrent(void)
{
	pthread_t t[THREADS];
	unsigned int woken;

	start_all(t, THREADS, call_once);
	join_all(t, THREADS);
	CHECK(inits == 1);
	woken = wakes;
	CHECK(pthread_once(&once, slow_init) == 0 && inits == 1);
	CHECK(wakes == woken);	/* done already: no kernel call */
}

/* ---- mutexes: the kinds ------------------------------------------------- */

static pthread_mutex_t owned;

static void *unlock_not_owned(void *arg)
{
	(void)arg;
	return (void *)(long)pthread_mutex_unlock(&owned);
}

static void mutex_kinds(void)
{
	pthread_mutex_t recursive = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
	pthread_mutexattr_t a;
	pthread_t t;
	void *r;
	int kind;

	CHECK(pthread_mutex_lock(&recursive) == 0 && pthread_mutex_lock(&recursive) == 0 && pthread_mutex_trylock(&recursive) == 0);
	CHECK(pthread_mutex_unlock(&recursive) == 0 && pthread_mutex_unlock(&recursive) == 0 && pthread_mutex_unlock(&recursive) == 0);
	CHECK(pthread_mutex_unlock(&recursive) == EPERM && pthread_mutex_destroy(&recursive) == 0);

	CHECK(pthread_mutexattr_init(&a) == 0 && pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK) == 0);
	CHECK(pthread_mutexattr_gettype(&a, &kind) == 0 && kind == PTHREAD_MUTEX_ERRORCHECK);
	CHECK(pthread_mutexattr_settype(&a, 99) == EINVAL);
	CHECK(pthread_mutex_init(&owned, &a) == 0 && pthread_mutexattr_destroy(&a) == 0);
	CHECK(pthread_mutex_lock(&owned) == 0 && pthread_mutex_lock(&owned) == EDEADLK);
	CHECK(pthread_mutex_timedlock(&owned, &(struct timespec){ 0, 0 }) == EDEADLK);
	CHECK(pthread_create(&t, NULL, unlock_not_owned, NULL) == 0 && pthread_join(t, &r) == 0 && (long)r == EPERM);
	CHECK(pthread_mutex_destroy(&owned) == EBUSY);
	CHECK(pthread_mutex_unlock(&owned) == 0 && pthread_mutex_destroy(&owned) == 0);
	/* a normal mutex held, this thread's own: a timed lock times out, as glibc's; a bad deadline EINVAL */
	CHECK(pthread_mutex_init(&owned, NULL) == 0 && pthread_mutex_timedlock(&owned, &(struct timespec){ 0, -1 }) == 0);
	CHECK(pthread_mutex_timedlock(&owned, &(struct timespec){ 0, -1 }) == EINVAL);
	/* one before the clock's start has passed whatever its tv_nsec, as glibc 2.36 answers */
	CHECK(pthread_mutex_timedlock(&owned, &(struct timespec){ -1, -1 }) == ETIMEDOUT);
	CHECK(pthread_mutex_timedlock(&owned, &(struct timespec){ -1, NS_PER_S }) == ETIMEDOUT);
	CHECK(pthread_mutex_clocklock(&owned, CLOCK_MONOTONIC, &(struct timespec){ 0, 0 }) == ETIMEDOUT);
	CHECK(pthread_mutex_unlock(&owned) == 0);
	/* a clock it cannot wait on is EINVAL first, as glibc's: a free mutex is not taken */
	CHECK(pthread_mutex_clocklock(&owned, CLOCK_BOOTTIME, &(struct timespec){ 0, 0 }) == EINVAL);
	CHECK(pthread_mutex_trylock(&owned) == 0 && pthread_mutex_unlock(&owned) == 0 && pthread_mutex_destroy(&owned) == 0);
}

/* ---- semaphores, rwlocks and barriers, contended ------------------------- */

static sem_t sem;
static long sem_counted;

static void *count_under_sem(void *arg)
{
	for (int i = 0; i < ROUNDS; i++) {
		CHECK(sem_wait(&sem) == 0);
		sem_counted++;
		CHECK(sem_post(&sem) == 0);
	}
	return arg;
}

/* A semaphore as a lock: every thread first waits at 0, until one post. */
static void semaphore_contended(void)
{
	pthread_t t[THREADS];
	struct timespec soon;
	int value;

	CHECK(sem_init(&sem, 0, 0) == 0);
	start_all(t, THREADS, count_under_sem);
	until_asleep(THREADS);
	CHECK(sem_post(&sem) == 0);
	join_all(t, THREADS);
	CHECK(sem_counted == (long)THREADS * ROUNDS && sem_getvalue(&sem, &value) == 0 && value == 1);
	CHECK(sem_trywait(&sem) == 0 && sem_trywait(&sem) == -1 && errno == EAGAIN);
	clock_gettime(CLOCK_REALTIME, &soon);
	CHECK(sem_timedwait(&sem, &soon) == -1 && errno == ETIMEDOUT);
	soon.tv_sec = -1;	/* before the clock's start: passed, as glibc */
	CHECK(sem_timedwait(&sem, &soon) == -1 && errno == ETIMEDOUT);
	/* a bad deadline or clock is EINVAL before a free semaphore is taken, as glibc 2.36 checks */
	CHECK(sem_post(&sem) == 0);
	CHECK(sem_timedwait(&sem, &(struct timespec){ 0, NS_PER_S }) == -1 && errno == EINVAL);
	CHECK(sem_timedwait(&sem, &(struct timespec){ -1, -1 }) == -1 && errno == EINVAL);
	CHECK(sem_clockwait(&sem, CLOCK_PROCESS_CPUTIME_ID, &soon) == -1 && errno == EINVAL);
	CHECK(sem_getvalue(&sem, &value) == 0 && value == 1 && sem_trywait(&sem) == 0);
	CHECK(sem_destroy(&sem) == 0);
}

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t readers_meet;
static long readers_in, writers_in, broken, written;

/* Readers first hold the lock together (meeting at a barrier while they
 * hold it), then readers and writers take it ROUNDS times, counting who is inside. */
static void *read_or_write(void *arg)
{
	long writer = (long)arg & 1;

	if (!writer) {
		CHECK(pthread_rwlock_rdlock(&rw) == 0);
		pthread_barrier_wait(&readers_meet);
		CHECK(pthread_rwlock_unlock(&rw) == 0);
	}
	for (int i = 0; i < ROUNDS; i++) {
		CHECK((writer ? pthread_rwlock_wrlock(&rw) : pthread_rwlock_rdlock(&rw)) == 0);
		long *in = writer ? &writers_in : &readers_in;
		__atomic_add_fetch(in, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&writers_in, __ATOMIC_SEQ_CST) > writer || (writer && __atomic_load_n(&readers_in, __ATOMIC_SEQ_CST)))
			__atomic_add_fetch(&broken, 1, __ATOMIC_SEQ_CST);
		if (writer)
			written++;
		__atomic_sub_fetch(in, 1, __ATOMIC_SEQ_CST);
		CHECK(pthread_rwlock_unlock(&rw) == 0);
	}
	return arg;
}

static void rwlock_contended(void)
{
	pthread_t t[THREADS];

	/* writers wait while this thread reads, and get in when it lets go */
	CHECK(pthread_rwlock_rdlock(&rw) == 0);
	CHECK(pthread_barrier_init(&readers_meet, NULL, THREADS / 2) == 0);
	for (long i = 0; i < THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, read_or_write, (void *)i) == 0);
	until_asleep(THREADS / 2);
	CHECK(pthread_rwlock_unlock(&rw) == 0);
	join_all(t, THREADS);
	CHECK(broken == 0 && written == (long)THREADS / 2 * ROUNDS);
	CHECK(pthread_rwlock_destroy(&rw) == 0 && pthread_barrier_destroy(&readers_meet) == 0);
}

/* ---- rwlock kinds ---------------------------------------------------------- */

static pthread_rwlock_t kinds_rw;
static int reader_found;	/* what the late reader's tryrdlock answered before it waited */

static void *write_once(void *arg)
{
	CHECK(pthread_rwlock_wrlock(&kinds_rw) == 0 && pthread_rwlock_unlock(&kinds_rw) == 0);
	return arg;
}

/* Waits for the write lock until its deadline passes (deadlines_passed), and gives up. */
static void *write_until_given_up(void *arg)
{
	struct timespec minute = after_ms(CLOCK_REALTIME, 60 * 1000);

	CHECK(pthread_rwlock_timedwrlock(&kinds_rw, &minute) == ETIMEDOUT);
	return arg;
}

static void *read_late(void *arg)
{
	reader_found = pthread_rwlock_tryrdlock(&kinds_rw);
	if (reader_found)
		CHECK(pthread_rwlock_rdlock(&kinds_rw) == 0);
	CHECK(pthread_rwlock_unlock(&kinds_rw) == 0);
	return arg;
}

static void init_kind(int kind)
{
	pthread_rwlockattr_t a;
	int got;

	CHECK(pthread_rwlockattr_init(&a) == 0 && pthread_rwlockattr_setkind_np(&a, kind) == 0);
	CHECK(pthread_rwlockattr_getkind_np(&a, &got) == 0 && got == kind);
	CHECK(pthread_rwlock_init(&kinds_rw, &a) == 0 && pthread_rwlockattr_destroy(&a) == 0);
}

/* With this thread reading and a writer waiting, another read lock is taken
 * at once, but for a lock that prefers writers (glibc's PREFER_WRITER_NP
 * prefers readers); a writer that gives up lets in the readers it kept out. */
static void rwlock_kinds(void)
{
	static const int kinds[] = { PTHREAD_RWLOCK_PREFER_READER_NP, PTHREAD_RWLOCK_PREFER_WRITER_NP, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP };
	pthread_rwlockattr_t a;
	pthread_t w, r;
	int v;

	CHECK(pthread_rwlockattr_init(&a) == 0);
	CHECK(pthread_rwlockattr_getkind_np(&a, &v) == 0 && v == PTHREAD_RWLOCK_PREFER_READER_NP);
	CHECK(pthread_rwlockattr_getpshared(&a, &v) == 0 && v == PTHREAD_PROCESS_PRIVATE);
	CHECK(pthread_rwlockattr_setkind_np(&a, 3) == EINVAL && pthread_rwlockattr_setpshared(&a, 7) == EINVAL);
	CHECK(pthread_rwlockattr_setpshared(&a, PTHREAD_PROCESS_SHARED) == ENOSYS && pthread_rwlockattr_setpshared(&a, PTHREAD_PROCESS_PRIVATE) == 0);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		bool writers_first = kinds[i] == PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP;

		init_kind(kinds[i]);
		CHECK(pthread_rwlock_rdlock(&kinds_rw) == 0);
		CHECK(pthread_create(&w, NULL, write_once, NULL) == 0);
		until_asleep(1);
		CHECK(pthread_rwlock_tryrdlock(&kinds_rw) == (writers_first ? EBUSY : 0));
		if (!writers_first)
			CHECK(pthread_rwlock_unlock(&kinds_rw) == 0);
		CHECK(pthread_rwlock_unlock(&kinds_rw) == 0 && pthread_join(w, NULL) == 0 && pthread_rwlock_destroy(&kinds_rw) == 0);
	}
	init_kind(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	CHECK(pthread_rwlock_rdlock(&kinds_rw) == 0);
	CHECK(pthread_create(&w, NULL, write_until_given_up, NULL) == 0);
	until_asleep(1);
	CHECK(pthread_create(&r, NULL, read_late, NULL) == 0);
	until_asleep(2);	/* the reader kept out, asleep: now the writer's deadline passes */
	__atomic_store_n(&deadlines_passed, 1, __ATOMIC_SEQ_CST);
	futex((unsigned int *)&kinds_rw, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);	/* the lock's word (its first): both look, the reader sleeps on */
	CHECK(pthread_join(w, NULL) == 0 && pthread_join(r, NULL) == 0 && reader_found == EBUSY);
	__atomic_store_n(&deadlines_passed, 0, __ATOMIC_SEQ_CST);
	CHECK(pthread_rwlock_unlock(&kinds_rw) == 0 && pthread_rwlock_destroy(&kinds_rw) == 0);
}

static pthread_barrier_t meet;
static long serials;

static void *meet_often(void *arg)
{
	for (int i = 0; i < ROUNDS / 10; i++)
		if (pthread_barrier_wait(&meet) == PTHREAD_BARRIER_SERIAL_THREAD)
			__atomic_add_fetch(&serials, 1, __ATOMIC_SEQ_CST);
	return arg;
}

static void barrier_rounds(void)
{
	pthread_t t[THREADS];

	CHECK(pthread_barrier_init(&meet, NULL, THREADS) == 0);
	start_all(t, THREADS, meet_often);
	join_all(t, THREADS);
	CHECK(serials == ROUNDS / 10 && pthread_barrier_destroy(&meet) == 0);
}

static void stuck(int sig)
{
	static const char message[] = "test_waits: failed: a wait did not end within 60 s\n";

	(void)sig;
	write(2, message, sizeof(message) - 1);
	_exit(1);
}

int main(void)
{
	signal(SIGALRM, stuck);
	alarm(60);	/* a wait that never ends fails the test */
	signal_and_wait();
	signal_and_broadcast();
	timed_waits();
	far_deadlines();
	word_lock_contended();
	once_concurrent();
	mutex_kinds();
	semaphore_contended();
	rwlock_contended();
	rwlock_kinds();
	barrier_rounds();
	CHECK(asleep() == 0);
	printf("test_waits: conditions, word lock, pthread_once, mutexes, semaphores, rwlocks and barriers ok\n");
	return 0;
}
