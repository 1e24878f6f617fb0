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

/* The area's last word: which part of a driver's start or exit
 * (nooks_posix_start, nooks_posix_stop: native/driver-rt/posix/start.c) the
 * thread runs, written before each, so that the kernel names the part that
 * faulted in a load, a restart or an unload (driver_part_that_faulted,
 * loader.cc). Zero, the entry point itself (module_init or module_exit), in a
 * driver that never writes it. What precedes it is the personality's (struct
 * posix_thread). */
#define NOOKS_PART_OFFSET (NOOKS_THREAD_AREA_BYTES - 8)
enum nooks_part { NOOKS_PART_ENTRY, NOOKS_PART_ATEXIT_HANDLER, NOOKS_PART_DESTRUCTOR, NOOKS_PART_CONSTRUCTOR };

/* The calling thread's area in the driver it runs in. */
static inline void *nooks_thread_area(void)
{
	uintptr_t top = ((uintptr_t)__builtin_frame_address(0) | (NOOKS_STACK_BYTES - 1)) + 1;

	return (void *)(top - NOOKS_THREAD_AREA_BYTES);
}

/* The calling thread's part word (NOOKS_PART_OFFSET). */
static inline volatile uint64_t *nooks_part(void)
{
	return (volatile uint64_t *)((char *)nooks_thread_area() + NOOKS_PART_OFFSET);
}

#endif
