/* Read-write locks: one word of the pthread_rwlock_t holds the count of
 * readers, a bit for the writer, a bit that says someone may wait and, for a
 * lock that prefers writers, the count of writers waiting; a waiter waits in
 * the kernel while the word stays as it saw it (nooks_posix_futex_wait): no
 * busy wait, and a wait ends when the driver fails. Whoever leaves the lock
 * free with the wait bit set wakes every waiter, and they race for it again.
 * Readers are preferred, as glibc's default (PTHREAD_RWLOCK_PREFER_READER_NP,
 * and PTHREAD_RWLOCK_PREFER_WRITER_NP, which glibc treats the same): a reader
 * gets in while readers hold the lock, even if a writer waits, so a thread
 * may take a read lock it already holds (POSIX allows it) without deadlock;
 * writers may wait as long as readers overlap. Under
 * PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP, as glibc's, a waiting writer
 * keeps new readers out (tryrdlock: EBUSY), so a thread that read-locks what
 * it already reads may wait forever. All zeros is PTHREAD_RWLOCK_INITIALIZER. */
#define _GNU_SOURCE
#include <pthread.h>
#include <time.h>

#include "posix.h"

/* The word: the readers in bits 0 to 19 (EAGAIN past 2^20 - 1), the writers waiting on a lock that
 * prefers writers in bits 20 to 29 (at most 1023: more threads than a driver has), WAITED, WRITER. */
enum {
	WRITER = 1u << 31, WAITED = 1u << 30, WRITER_WAITS = 1u << 20, WRITERS_WAITING = WAITED - WRITER_WAITS,
	READERS = WRITER_WAITS - 1,
};

struct rwlock {
	unsigned int word;
	int writer;	/* the kernel's id of the thread that holds it to write */
	unsigned char unused[40];	/* glibc's other fields */
	unsigned int kind;	/* where glibc keeps it: PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP sets it */
};
_Static_assert(sizeof(struct rwlock) <= sizeof(pthread_rwlock_t), "an rwlock fits a pthread_rwlock_t");
_Static_assert(offsetof(struct rwlock, kind) == offsetof(pthread_rwlock_t, __data.__flags), "the kind where glibc's initializers put it");

struct rwlockattr {
	int kind;
	int pshared;
};
_Static_assert(sizeof(struct rwlockattr) <= sizeof(pthread_rwlockattr_t), "the attributes fit a pthread_rwlockattr_t");

static struct rwlock *rwlock_of(pthread_rwlock_t *l)
{
	return (struct rwlock *)l;
}

static struct rwlockattr *attr_of(pthread_rwlockattr_t *a)
{
	return (struct rwlockattr *)a;
}

static bool prefers_writers(const struct rwlock *l)
{
	return l->kind == PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP;
}

int pthread_rwlockattr_init(pthread_rwlockattr_t *a)
{
	memset(a, 0, sizeof(*a));
	return 0;
}

int pthread_rwlockattr_destroy(pthread_rwlockattr_t *a)
{
	(void)a;
	return 0;
}

int pthread_rwlockattr_setkind_np(pthread_rwlockattr_t *a, int kind)
{
	if (kind != PTHREAD_RWLOCK_PREFER_READER_NP && kind != PTHREAD_RWLOCK_PREFER_WRITER_NP && kind != PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP)
		return EINVAL;
	attr_of(a)->kind = kind;
	return 0;
}

int pthread_rwlockattr_getkind_np(const pthread_rwlockattr_t *a, int *kind)
{
	*kind = attr_of((pthread_rwlockattr_t *)a)->kind;
	return 0;
}

/* A driver's locks are its own: one shared between processes is not provided (as sem_init's pshared). */
int pthread_rwlockattr_setpshared(pthread_rwlockattr_t *a, int pshared)
{
	if (pshared == PTHREAD_PROCESS_SHARED)
		return ENOSYS;
	if (pshared != PTHREAD_PROCESS_PRIVATE)
		return EINVAL;
	attr_of(a)->pshared = pshared;
	return 0;
}

int pthread_rwlockattr_getpshared(const pthread_rwlockattr_t *a, int *pshared)
{
	*pshared = attr_of((pthread_rwlockattr_t *)a)->pshared;
	return 0;
}

int pthread_rwlock_init(pthread_rwlock_t *restrict l, const pthread_rwlockattr_t *restrict a)
{
	memset(l, 0, sizeof(*l));
	if (a)
		rwlock_of(l)->kind = (unsigned int)attr_of((pthread_rwlockattr_t *)a)->kind;
	return 0;
}

int pthread_rwlock_destroy(pthread_rwlock_t *l)
{
	return __atomic_load_n(&rwlock_of(l)->word, __ATOMIC_RELAXED) & (WRITER | READERS) ? EBUSY : 0;
}

