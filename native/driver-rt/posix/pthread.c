/* pthread locks (threads are in thread.c, condition variables in cond.c,
 * keys in keys.c). A mutex is the kernel's sleeping lock
 * (<nooks/kapi.h>'s struct mutex, held by the kernel's books and released at
 * recovery) laid in the pthread_mutex_t, with a recursion depth and the
 * mutex's kind where glibc keeps them, so that its static initializers
 * (PTHREAD_MUTEX_INITIALIZER, PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP) hold.
 * Spinlocks and pthread_once are atomics inside the domain (pthread_once's
 * waiters wait on it in the kernel). sched_yield is a kernel call. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "posix.h"

struct lock {
	struct mutex m;		/* glibc's __lock, __count, __owner */
	unsigned int depth;	/* __nusers: a recursive mutex's extra holds */
	int kind;		/* __kind */
};
_Static_assert(offsetof(struct lock, kind) == offsetof(struct __pthread_mutex_s, __kind), "the kind where glibc has it");
_Static_assert(sizeof(struct lock) <= sizeof(pthread_mutex_t), "a lock fits a pthread_mutex_t");

static struct lock *lock_of(pthread_mutex_t *m)
{
	return (struct lock *)m;
}

static int held_by_me(struct lock *l)
{
	return l->m.locked && l->m.owner == (unsigned int)posix_thread_tid();
}

int pthread_mutexattr_init(pthread_mutexattr_t *a)
{
	memset(a, 0, sizeof(*a));
	return 0;
}

int pthread_mutexattr_destroy(pthread_mutexattr_t *a)
{
	(void)a;
	return 0;
}

int pthread_mutexattr_settype(pthread_mutexattr_t *a, int kind)
{
	if (kind != PTHREAD_MUTEX_NORMAL && kind != PTHREAD_MUTEX_RECURSIVE && kind != PTHREAD_MUTEX_ERRORCHECK)
		return EINVAL;
	*(int *)a = kind;
	return 0;
}

int pthread_mutexattr_gettype(const pthread_mutexattr_t *a, int *kind)
{
	*kind = *(const int *)a;
	return 0;
}

int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a)
{
	memset(m, 0, sizeof(*m));
	mutex_init(&lock_of(m)->m);
	lock_of(m)->kind = a ? *(const int *)a : PTHREAD_MUTEX_NORMAL;
	return 0;
}

int pthread_mutex_destroy(pthread_mutex_t *m)
{
	return lock_of(m)->m.locked ? EBUSY : 0;
}

/* A recursive mutex the caller holds: one more hold. An error-checking one: EDEADLK. */
static int relock(struct lock *l)
{
	if (l->kind == PTHREAD_MUTEX_RECURSIVE && held_by_me(l)) {
		l->depth++;
		return 0;
	}
	if (l->kind == PTHREAD_MUTEX_ERRORCHECK && held_by_me(l))
		return EDEADLK;
	return -1;
}

/* A normal mutex locked twice by one thread: glibc deadlocks; here the
 * kernel's mutex_lock makes it a driver fault (self-deadlock), recovered. */
int pthread_mutex_lock(pthread_mutex_t *m)
{
	struct lock *l = lock_of(m);
	int r = relock(l);

	if (r >= 0)
		return r;
	mutex_lock(&l->m);
	return 0;
}

/* As pthread_mutex_lock, giving up at the deadline on `clock` (CLOCK_REALTIME
 * or CLOCK_MONOTONIC): ETIMEDOUT. As glibc, the clock is checked first (EINVAL,
 * the mutex free or not), the deadline only when the mutex is held: one
 * before the clock's start has passed whatever its tv_nsec (glibc 2.36 looks
 * at tv_sec first, where its semaphores, rwlocks and conditions refuse a bad
 * tv_nsec first), else a bad one is EINVAL; a normal mutex the caller holds
 * times out, as glibc's. */
int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clock, const struct timespec *abstime)
{
	struct lock *l = lock_of(m);
	long long deadline;
	int r;

	if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
		return EINVAL;
	if ((r = relock(l)) >= 0)
		return r;
	if (mutex_trylock(&l->m))
		return 0;
	if ((deadline = abstime->tv_sec < 0 ? 0 : posix_deadline_of(abstime)) < 0)
		return EINVAL;
	return -nooks_posix_mutex_timedlock(&l->m, clock, deadline);
}

int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abstime)
{
	return pthread_mutex_clocklock(m, CLOCK_REALTIME, abstime);
}

int pthread_mutex_trylock(pthread_mutex_t *m)
{
	struct lock *l = lock_of(m);

	if (l->kind == PTHREAD_MUTEX_RECURSIVE && held_by_me(l)) {
		l->depth++;
		return 0;
	}
	return mutex_trylock(&l->m) ? 0 : EBUSY;
}

int pthread_mutex_unlock(pthread_mutex_t *m)
{
	struct lock *l = lock_of(m);

	if (l->kind != PTHREAD_MUTEX_NORMAL && !held_by_me(l))
		return EPERM;
	if (l->depth) {
		l->depth--;
		return 0;
	}
	mutex_unlock(&l->m);	/* unlocking what it does not hold: a driver fault */
	return 0;
}

int pthread_spin_init(pthread_spinlock_t *s, int shared)
{
	(void)shared;
	*s = 0;
	return 0;
}

int pthread_spin_destroy(pthread_spinlock_t *s)
{
	(void)s;
	return 0;
}

int pthread_spin_trylock(pthread_spinlock_t *s)
{
	return __atomic_exchange_n(s, 1, __ATOMIC_ACQUIRE) ? EBUSY : 0;
}

int pthread_spin_lock(pthread_spinlock_t *s)
{
	while (pthread_spin_trylock(s))
		while (__atomic_load_n(s, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
	return 0;
}

int pthread_spin_unlock(pthread_spinlock_t *s)
{
	__atomic_store_n(s, 0, __ATOMIC_RELEASE);
	return 0;
}

enum { ONCE_NOT_YET, ONCE_RUNNING, ONCE_WAITED, ONCE_DONE };

/* While another thread runs init, the others wait in the kernel on the
 * pthread_once_t (never yield: init may wait long, and a yield is no wait
 * for a driver thread's time budget); its end wakes them if any waits. */
int pthread_once(pthread_once_t *once, void (*init)(void))
{
	unsigned int *state = (unsigned int *)once;
	unsigned int seen = ONCE_NOT_YET;

	if (__atomic_compare_exchange_n(state, &seen, ONCE_RUNNING, 0, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
		init();
		if (__atomic_exchange_n(state, ONCE_DONE, __ATOMIC_RELEASE) == ONCE_WAITED)
			nooks_posix_futex_wake(state, 1);
		return 0;
	}
	while (seen != ONCE_DONE) {
		if (seen == ONCE_RUNNING && !__atomic_compare_exchange_n(state, &seen, ONCE_WAITED, 0, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
			continue;	/* seen is what it is now */
		nooks_posix_futex_wait(state, ONCE_WAITED, CLOCK_MONOTONIC, -1);
		seen = __atomic_load_n(state, __ATOMIC_ACQUIRE);
	}
	return 0;
}

int sched_yield(void)
{
	nooks_posix_sched_yield();
	return 0;
}
