/* sigwait, sigwaitinfo, sigtimedwait and sigsuspend: a program's threads
 * waiting for the signals Driver.kill sends (native/posix/program_signals.h,
 * docs/drivers.md "Programs"). sigwait's family takes one of its set, pending
 * or sent while it waits, and no handler runs for it; sigsuspend waits under
 * a mask until a handler has run. A library-style driver is sent none: its
 * waits end only by their timeout (or the driver's time budget). */
#include <signal.h>
#include <unistd.h>

#include "posix.h"

/* A signal of `set` taken (its number), or -1 and errno: EAGAIN past the timeout (ns, -1: none), EINTR when a handler ran. */
static int take(const sigset_t *set, siginfo_t *info, long long timeout_ns)
{
	int sig = (int)posix_result(nooks_posix_sigwait(posix_signal_set_of(set), timeout_ns));

	if (sig > 0 && info)
		posix_siginfo_of_kill(info, sig);
	return sig;
}

/* No EINTR, as POSIX has it: a handler that runs meanwhile does not end it. */
int sigwait(const sigset_t *set, int *sig)
{
	int got;

	while ((got = take(set, NULL, -1)) < 0)
		if (errno != EINTR)
			return errno;
	*sig = got;
	return 0;
}

int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
	return take(set, info, -1);
}

int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *timeout)
{
	long long ns = timeout ? posix_ns_of(timeout) : -1;

	if (timeout && ns < 0) {
		errno = EINVAL;
		return -1;
	}
	return take(set, info, ns);
}

/* -1 and EINTR, always, once a handler has run for the calling thread. */
int sigsuspend(const sigset_t *mask)
{
	return (int)posix_result(nooks_posix_sigsuspend(posix_signal_set_of(mask)));
}
