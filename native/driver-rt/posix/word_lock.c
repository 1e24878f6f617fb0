/* A lock in one word of the driver's memory (the FILE streams'): 0 free,
 * 1 held, 2 held and perhaps waited for. Taken and let go with no kernel
 * call when nobody waits; a waiter waits in the kernel
 * (nooks_posix_futex_wait), never yields: the holder may be in a kernel call
 * that waits long (a read that blocks), and a yield is no wait for the time
 * budget of a driver's thread (docs/drivers.md), a futex wait is. */
#include <time.h>

#include "posix.h"

enum { FREE, HELD, WAITED };

bool posix_word_trylock(unsigned int *word)
{
	unsigned int seen = FREE;

	return __atomic_compare_exchange_n(word, &seen, HELD, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

void posix_word_lock(unsigned int *word)
{
	if (posix_word_trylock(word))
		return;
	/* Taken as WAITED from here on: who lets go may wake another waiter */
	while (__atomic_exchange_n(word, WAITED, __ATOMIC_ACQUIRE) != FREE)
		nooks_posix_futex_wait(word, WAITED, CLOCK_MONOTONIC, -1);
}

void posix_word_unlock(unsigned int *word)
{
	if (__atomic_exchange_n(word, FREE, __ATOMIC_RELEASE) == WAITED)
		nooks_posix_futex_wake(word, 0);
}
