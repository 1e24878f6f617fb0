/*
 * Targeted faults (lib/inject/targeted.ts), after Linux's lkdtm and the bug
 * classes the shadow-driver paper found in driver patches. The injector
 * patches the entry of a driver function with
 *     mov $action, %edi ; jmp nooks_lkdtm
 * so that calling that function runs the bug below, inside the driver's
 * domain, on the caller's path; the function then returns 0 without doing
 * its work (if the bug lets it return at all).
 *
 * The numbers are the index of each type in lib/inject/targeted.ts.
 */
#include <nooks/kapi.h>

#define RT_HIDDEN __attribute__((visibility("hidden")))

enum lkdtm_action {
	LKDTM_NULL_DEREF,	/* missing null check: a lookup that found nothing, used anyway */
	LKDTM_UNINIT,		/* missing initialisation: a pointer member never set, followed */
	LKDTM_ENDLESS_LOOP,	/* bad calculation: a countdown that steps over its end */
	LKDTM_OVERRUN,		/* bad calculation: a length in pages used as bytes */
	LKDTM_PANIC,		/* BUG() */
	LKDTM_LOOP,		/* spins forever */
	LKDTM_EXHAUST_STACK,	/* unbounded recursion */
	LKDTM_CORRUPT_STACK,	/* a stack buffer overflow over the return address */
	LKDTM_WRITE_AFTER_FREE,
	LKDTM_OVERWRITE_ALLOCATION,
};

struct lkdtm_ring {
	struct lkdtm_ring *next;
	long *counters;
	unsigned long len;
};

/* Opaque to the optimiser, so that each bug is compiled as written. */
static unsigned long opaque(unsigned long x)
{
	__asm__ volatile("" : "+r"(x));
	return x;
}

static __attribute__((noinline)) struct lkdtm_ring *lkdtm_lookup(void)
{
	return (struct lkdtm_ring *)opaque(0);
}

static __attribute__((noinline)) long lkdtm_recurse(unsigned long depth)
{
	volatile char frame[1024];

	frame[opaque(depth) % sizeof(frame)] = (char)depth;
	if (opaque(depth) == ~0ul)	/* the base case a bad calculation never reaches */
		return 0;
	return lkdtm_recurse(depth + 1) + frame[0];
}

static __attribute__((noinline)) void lkdtm_smash(void)
{
	unsigned char buf[16];

	/* the copy's length came from the device, unchecked */
	memset(buf, 0x41, opaque(sizeof(buf) + 64));
	__asm__ volatile("" : : "r"(buf) : "memory");
}

RT_HIDDEN long nooks_lkdtm(long action)
{
	volatile unsigned long spin = 0;
	struct lkdtm_ring *r;
	unsigned long i;
	long *p;

	switch (action) {
	case LKDTM_NULL_DEREF:
		r = lkdtm_lookup();
		return r->counters[0]++;
	case LKDTM_UNINIT:
		r = kmalloc(sizeof(*r), GFP_KERNEL);
		if (!r)
			return -ENOMEM;
		r->len = 8;	/* counters forgotten */
		r->counters[opaque(r->len) - 1]++;
		kfree(r);
		return 0;
	case LKDTM_ENDLESS_LOOP:
		for (i = opaque(15); i != 0; i -= 2)	/* odd: steps over 0 and wraps around */
			spin += i;
		return 0;
	case LKDTM_OVERRUN:
		p = kmalloc(64, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		memset(p, 0, opaque(64) << 20);	/* 64 pages meant, 64 MiB written */
		kfree(p);
		return 0;
	case LKDTM_PANIC:
		__builtin_trap();
	case LKDTM_LOOP:
		for (;;)
			spin++;
	case LKDTM_EXHAUST_STACK:
		return lkdtm_recurse(0);
	case LKDTM_CORRUPT_STACK:
		lkdtm_smash();
		return 0;
	case LKDTM_WRITE_AFTER_FREE:
		p = kmalloc(1024, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		kfree(p);
		memset(p, 0x6b, 1024);
		return 0;
	case LKDTM_OVERWRITE_ALLOCATION:
		p = kmalloc(1020, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		p[opaque(1024 / sizeof(long))] = 0x12345678;
		kfree(p);
		return 0;
	}
	return 0;
}