/* One try: 0 taken, EBUSY (the word that refused, in *seen), EAGAIN (too many readers). */
static int try_read(struct rwlock *l, unsigned int *seen)
{
	unsigned int w = __atomic_load_n(&l->word, __ATOMIC_RELAXED);
	unsigned int refused = WRITER | (prefers_writers(l) ? WRITERS_WAITING : 0);

	while (!(w & refused)) {
		if ((w & READERS) == READERS)
			return EAGAIN;
		if (__atomic_compare_exchange_n(&l->word, &w, w + 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return 0;
	}
	*seen = w;
	return EBUSY;
}

static int try_write(struct rwlock *l, unsigned int *seen)
{
	unsigned int w = __atomic_load_n(&l->word, __ATOMIC_RELAXED);

	while (!(w & (WRITER | READERS)))
		if (__atomic_compare_exchange_n(&l->word, &w, w | WRITER, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			__atomic_store_n(&l->writer, posix_thread_tid(), __ATOMIC_RELAXED);
			return 0;
		}
	*seen = w;
	return EBUSY;
}

/* Until `try` takes the lock (0, or its error) or the deadline passes
 * (ETIMEDOUT). The wait bit is set before the wait, so whoever frees the
 * lock after that wakes this waiter, or changes the word first and the
 * kernel's wait returns at once. A writer waiting on a lock that prefers
 * writers is counted in the word (readers keep out) until it holds the lock
 * or gives up; giving up as the last one counted, it lets the readers in. */
static int lock_until(struct rwlock *l, int (*try)(struct rwlock *, unsigned int *), int clock, long long deadline_ns)
{
	unsigned int count = try == try_write && prefers_writers(l) ? WRITER_WAITS : 0, counted = 0;
	unsigned int seen, want;
	int r;

	if ((__atomic_load_n(&l->word, __ATOMIC_RELAXED) & WRITER) && __atomic_load_n(&l->writer, __ATOMIC_RELAXED) == posix_thread_tid())
		return EDEADLK;	/* it holds it to write: waiting would never end */
	while ((r = try(l, &seen)) == EBUSY) {
		want = (seen | WAITED) + count - counted;
		if (want != seen && !__atomic_compare_exchange_n(&l->word, &seen, want, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			continue;	/* it changed: try again */
		counted = count;
		if (nooks_posix_futex_wait(&l->word, want, clock, deadline_ns) == -ETIMEDOUT) {
			r = try(l, &seen) == 0 ? 0 : ETIMEDOUT;
			break;
		}
	}
	if (counted) {
		unsigned int after = __atomic_sub_fetch(&l->word, counted, __ATOMIC_RELAXED);

		if (r && !(after & WRITERS_WAITING) && (after & WAITED))
			nooks_posix_futex_wake(&l->word, 1);	/* the last writer counted gave up: the readers kept out go */
	}
	return r;
}

/* A deadline in nanoseconds, or -1 for one POSIX calls invalid. */
static long long deadline_of(clockid_t clock, const struct timespec *t)
{
	if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
		return -1;
	return posix_deadline_of(t);
}

/* A timed lock: as glibc 2.36, the clock and the deadline are checked first
 * (EINVAL, even for a lock that could be taken at once, which is then not taken). */
static int timed_lock(struct rwlock *l, int (*try)(struct rwlock *, unsigned int *), clockid_t clock, const struct timespec *abstime)
{
	long long deadline = deadline_of(clock, abstime);
	unsigned int seen;
	int r;

	if (deadline < 0)
		return EINVAL;
	r = try(l, &seen);
	return r != EBUSY ? r : lock_until(l, try, clock, deadline);
}

int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
	return lock_until(rwlock_of(l), try_read, CLOCK_MONOTONIC, -1);
}

int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
	return lock_until(rwlock_of(l), try_write, CLOCK_MONOTONIC, -1);
}

int pthread_rwlock_tryrdlock(pthread_rwlock_t *l)
{
	unsigned int seen;

	return try_read(rwlock_of(l), &seen);
}

int pthread_rwlock_trywrlock(pthread_rwlock_t *l)
{
	unsigned int seen;

	return try_write(rwlock_of(l), &seen);
}

int pthread_rwlock_clockrdlock(pthread_rwlock_t *restrict l, clockid_t clock, const struct timespec *restrict abstime)
{
	return timed_lock(rwlock_of(l), try_read, clock, abstime);
}

int pthread_rwlock_clockwrlock(pthread_rwlock_t *restrict l, clockid_t clock, const struct timespec *restrict abstime)
{
	return timed_lock(rwlock_of(l), try_write, clock, abstime);
}

int pthread_rwlock_timedrdlock(pthread_rwlock_t *restrict l, const struct timespec *restrict abstime)
{
	return timed_lock(rwlock_of(l), try_read, CLOCK_REALTIME, abstime);
}

int pthread_rwlock_timedwrlock(pthread_rwlock_t *restrict l, const struct timespec *restrict abstime)
{
	return timed_lock(rwlock_of(l), try_write, CLOCK_REALTIME, abstime);
}

/* The last holder out wakes every waiter if the wait bit says any may wait. */
int pthread_rwlock_unlock(pthread_rwlock_t *lock)
{
	struct rwlock *l = rwlock_of(lock);
	unsigned int w = __atomic_load_n(&l->word, __ATOMIC_RELAXED);
	unsigned int left;

	if (w & WRITER) {
		__atomic_store_n(&l->writer, 0, __ATOMIC_RELAXED);
		left = __atomic_fetch_and(&l->word, WRITERS_WAITING, __ATOMIC_RELEASE);	/* the waiting writers stay counted */
	} else {
		left = __atomic_sub_fetch(&l->word, 1, __ATOMIC_RELEASE);
		do {
			if (left & (READERS | WRITER) || !(left & WAITED))
				return 0;	/* readers left, someone took it (its holder wakes), or nobody waits */
		} while (!__atomic_compare_exchange_n(&l->word, &left, left & ~WAITED, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED));	/* a writer counted itself meanwhile */
	}
	if (left & WAITED)
		nooks_posix_futex_wake(&l->word, 1);
	return 0;
}
