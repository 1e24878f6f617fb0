/* The sigset_t family, pure, inside the domain, answering as glibc does:
 * signals 1 to 64; glibc's own two (32 and 33, its thread cancellation and
 * set*id) are left out of a full set and EINVAL to add or delete. The sets
 * feed the masks (sigmask.c), the waits that take one (epoll_pwait, ppoll,
 * pselect, sigsuspend) and sigwait's family (sigwait.c). */
#include <signal.h>

#include "posix.h"

#define SIGNALS 64

static int in_range(int sig)
{
	return sig > 0 && sig <= SIGNALS;
}

int sigemptyset(sigset_t *set)
{
	memset(set, 0, sizeof(*set));
	return 0;
}

int sigfillset(sigset_t *set)
{
	memset(set, 0, sizeof(*set));	/* glibc fills signals 1 to 64 alone */
	set->__val[0] = ~(posix_signal_bit(32) | posix_signal_bit(33));
	return 0;
}

int sigaddset(sigset_t *set, int sig)
{
	if (!in_range(sig) || posix_signal_glibc_internal(sig))
		return (int)posix_result(-EINVAL);
	set->__val[0] |= posix_signal_bit(sig);
	return 0;
}

int sigdelset(sigset_t *set, int sig)
{
	if (!in_range(sig) || posix_signal_glibc_internal(sig))
		return (int)posix_result(-EINVAL);
	set->__val[0] &= ~posix_signal_bit(sig);
	return 0;
}

int sigismember(const sigset_t *set, int sig)
{
	if (!in_range(sig))
		return (int)posix_result(-EINVAL);
	return (set->__val[0] & posix_signal_bit(sig)) != 0;
}
