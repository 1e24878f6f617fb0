/* Condition variables: a sequence number in the pthread_cond_t that signal
 * and broadcast move on, and a wait in the kernel while it stays
 * (nooks_posix_futex_wait): no busy wait, and a wait ends when the driver
 * fails. Wakeups may be spurious, as POSIX allows (a signal may wake more
 * than one waiter). A count of waiters spares signal its kernel call when
 * nobody waits. All zeros is PTHREAD_COND_INITIALIZER: CLOCK_REALTIME. */
#define _GNU_SOURCE
#include <pthread.h>
#include <time.h>

#include "posix.h"

struct cond {
	unsigned int seq;
	unsigned int waiters;
	int clock;	/* of timedwait's deadlines */
};
_Static_assert(sizeof(struct cond) <= sizeof(pthread_cond_t), "a cond fits a pthread_cond_t");

static struct cond *cond_of(pthread_cond_t *c)
{
	return (struct cond *)c;
}

int pthread_condattr_init(pthread_condattr_t *a)
{
	*(int *)a = CLOCK_REALTIME;
	return 0;
}

int pthread_condattr_destroy(pthread_condattr_t *a)
{
	(void)a;
	return 0;
}

int pthread_condattr_setclock(pthread_condattr_t *a, clockid_t clock)
{
	if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
		return EINVAL;
	*(int *)a = clock;
	return 0;
}

int pthread_condattr_getclock(const pthread_condattr_t *restrict a, clockid_t *restrict clock)
{
	*clock = *(const int *)a;
	return 0;
}

int pthread_cond_init(pthread_cond_t *restrict c, const pthread_condattr_t *restrict a)
{
	memset(c, 0, sizeof(*c));
	cond_of(c)->clock = a ? *(const int *)a : CLOCK_REALTIME;
	return 0;
}

int pthread_cond_destroy(pthread_cond_t *c)
{
	return __atomic_load_n(&cond_of(c)->waiters, __ATOMIC_SEQ_CST) ? EBUSY : 0;
}

/* The sequence number is read before the mutex is let go, so a signal
 * between the two changes it and the kernel's wait returns at once. */
static int wait_until(struct cond *c, pthread_mutex_t *m, int clock, long long deadline_ns)
{
	unsigned int seen = __atomic_load_n(&c->seq, __ATOMIC_SEQ_CST);
	int r;

	__atomic_add_fetch(&c->waiters, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(m);
	r = nooks_posix_futex_wait(&c->seq, seen, clock, deadline_ns);
	__atomic_sub_fetch(&c->waiters, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(m);
	return r == -ETIMEDOUT || r == -EINVAL ? -r : 0;
}

int pthread_cond_wait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m)
{
	return wait_until(cond_of(c), m, cond_of(c)->clock, -1);
}

int pthread_cond_clockwait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m, clockid_t clock, const struct timespec *restrict abstime)
{
	long long deadline = posix_deadline_of(abstime);

	return deadline < 0 ? EINVAL : wait_until(cond_of(c), m, clock, deadline);
}

/* A clockwait on the clock the cond was made with. */
int pthread_cond_timedwait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m, const struct timespec *restrict abstime)
{
	return pthread_cond_clockwait(c, m, cond_of(c)->clock, abstime);
}

static void wake(struct cond *c, int all)
{
	__atomic_add_fetch(&c->seq, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->waiters, __ATOMIC_SEQ_CST))
		nooks_posix_futex_wake(&c->seq, all);
}

int pthread_cond_signal(pthread_cond_t *c)
{
	wake(cond_of(c), 0);
	return 0;
}

int pthread_cond_broadcast(pthread_cond_t *c)
{
	wake(cond_of(c), 1);
	return 0;
}
