// Preloaded (LD_PRELOAD) by test/timerfd-clock-step.test.ts: CLOCK_REALTIME,
// as clock_gettime reads it, is NOOKS_TEST_REALTIME_BACK_S seconds behind
// once the program sets that variable (process.env sets it with setenv), as
// if the clock had been set back (date -s, an NTP step) without setting the
// machine's. Other clocks are left as they are.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

int clock_gettime(clockid_t clock, struct timespec *t) {
	static int (*real)(clockid_t, struct timespec *);
	if (!real) real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
	int r = real(clock, t);
	const char *back = clock == CLOCK_REALTIME && r == 0 ? getenv("NOOKS_TEST_REALTIME_BACK_S") : NULL;
	if (back) t->tv_sec -= atol(back);
	return r;
}
