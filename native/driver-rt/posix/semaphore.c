/* Unnamed semaphores (sem_init with pshared 0): the value is a word of the
 * sem_t taken with atomics, and a waiter waits in the kernel while it is 0
 * (nooks_posix_futex_wait), as a condition does: no busy wait, and a wait
 * ends when the driver fails. A count of waiters spares sem_post its kernel
 * call when nobody waits. sem_post takes no lock (atomics and at most one
 * wake), so it is async-signal-safe as POSIX requires. A process-shared
 * semaphore means nothing to a driver, which shares memory with no other
 * process: ENOSYS, POSIX's answer where they are not supported. Named ones
 * (sem_open) are not here: the driver has no file system of its own. */
#define _GNU_SOURCE
#include <limits.h>
#include <semaphore.h>
#include <time.h>

#include "posix.h"

struct sem {
	unsigned int value;
	unsigned int waiters;
};
_Static_assert(sizeof(struct sem) <= sizeof(sem_t), "a sem fits a sem_t");

static struct sem *sem_of(sem_t *s)
{
	return (struct sem *)s;
}

int sem_init(sem_t *s, int pshared, unsigned int value)
{
	if (value > SEM_VALUE_MAX)
		return (int)posix_result(-EINVAL);
	if (pshared)
		return (int)posix_result(-ENOSYS);
	memset(s, 0, sizeof(*s));
	sem_of(s)->value = value;
	return 0;
}

int sem_destroy(sem_t *s)
{
	(void)s;
	return 0;
}

/* Takes one if the value is above 0. */
static int take(struct sem *s)
{
	unsigned int v = __atomic_load_n(&s->value, __ATOMIC_RELAXED);

	while (v)
		if (__atomic_compare_exchange_n(&s->value, &v, v - 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return 1;
	return 0;
}

/* Waits until one is taken (0) or the deadline passes (-ETIMEDOUT). The
 * waiter is counted before it looks at the value, so a post either sees it
 * and wakes it or changes the value the kernel's wait compares. A wait that
 * times out looks once more: a post's wake it took is not lost. */
static int wait_until(struct sem *s, int clock, long long deadline_ns)
{
	int r = 0;

	while (!take(s)) {
		if (r == -ETIMEDOUT)
			return r;
		__atomic_add_fetch(&s->waiters, 1, __ATOMIC_SEQ_CST);
		r = nooks_posix_futex_wait(&s->value, 0, clock, deadline_ns);
		__atomic_sub_fetch(&s->waiters, 1, __ATOMIC_SEQ_CST);
	}
	return 0;
}

int sem_wait(sem_t *s)
{
	return wait_until(sem_of(s), CLOCK_MONOTONIC, -1);
}

int sem_trywait(sem_t *s)
{
	return take(sem_of(s)) ? 0 : (int)posix_result(-EAGAIN);
}

/* As glibc 2.36, the clock and the deadline are checked first: EINVAL, even
 * for a semaphore that could be taken at once (which is then not taken). */
int sem_clockwait(sem_t *restrict s, clockid_t clock, const struct timespec *restrict abstime)
{
	long long deadline;

	if ((clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) || (deadline = posix_deadline_of(abstime)) < 0)
		return (int)posix_result(-EINVAL);
	if (take(sem_of(s)))
		return 0;
	return (int)posix_result(wait_until(sem_of(s), clock, deadline));
}

int sem_timedwait(sem_t *restrict s, const struct timespec *restrict abstime)
{
	return sem_clockwait(s, CLOCK_REALTIME, abstime);
}

int sem_post(sem_t *s)
{
	struct sem *m = sem_of(s);
	unsigned int v = __atomic_load_n(&m->value, __ATOMIC_RELAXED);

	do
		if (v == SEM_VALUE_MAX)
			return (int)posix_result(-EOVERFLOW);
	while (!__atomic_compare_exchange_n(&m->value, &v, v + 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
	if (__atomic_load_n(&m->waiters, __ATOMIC_SEQ_CST))
		nooks_posix_futex_wake(&m->value, 0);
	return 0;
}

int sem_getvalue(sem_t *restrict s, int *restrict value)
{
	*value = (int)__atomic_load_n(&sem_of(s)->value, __ATOMIC_RELAXED);
	return 0;
}
