/*
 * @NAME@: a nooks driver (written by `nooks new @NAME@`).
 *
 * A driver is freestanding C built as a shared object (`nooks build`): no
 * libc. It includes <nooks/kapi.h> for the kernel API (memory, locks, timers,
 * work, interrupts, DMA, PCI, printk) and the string helpers, and runs in a
 * protection domain of its own: a bug in it is trapped, what it held is
 * released, and it is restarted, while the program that loaded it goes on.
 *
 *   npx nooks build @NAME@/@NAME@.c -o build/@NAME@.so
 *   node --test @NAME@/@NAME@.test.mjs        # loads it and calls it
 */
#include <nooks/kapi.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("@NAME@: a driver made with nooks new");

/*
 * State. Globals live in the driver's writable segments, which are reset to
 * their load-time values when the driver is restarted after a failure; memory
 * from kzalloc is the driver's heap, released at a failure. module_init runs
 * at load and again after every restart, so it sets everything up.
 */
struct @NAME@_state {
	spinlock_t lock;
	long calls;		/* calls into the driver since it was (re)started */
};

static struct @NAME@_state *state;

/* One more call: kernel locks work as in Linux, and the kernel checks their use. */
static void count_call(void)
{
	spin_lock(&state->lock);
	state->calls++;
	spin_unlock(&state->lock);
}

/*
 * NOOKS_EXPORT marks functions the program may call: driver.call('add', 2, 3).
 * Up to six integer or pointer arguments; an integer result.
 */
NOOKS_EXPORT long add(long a, long b)
{
	count_call();
	return a + b;
}

/* Pointers: the program passes memory of the driver's own domain, from driver.alloc() and driver.write(). */
NOOKS_EXPORT long checksum(const u8 *buf, long len)
{
	long sum = 0;

	count_call();
	for (long i = 0; i < len; i++)
		sum += buf[i];
	return sum;
}

/* Strings: driver.cstring('world') copies one into the domain. printk lines reach kernel.log(). */
NOOKS_EXPORT long greet(const char *name)
{
	count_call();
	pr_info("@NAME@: hello, %s\n", name);
	return (long)strnlen(name, 256);
}

NOOKS_EXPORT long calls(void)
{
	return state->calls;
}

/*
 * A deliberate bug, to see nooks at work: the NULL dereference is trapped,
 * the call throws a DriverFault, the driver is restarted (calls() is 0 again)
 * and the program goes on.
 */
NOOKS_EXPORT long oops(void)
{
	long *volatile nowhere = NULL;

	return *nowhere;
}

static int @NAME@_init(void)
{
	state = kzalloc(sizeof(*state), GFP_KERNEL);
	if (!state)
		return -ENOMEM;
	spin_lock_init(&state->lock);
	pr_info("@NAME@: loaded\n");
	return 0;	/* non-zero: the load fails with EINITFAILED */
}

static void @NAME@_exit(void)
{
	kfree(state);
}

module_init(@NAME@_init);
module_exit(@NAME@_exit);
