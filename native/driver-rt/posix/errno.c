/* errno per thread without TLS: a table of slots in the driver's data, one
 * per thread that has used errno, found by the thread's id (a kernel call).
 * A thread that finds the table full shares one overflow slot. */
#include "posix.h"

#define ERRNO_SLOTS 256

static struct {
	int tid;
	int value;
} slots[ERRNO_SLOTS];
static int overflow_errno;

int *__errno_location(void)
{
	int tid = nooks_posix_gettid();
	unsigned int start = (unsigned int)tid * 2654435761u % ERRNO_SLOTS;

	for (unsigned int i = 0; i < ERRNO_SLOTS; i++) {
		unsigned int at = (start + i) % ERRNO_SLOTS;
		int owner = __atomic_load_n(&slots[at].tid, __ATOMIC_ACQUIRE);

		if (owner == 0 && __atomic_compare_exchange_n(&slots[at].tid, &owner, tid, false,
							      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return &slots[at].value;
		if (owner == tid)
			return &slots[at].value;
	}
	return &overflow_errno;
}
