/*
 * null: the benchmark driver. nop() measures a host->driver crossing alone,
 * upcall_nop(n) adds n driver->host crossings (the cheapest kernel call).
 */
#include <nooks/kapi.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Empty calls for the crossing benchmarks");

NOOKS_EXPORT long nop(void)
{
	return 0;
}

NOOKS_EXPORT long upcall_nop(long n)
{
	unsigned long last = 0;

	while (n-- > 0)
		last = nooks_jiffies();
	return (long)last;
}

/* nested crossings: each level goes driver -> kernel -> driver */
static void nest_cb(void *info)
{
	long *left = info;

	if (*left > 0) {
		(*left)--;
		on_each_cpu(nest_cb, info, 1);
	}
}

NOOKS_EXPORT long nest(long depth)
{
	long left = depth;

	nest_cb(&left);
	return depth - left;
}

static int null_init(void)
{
	return 0;
}

module_init(null_init);
