/* A struct timespec in nanoseconds (posix.h), for every call that takes one:
 * the sleeps, the timed waits, ppoll and pselect, timerfd_settime; and as
 * the timed waits' deadline. */
#include <limits.h>

#include "posix.h"

long long posix_ns_of(const struct timespec *t)
{
	if (t->tv_sec < 0 || t->tv_nsec < 0 || t->tv_nsec >= NS_PER_S)
		return -1;
	return t->tv_sec > (LLONG_MAX - t->tv_nsec) / NS_PER_S ? LLONG_MAX : t->tv_sec * NS_PER_S + t->tv_nsec;
}

long long posix_deadline_of(const struct timespec *t)
{
	if (t->tv_sec < 0 && t->tv_nsec >= 0 && t->tv_nsec < NS_PER_S)
		return 0;	/* before the clock's start: passed */
	return posix_ns_of(t);
}
