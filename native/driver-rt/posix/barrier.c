/* Barriers: a count of the threads arrived and a round number in the
 * pthread_barrier_t. The last to arrive starts the next round (count back to
 * 0, round moved on) and wakes the others, which wait in the kernel while
 * the round stays (nooks_posix_futex_wait): no busy wait, and a wait ends
 * when the driver fails. The last one gets PTHREAD_BARRIER_SERIAL_THREAD. */
#define _GNU_SOURCE
#include <pthread.h>
#include <time.h>

#include "posix.h"

struct barrier {
	unsigned int round;
	unsigned int arrived;
	unsigned int count;
};
_Static_assert(sizeof(struct barrier) <= sizeof(pthread_barrier_t), "a barrier fits a pthread_barrier_t");

static struct barrier *barrier_of(pthread_barrier_t *b)
{
	return (struct barrier *)b;
}

int pthread_barrierattr_init(pthread_barrierattr_t *a)
{
	memset(a, 0, sizeof(*a));
	return 0;
}

int pthread_barrierattr_destroy(pthread_barrierattr_t *a)
{
	(void)a;
	return 0;
}

int pthread_barrier_init(pthread_barrier_t *restrict b, const pthread_barrierattr_t *restrict a, unsigned int count)
{
	(void)a;
	if (!count)
		return EINVAL;
	memset(b, 0, sizeof(*b));
	barrier_of(b)->count = count;
	return 0;
}

int pthread_barrier_destroy(pthread_barrier_t *b)
{
	return __atomic_load_n(&barrier_of(b)->arrived, __ATOMIC_SEQ_CST) ? EBUSY : 0;
}

/* The round is read before arriving: it cannot move on before this thread
 * has arrived, so the wait sees it change. */
int pthread_barrier_wait(pthread_barrier_t *barrier)
{
	struct barrier *b = barrier_of(barrier);
	unsigned int round = __atomic_load_n(&b->round, __ATOMIC_SEQ_CST);

	if (__atomic_add_fetch(&b->arrived, 1, __ATOMIC_SEQ_CST) == b->count) {
		__atomic_store_n(&b->arrived, 0, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&b->round, 1, __ATOMIC_SEQ_CST);
		nooks_posix_futex_wake(&b->round, 1);
		return PTHREAD_BARRIER_SERIAL_THREAD;
	}
	while (__atomic_load_n(&b->round, __ATOMIC_SEQ_CST) == round)
		nooks_posix_futex_wait(&b->round, round, CLOCK_MONOTONIC, -1);
	return 0;
}
