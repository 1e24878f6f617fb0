/* What the personality keeps per thread (errno, pthread_exit's way out,
 * thread-specific values) without TLS: a table of slots in the driver's
 * data, one per thread that has used it, found by the thread's id (a
 * kernel call). A thread that pthread_create started gives its slot back
 * when it ends; a thread that finds the table full shares one errno. */
#include "posix.h"

#define SLOTS 256

enum { NEVER_USED = 0, FREED = -1 };

static struct posix_thread slots[SLOTS];
static int overflow_errno;

/* Open addressing from the tid's hash: a thread's slot is the first one never
 * used or freed from there when it claimed it, and only it claims its tid,
 * so its search never stops short of it (a slot once used is never "never
 * used" again). */
struct posix_thread *posix_thread_self(void)
{
	int tid = nooks_posix_gettid();
	unsigned int start = (unsigned int)tid * 2654435761u % SLOTS;

	for (;;) {
		int free_at = -1, free_was = 0;

		for (unsigned int i = 0; i < SLOTS; i++) {
			unsigned int at = (start + i) % SLOTS;
			int owner = __atomic_load_n(&slots[at].tid, __ATOMIC_ACQUIRE);

			if (owner == tid)
				return &slots[at];
			if ((owner == FREED || owner == NEVER_USED) && free_at < 0) {
				free_at = (int)at;
				free_was = owner;
			}
			if (owner == NEVER_USED)
				break;
		}
		if (free_at < 0)
			return NULL;
		if (__atomic_compare_exchange_n(&slots[free_at].tid, &free_was, tid, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return &slots[free_at];
		/* another thread took it first: search again */
	}
}

void posix_thread_forget(struct posix_thread *self)
{
	const size_t kept = offsetof(struct posix_thread, errno_value);

	if (!self)
		return;
	memset((char *)self + kept, 0, sizeof(*self) - kept);
	__atomic_store_n(&self->tid, FREED, __ATOMIC_RELEASE);
}

int *__errno_location(void)
{
	struct posix_thread *self = posix_thread_self();

	return self ? &self->errno_value : &overflow_errno;
}
