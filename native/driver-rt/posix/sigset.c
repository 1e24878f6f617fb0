/* The sigset_t family, pure, inside the domain, answering as glibc does:
 * signals 1 to 64; glibc's own two (32 and 33, its thread cancellation and
 * set*id) are left out of a full set and EINVAL to add or delete. A driver
 * is sent no signals (docs/drivers.md): the sets only feed the masks
 * (sigmask.c) and the waits that take one (epoll_pwait, ppoll, pselect). */
#include <signal.h>

#include "posix.h"

#define SIGNALS 64

static int in_range(int sig)
{
	return sig > 0 && sig <= SIGNALS;
}

/* Signals 1 to 64 are bits 0 to 63 of the set's first word. */
static unsigned long bit(int sig)
{
	return 1UL << (sig - 1);
}

static int glibc_internal(int sig)
{
	return sig == 32 || sig == 33;
}

int sigemptyset(sigset_t *set)
{
	memset(set, 0, sizeof(*set));
	return 0;
}

int sigfillset(sigset_t *set)
{
	memset(set, 0, sizeof(*set));	/* glibc fills signals 1 to 64 alone */
	set->__val[0] = ~(bit(32) | bit(33));
	return 0;
}

int sigaddset(sigset_t *set, int sig)
{
	if (!in_range(sig) || glibc_internal(sig))
		return (int)posix_result(-EINVAL);
	set->__val[0] |= bit(sig);
	return 0;
}

int sigdelset(sigset_t *set, int sig)
{
	if (!in_range(sig) || glibc_internal(sig))
		return (int)posix_result(-EINVAL);
	set->__val[0] &= ~bit(sig);
	return 0;
}

int sigismember(const sigset_t *set, int sig)
{
	if (!in_range(sig))
		return (int)posix_result(-EINVAL);
	return (set->__val[0] & bit(sig)) != 0;
}
