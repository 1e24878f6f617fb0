/* The C++ ABI's support calls (Itanium C++ ABI, as libsupc++ provides them
 * to programs): a call of a pure or deleted virtual function, the guards of
 * function-local statics, the image's __dso_handle. */
#include <stdint.h>

#include <nooks/thread_area.h>

#include "cxx.h"

void cxx_fail(const char *fmt, ...)
{
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	nooks_posix_abort(message);
	__builtin_unreachable();
}

extern "C" {

/* What crtbeginS.o defines in a program: the image's handle, which g++ passes
 * to __cxa_atexit. Drivers are linked without start files. */
__attribute__((visibility("hidden"))) void *__dso_handle = &__dso_handle;

void __cxa_pure_virtual(void)
{
	cxx_fail("__cxa_pure_virtual: a pure virtual function was called (an object used during its construction or destruction, or after it)");
}

void __cxa_deleted_virtual(void)
{
	cxx_fail("__cxa_deleted_virtual: a deleted virtual function was called");
}

/* A function-local static's guard (64 bits): byte 0 is set once the object is
 * constructed (what g++'s inline check reads); the word at byte 4 is where
 * the threads that find another constructing it wait, as pthread_once's do
 * (posix/pthread.c): in the kernel, never yielding, woken at release. Its low
 * two bits are the phase; while one runs, the rest name the constructing
 * thread, so that its own second acquire (the initialiser reaching the static
 * again), which would wait for itself for ever, fails instead. */
enum { GUARD_FREE, GUARD_RUNNING, GUARD_WAITED, GUARD_DONE, GUARD_PHASE = 3 };

static unsigned int *guard_state(uint64_t *guard)
{
	return (unsigned int *)guard + 1;
}

/* The calling thread, as the bits above the phase: the index of its domain
 * stack (one per thread, nooks/thread_area.h), below 2^30 as user addresses
 * are below 2^48. */
static unsigned int guard_owner(void)
{
	return (unsigned int)((uintptr_t)nooks_thread_area() / NOOKS_STACK_BYTES) << 2;
}

int __cxa_guard_acquire(uint64_t *guard)
{
	unsigned int *state = guard_state(guard);
	unsigned int me = guard_owner();

	for (;;) {
		if (__atomic_load_n((uint8_t *)guard, __ATOMIC_ACQUIRE))
			return 0;
		unsigned int seen = GUARD_FREE;
		if (__atomic_compare_exchange_n(state, &seen, me | GUARD_RUNNING, 0, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
			return 1;	/* the caller constructs it */
		if (seen == GUARD_DONE)
			return 0;
		unsigned int owner = seen & ~GUARD_PHASE;
		if (owner == me)
			cxx_fail("__cxa_guard_acquire: recursive initialisation of a function-local static (its initialiser reached it again)");
		if ((seen & GUARD_PHASE) == GUARD_RUNNING && !__atomic_compare_exchange_n(state, &seen, owner | GUARD_WAITED, 0, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
			continue;	/* seen is what it is now */
		nooks_posix_futex_wait(state, owner | GUARD_WAITED, 1 /* CLOCK_MONOTONIC */, -1);
	}
}

/* The constructor returned (GUARD_DONE: no caller constructs it again), or
 * (abort: g++ calls it when the constructor throws, which cannot happen here)
 * did not (GUARD_FREE: the next caller tries); the waiters look again. */
static void guard_end(uint64_t *guard, unsigned int now)
{
	if (now == GUARD_DONE)
		__atomic_store_n((uint8_t *)guard, 1, __ATOMIC_RELEASE);
	if ((__atomic_exchange_n(guard_state(guard), now, __ATOMIC_RELEASE) & GUARD_PHASE) == GUARD_WAITED)
		nooks_posix_futex_wake(guard_state(guard), 1);
}

void __cxa_guard_release(uint64_t *guard)
{
	guard_end(guard, GUARD_DONE);
}

void __cxa_guard_abort(uint64_t *guard)
{
	guard_end(guard, GUARD_FREE);
}

}  // extern "C"
