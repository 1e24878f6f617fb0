/*
 * A thread's own bytes in a driver, without TLS and without a kernel call:
 * the top NOOKS_THREAD_AREA_BYTES of each domain stack (one per thread and
 * domain, native/domain/domain.cc), above the deferred calls' page
 * (<nooks/batch.h>). Every stack ends on a multiple of NOOKS_STACK_BYTES, so
 * driver code, which runs on its thread's domain stack in every isolation
 * mode, finds the area from its own frame. The kernel gives each thread that
 * gets a stack the area zeroed, and zeroes every thread's again at a restart
 * (with the driver's data). Shared by the driver runtime and the kernel.
 */
#ifndef NOOKS_THREAD_AREA_H
#define NOOKS_THREAD_AREA_H

#include <stdint.h>

#define NOOKS_STACK_BYTES (256 * 1024)	/* a domain stack; a power of two */
#define NOOKS_THREAD_AREA_BYTES 1024

/* The calling thread's area in the driver it runs in. */
static inline void *nooks_thread_area(void)
{
	uintptr_t top = ((uintptr_t)__builtin_frame_address(0) | (NOOKS_STACK_BYTES - 1)) + 1;

	return (void *)(top - NOOKS_THREAD_AREA_BYTES);
}

#endif
