/* pthread_sigmask and sigprocmask: a driver is sent no signals, so a mask
 * changes nothing that happens; it is kept per thread (in the thread's area,
 * as errno) so that `oldset` answers what the thread set, as Linux would:
 * SIGKILL and SIGSTOP never in it, nor glibc's own 32 and 33. A restart, or
 * a new thread, starts with none blocked. */
#include <signal.h>

#include "posix.h"

/* Signals 1 to 64, bit sig - 1, as the first word of a sigset_t. */
#define NEVER_BLOCKED (1UL << (SIGKILL - 1) | 1UL << (SIGSTOP - 1) | 3UL << 31)

static int change_mask(int how, const sigset_t *set, sigset_t *oldset)
{
	struct posix_thread *self = posix_thread_self();
	unsigned long mask = self->sigmask;

	if (set) {
		unsigned long bits = set->__val[0] & ~NEVER_BLOCKED;

		switch (how) {
		case SIG_BLOCK:
			mask |= bits;
			break;
		case SIG_UNBLOCK:
			mask &= ~bits;
			break;
		case SIG_SETMASK:
			mask = bits;
			break;
		default:
			return EINVAL;
		}
	}
	if (oldset) {
		memset(oldset, 0, sizeof(*oldset));
		oldset->__val[0] = self->sigmask;
	}
	self->sigmask = mask;
	return 0;
}

/* The error number itself, as POSIX has the pthread calls. */
int pthread_sigmask(int how, const sigset_t *set, sigset_t *oldset)
{
	return change_mask(how, set, oldset);
}

int sigprocmask(int how, const sigset_t *set, sigset_t *oldset)
{
	return (int)posix_result(-change_mask(how, set, oldset));
}
