/* timerfd_create, timerfd_settime, timerfd_gettime: a timer kept by the
 * kernel (native/posix/timerfd.h) whose expiries a read counts; read, poll,
 * select, epoll and close are those of every descriptor (files.c, events.c).
 * The times travel as nanoseconds. */
#include <limits.h>
#include <sys/timerfd.h>

#include "posix.h"

#define NS_PER_S 1000000000LL

/* A time in ns (saturating, as Linux clamps), or -1 for what Linux refuses: a negative part, tv_nsec a second or more. */
static long long ns_of(const struct timespec *t)
{
	if (t->tv_sec < 0 || t->tv_nsec < 0 || t->tv_nsec >= NS_PER_S)
		return -1;
	return t->tv_sec > (LLONG_MAX - t->tv_nsec) / NS_PER_S ? LLONG_MAX : t->tv_sec * NS_PER_S + t->tv_nsec;
}

/* The kernel's answer (ns until the next expiry, the interval) as struct itimerspec. */
static void itimerspec_of(const unsigned long long ns[2], struct itimerspec *out)
{
	out->it_value = (struct timespec){ .tv_sec = (time_t)(ns[0] / NS_PER_S), .tv_nsec = (long)(ns[0] % NS_PER_S) };
	out->it_interval = (struct timespec){ .tv_sec = (time_t)(ns[1] / NS_PER_S), .tv_nsec = (long)(ns[1] % NS_PER_S) };
}

int timerfd_create(int clock, int flags)
{
	return (int)posix_result(nooks_posix_timerfd_create(clock, flags));
}

int timerfd_settime(int fd, int flags, const struct itimerspec *value, struct itimerspec *old)
{
	long long first, interval;
	unsigned long long was[2];

	if (!value) {	/* Linux reads the setting first */
		errno = EFAULT;
		return -1;
	}
	first = ns_of(&value->it_value), interval = ns_of(&value->it_interval);
	if (first < 0 || interval < 0) {
		errno = EINVAL;
		return -1;
	}
	if (posix_result(nooks_posix_timerfd_settime(fd, flags, first, interval, old ? was : NULL)) < 0)
		return -1;
	if (old)
		itimerspec_of(was, old);
	return 0;
}

int timerfd_gettime(int fd, struct itimerspec *cur)
{
	unsigned long long now[2];

	if (posix_result(nooks_posix_timerfd_gettime(fd, now)) < 0)
		return -1;
	if (!cur) {	/* Linux checks the descriptor first */
		errno = EFAULT;
		return -1;
	}
	itimerspec_of(now, cur);
	return 0;
}
