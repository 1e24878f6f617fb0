/* Barriers: a count of the threads arrived and a round number in the
 * pthread_barrier_t. The last to arrive starts the next round (count back to
 * 0, round moved on) and wakes the others, which wait in the kernel while
 * the round stays (nooks_posix_futex_wait): no busy wait, and a wait ends
 * when the driver fails. The last one gets PTHREAD_BARRIER_SERIAL_THREAD.
 * A count of the threads inside a wait lets destroy, right after the serial
 * thread's wait returns, wait (in the kernel too) until the others woken
 * have left it: they still read the round, and the memory may be reused the
 * moment destroy returns (glibc guards the same way; glibc's last leaver
 * wakes destroy after its drop of the count, which Linux lets touch freed
 * memory, but here the wake's check of the word would fail the driver). */
#define _GNU_SOURCE
#include <pthread.h>
#include <time.h>

#include "posix.h"

struct barrier {
	unsigned int round;
	unsigned int arrived;
	unsigned int count;
	unsigned int inside;
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

/* A round in progress: EBUSY. Otherwise it waits for the threads of the
 * round just ended to leave their waits. */
int pthread_barrier_destroy(pthread_barrier_t *barrier)
{
	struct barrier *b = barrier_of(barrier);
	unsigned int inside;

	if (__atomic_load_n(&b->arrived, __ATOMIC_SEQ_CST))
		return EBUSY;
	while ((inside = __atomic_load_n(&b->inside, __ATOMIC_SEQ_CST)))
		nooks_posix_futex_wait(&b->inside, inside, CLOCK_MONOTONIC, -1);
	return 0;
}

/* The last access to the barrier of a thread leaving its wait. The one that
 * takes the count to 0 lets destroy return, and the memory be freed, at that
 * moment: it drops the count in the kernel, which wakes destroy in the same
 * step, since a wake after the drop (or its check of the word) could find the
 * barrier gone. The others drop it here: no kernel call, as before. */
static void leave(struct barrier *b)
{
	unsigned int inside = __atomic_load_n(&b->inside, __ATOMIC_SEQ_CST);

	while (inside > 1)
		if (__atomic_compare_exchange_n(&b->inside, &inside, inside - 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return;
	nooks_posix_futex_dec_wake(&b->inside);
}

/* A thread counts itself inside before it arrives, so the last to arrive
 * sees every other counted. The round is read before arriving: it cannot
 * move on before this thread has arrived, so the wait sees it change. */
int pthread_barrier_wait(pthread_barrier_t *barrier)
{
	struct barrier *b = barrier_of(barrier);
	unsigned int round;

	__atomic_add_fetch(&b->inside, 1, __ATOMIC_SEQ_CST);
	round = __atomic_load_n(&b->round, __ATOMIC_SEQ_CST);
	if (__atomic_add_fetch(&b->arrived, 1, __ATOMIC_SEQ_CST) == b->count) {
		__atomic_store_n(&b->arrived, 0, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&b->round, 1, __ATOMIC_SEQ_CST);
		nooks_posix_futex_wake(&b->round, 1);
		leave(b);
		return PTHREAD_BARRIER_SERIAL_THREAD;
	}
	while (__atomic_load_n(&b->round, __ATOMIC_SEQ_CST) == round)
		nooks_posix_futex_wait(&b->round, round, CLOCK_MONOTONIC, -1);
	leave(b);
	return 0;
}
