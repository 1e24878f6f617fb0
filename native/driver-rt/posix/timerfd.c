/* timerfd_create, timerfd_settime, timerfd_gettime: a timer kept by the
 * kernel (native/posix/timerfd.h) whose expiries a read counts; read, poll,
 * select, epoll and close are those of every descriptor (files.c, events.c).
 * The times travel as nanoseconds. */
#include <sys/timerfd.h>

#include "posix.h"

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
	first = posix_ns_of(&value->it_value), interval = posix_ns_of(&value->it_interval);
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
