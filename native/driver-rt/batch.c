/*
 * The driver side of deferred calls (nooks/batch.h): run the queued calls in
 * order, inside the domain, so that they cost one crossing in all.
 */
#include <nooks/batch.h>

typedef long (*batch_fn)(long, long, long, long, long, long);

__attribute__((visibility("default"))) long nooks_batch_run(struct nooks_batch *b)
{
	uint64_t i;

	for (i = 0; i < b->count && i < NOOKS_BATCH_MAX; i++) {
		struct nooks_batch_call *c = &b->calls[i];

		c->ret = (uint64_t)((batch_fn)c->fn)((long)c->args[0], (long)c->args[1], (long)c->args[2],
						     (long)c->args[3], (long)c->args[4], (long)c->args[5]);
		b->done = i + 1;
	}
	return (long)i;
}
