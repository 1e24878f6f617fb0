/* pthread_sigmask, sigprocmask and sigpending. The mask is kept per thread,
 * in the thread's area as errno is, and answered from there; in a program
 * the kernel keeps each change too (native/posix/program_signals.h), where
 * it decides which of the signals sent run their handler and which stay
 * pending, and where unblocking a pending one runs its handler before the
 * call returns (docs/drivers.md, "Programs"). SIGKILL and SIGSTOP are never
 * in it, nor glibc's own 32 and 33. A new thread starts with its creator's
 * (thread.c), main's thread and every thread after a restart with none. */
#include <signal.h>

#include "posix.h"

/* Signals 1 to 64, bit sig - 1, as the first word of a sigset_t. */
#define NEVER_BLOCKED (1UL << (SIGKILL - 1) | 1UL << (SIGSTOP - 1) | 3UL << 31)

unsigned long posix_signal_set_of(const sigset_t *set)
{
	return set->__val[0] & ~NEVER_BLOCKED;
}

void posix_signal_set_to(sigset_t *set, unsigned long bits)
{
	memset(set, 0, sizeof(*set));
	set->__val[0] = bits;
}

static int change_mask(int how, const sigset_t *set, sigset_t *oldset)
{
	struct posix_thread *self = posix_thread_self();
	unsigned long old = self->sigmask, mask = old;

	if (set) {
		unsigned long bits = posix_signal_set_of(set);

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
	self->sigmask = mask;
	if (mask != old && posix_program())
		nooks_posix_sigmask(mask);
	if (oldset)
		posix_signal_set_to(oldset, old);
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

/* A library-style driver is sent no signals: none is pending. */
int sigpending(sigset_t *set)
{
	posix_signal_set_to(set, posix_program() ? nooks_posix_sigpending(posix_thread_self()->sigmask) : 0);
	return 0;
}
