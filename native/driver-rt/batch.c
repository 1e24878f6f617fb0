/*
 * The driver side of deferred calls (nooks/batch.h): run the queued calls in
 * order, inside the domain, so that they cost one crossing in all.
 */
#include <nooks/batch.h>

typedef long (*batch_fn)(long, long, long, long, long, long);

__attribute__((visibility("default"))) long nooks_batch_run(struct nooks_batch *b)
{
	uint64_t i;
	int stopped = 0;

	for (i = 0; i < b->count && i < NOOKS_BATCH_MAX; i++) {
		struct nooks_batch_call *c = &b->calls[i];

		if (stopped && i < b->resume_at) {
			c->ret = (uint64_t)b->stop_on;
		} else {
			c->ret = (uint64_t)((batch_fn)c->fn)((long)c->args[0], (long)c->args[1], (long)c->args[2],
							     (long)c->args[3], (long)c->args[4], (long)c->args[5]);
			/* the ops a batch stops on return int: only the low 32 bits are theirs (`return -EBUSY` leaves 0xfffffff0) */
			stopped = b->stop_on != 0 && (int32_t)c->ret == (int32_t)b->stop_on;
		}
		b->done = i + 1;
	}
	return (long)i;
}
