/* Clocks and sleeps. A sleep is a kernel call that waits inside the driver's
 * crossing: it counts against the driver's time budget, as msleep. */
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "posix.h"

/* The coarse clocks (clock_gettime(2)) are read as their precise ones: a
 * driver that takes one for a cheap timestamp gets the time, finer than a
 * tick, never EINVAL and a timespec left unset. */
static clockid_t precise(clockid_t clock)
{
	return clock == CLOCK_MONOTONIC_COARSE ? CLOCK_MONOTONIC : clock == CLOCK_REALTIME_COARSE ? CLOCK_REALTIME : clock;
}

int clock_gettime(clockid_t clock, struct timespec *ts)
{
	long long ns = nooks_posix_clock_ns(precise(clock));

	if (ns < 0) {
		errno = EINVAL;
		return -1;
	}
	ts->tv_sec = ns / NS_PER_S;
	ts->tv_nsec = ns % NS_PER_S;
	return 0;
}

/* Every clock clock_gettime reads counts in nanoseconds: 1 ns, as Linux reports for its high-resolution clocks. */
int clock_getres(clockid_t clock, struct timespec *res)
{
	if (nooks_posix_clock_ns(precise(clock)) < 0) {
		errno = EINVAL;
		return -1;
	}
	if (res) {
		res->tv_sec = 0;
		res->tv_nsec = 1;
	}
	return 0;
}

/* The process's CPU time in CLOCKS_PER_SEC units, as glibc computes it:
 * the host process's (the kernel call's clock), the driver's threads with
 * the rest of the host. */
clock_t clock(void)
{
	long long ns = nooks_posix_clock_ns(CLOCK_PROCESS_CPUTIME_ID);

	return (clock_t)(ns / (NS_PER_S / CLOCKS_PER_SEC));
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	long long ns = nooks_posix_clock_ns(CLOCK_REALTIME);

	tv->tv_sec = ns / NS_PER_S;	/* glibc declares tv non-null */
	tv->tv_usec = ns % NS_PER_S / 1000;
	return 0;
}

/* C11's: TIME_UTC is CLOCK_REALTIME; any other base 0. */
int timespec_get(struct timespec *ts, int base)
{
	return base == TIME_UTC && clock_gettime(CLOCK_REALTIME, ts) == 0 ? base : 0;
}

time_t time(time_t *out)
{
	time_t now = nooks_posix_clock_ns(CLOCK_REALTIME) / NS_PER_S;

	if (out)
		*out = now;
	return now;
}

/* A sleep's end (nooks_posix_sleep_ns's answer): whether a signal's handler
 * cut it short, `left` nanoseconds before its end, then in *rem (if any) and
 * errno EINTR, as Linux's nanosleep. */
static bool interrupted(long long left, struct timespec *rem)
{
	if (rem) {
		rem->tv_sec = left / NS_PER_S;
		rem->tv_nsec = left % NS_PER_S;
	}
	if (!left)
		return false;
	errno = EINTR;
	return true;
}

int nanosleep(const struct timespec *req, struct timespec *rem)
{
	long long ns = posix_ns_of(req);

	if (ns < 0) {
		errno = EINVAL;
		return -1;
	}
	return interrupted(nooks_posix_sleep_ns((unsigned long long)ns), rem) ? -1 : 0;
}

/* The error number itself, not -1 and errno, as POSIX has it. Not on the CPU
 * clocks: Linux refuses the thread's (EINVAL), and the process's would wait
 * for CPU time, not sleep on the wall clock (ENOTSUP, as POSIX allows). */
int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem)
{
	if (clock == CLOCK_THREAD_CPUTIME_ID)
		return EINVAL;
	if (clock == CLOCK_PROCESS_CPUTIME_ID)
		return ENOTSUP;
	long long now = nooks_posix_clock_ns(clock), ns = posix_ns_of(req);

	if (now < 0 || ns < 0)
		return EINVAL;
	if (flags & TIMER_ABSTIME) {
		ns -= now;	/* until the clock reads req: at once if it is past */
		rem = NULL;	/* as Linux: an absolute sleep tells nothing left */
	}
	return interrupted(ns > 0 ? nooks_posix_sleep_ns((unsigned long long)ns) : 0, rem) ? EINTR : 0;
}

int usleep(useconds_t us)
{
	return interrupted(nooks_posix_sleep_ns((unsigned long long)us * 1000), NULL) ? -1 : 0;
}

/* The seconds left when a handler cut it short, rounded up as Linux's. */
unsigned int sleep(unsigned int s)
{
	long long left = nooks_posix_sleep_ns((unsigned long long)s * NS_PER_S);

	return (unsigned int)((left + NS_PER_S - 1) / NS_PER_S);
}

/* Until a signal's handler runs (a program's: Driver.kill); then -1, EINTR. */
int pause(void)
{
	nooks_posix_sleep_ns(~0ULL);
	errno = EINTR;
	return -1;
}
