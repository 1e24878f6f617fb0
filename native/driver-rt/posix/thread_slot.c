/* What the personality keeps per thread (errno, the thread's ids,
 * pthread_exit's way out, thread-specific values) without TLS: a struct
 * posix_thread in the thread's area at the top of its domain stack
 * (<nooks/thread_area.h>), found from the stack pointer, never by a kernel
 * call. The kernel gives the area zeroed to each thread that gets the stack
 * (a thread that ends gives its stack back: the next one starts afresh) and
 * zeroes it again at a restart; every thread in the domain has one. */
#include "posix.h"

int *__errno_location(void)
{
	return &posix_thread_self()->errno_value;
}

int posix_thread_tid(void)
{
	struct posix_thread *self = posix_thread_self();

	if (!self->tid)
		self->tid = nooks_posix_gettid();
	return self->tid;
}
