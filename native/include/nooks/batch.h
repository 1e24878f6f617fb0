/*
 * Deferred calls: the kernel queues several calls to one driver in a page at
 * the top of the calling thread's stack in the driver's domain (below the
 * thread's area, <nooks/thread_area.h>), and enters the driver once;
 * nooks_batch_run (native/driver-rt) makes the calls there.
 * Shared by the driver runtime and the kernel: one layout.
 */
#ifndef NOOKS_BATCH_H
#define NOOKS_BATCH_H

#include <stdint.h>

struct nooks_batch_call {
	uint64_t fn;		/* a function of the driver (checked by the kernel) */
	uint64_t args[6];
	uint64_t ret;
};

#define NOOKS_BATCH_BYTES 4096
#define NOOKS_BATCH_MAX ((NOOKS_BATCH_BYTES - 64) / sizeof(struct nooks_batch_call))

struct nooks_batch {
	uint64_t count;		/* calls queued */
	uint64_t done;		/* calls finished: after a fault, the ones before it */
	/*
	 * 0, or a result that stops the batch's calls before resume_at: each of
	 * them after the call that returned it is not made and returns it too
	 * (a refused block request: those after it must not overtake it).
	 */
	int64_t stop_on;
	uint64_t resume_at;
	uint64_t reserved[4];
	struct nooks_batch_call calls[NOOKS_BATCH_MAX];
};

#endif
