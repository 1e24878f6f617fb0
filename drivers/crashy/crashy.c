/*
 * crashy: a driver that misbehaves on request, one exported function per
 * kind of fault, so the tests can check that nooks contains each of them,
 * cleans up what the driver held and restarts it.
 *
 * Each fault is written so that GCC at -O2 keeps it as written: volatile
 * accesses, values it cannot see, no tail calls.
 */
#include <nooks/kapi.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Faults on demand, for the nooks tests");

/* .data: reset to its load-time value on every recovery */
static long sentinel = 42;

/* objects held from init, so the kernel's object list is not empty */
static void *init_buf;
static struct timer_list idle_timer;

static DEFINE_SPINLOCK(loop_lock);
static DEFINE_SPINLOCK(never_taken);
static DEFINE_MUTEX(self_mutex);

/* the ABBA pair: the caller takes A then B, the work item B then A */
static DEFINE_MUTEX(mutex_a);
static DEFINE_MUTEX(mutex_b);
static struct work_struct abba_work;

static void idle_timer_fn(struct timer_list *t)
{
	(void)t;	/* never armed */
}

/* a fault on a kernel thread: the timer callback dereferences NULL */
static struct timer_list fault_timer;

static void fault_timer_fn(struct timer_list *t)
{
	int *volatile p = NULL;

	(void)t;
	*(volatile int *)p = 1;
}

NOOKS_EXPORT long timer_fault(long ms)
{
	mod_timer(&fault_timer, jiffies + msecs_to_jiffies(ms));
	return 0;
}

/* a timer its exit forgets (no del_timer): the kernel's release stops it */
static struct timer_list forgotten_timer;

static void forgotten_timer_fn(struct timer_list *t)
{
	(void)t;
}

NOOKS_EXPORT long timer_forgotten(long ms)
{
	static int set_up;	/* here, not in init: crashy's objects stay as the tests count them */

	if (!set_up++)
		timer_setup(&forgotten_timer, forgotten_timer_fn, 0);
	mod_timer(&forgotten_timer, jiffies + msecs_to_jiffies(ms));
	return 0;
}

/* a fault deep in nested crossings: driver -> kernel -> driver ... -> NULL */
static void nest_then_fault(void *info)
{
	long *depth = info;
	int *volatile p = NULL;

	if ((*depth)-- > 0)
		on_each_cpu(nest_then_fault, info, 1);
	else
		*(volatile int *)p = 1;
}

NOOKS_EXPORT long nested_fault(long depth)
{
	nest_then_fault(&depth);
	return depth;
}

static void abba_work_fn(struct work_struct *w)
{
	(void)w;
	mutex_lock(&mutex_b);
	msleep(50);
	mutex_lock(&mutex_a);	/* held by deadlock(): stuck */
	mutex_unlock(&mutex_a);
	mutex_unlock(&mutex_b);
}

NOOKS_EXPORT long add(long a, long b)
{
	return a + b;
}

NOOKS_EXPORT long data_value(void)
{
	return sentinel;
}

NOOKS_EXPORT long corrupt_data(void)
{
	sentinel = 7;
	return sentinel;
}

NOOKS_EXPORT long null_deref(void)
{
	/* a volatile pointer: GCC cannot see it is NULL and turn the load into a trap */
	long *volatile p = NULL;

	return *p;
}

NOOKS_EXPORT long wild_write(long addr)
{
	*(volatile long *)addr = 0xdead;
	return 0;
}

NOOKS_EXPORT long write_other(long addr)
{
	/* the address is inside another driver's domain */
	*(volatile long *)addr = 0xdead;
	return 0;
}

/*
 * At least 4 KiB of stack per frame, and the result is used after the call,
 * so the recursion can become neither a loop nor a tail call.
 */
static __attribute__((noinline)) long recurse(long depth)
{
	volatile char frame[4096];

	frame[0] = (char)depth;
	frame[sizeof(frame) - 1] = (char)depth;
	if (depth <= 0)
		return frame[0];
	return recurse(depth - 1) + frame[sizeof(frame) - 1];
}

/* Recurse `depth` frames deep; depth <= 0 means without end. */
NOOKS_EXPORT long stack_overflow(long depth)
{
	return recurse(depth > 0 ? depth : __LONG_MAX__);
}

NOOKS_EXPORT long illegal_instruction(void)
{
	__asm__ volatile("ud2");
	return 0;
}

NOOKS_EXPORT long divide_by_zero(long x)
{
	/* the host passes 0; volatile keeps GCC from reasoning about it */
	volatile long divisor = x;

	return 1000 / divisor;
}

NOOKS_EXPORT long infinite_loop(void)
{
	volatile unsigned long spins = 0;

	for (;;)
		spins++;
	return 0;
}

NOOKS_EXPORT long loop_with_lock(void)
{
	volatile unsigned long spins = 0;

	spin_lock(&loop_lock);
	for (;;)
		spins++;
	spin_unlock(&loop_lock);
	return 0;
}

NOOKS_EXPORT long double_free(void)
{
	/* through a volatile pointer, so no use-after-free reasoning applies */
	void *volatile p = kmalloc(64, GFP_KERNEL);

	kfree(p);
	kfree(p);
	return 0;
}

NOOKS_EXPORT long free_host_pointer(long addr)
{
	kfree((void *)addr);
	return 0;
}

/*
 * Allocate `chunk` bytes (default 4 KiB) at a time, never freeing, until the
 * domain's memory limit makes kmalloc fail; returns how many succeeded.
 */
NOOKS_EXPORT long leak(long chunk)
{
	long count = 0;
	volatile char *p;

	if (chunk <= 0)
		chunk = 4096;
	while ((p = kmalloc(chunk, GFP_KERNEL)) != NULL) {
		p[0] = 1;	/* touch it: the memory is really in use */
		count++;
	}
	return count;
}

/* Both this thread and the kernel worker end up waiting for each other. */
NOOKS_EXPORT long deadlock(void)
{
	mutex_lock(&mutex_a);
	schedule_work(&abba_work);
	msleep(20);		/* let the work item take B */
	mutex_lock(&mutex_b);	/* stuck: only the watchdog ends this */
	mutex_unlock(&mutex_b);
	mutex_unlock(&mutex_a);
	return 0;
}

NOOKS_EXPORT long self_deadlock(void)
{
	mutex_lock(&self_mutex);
	mutex_lock(&self_mutex);	/* the kernel sees the owner ask again */
	mutex_unlock(&self_mutex);
	mutex_unlock(&self_mutex);
	return 0;
}

NOOKS_EXPORT long unlock_unheld(void)
{
	spin_unlock(&never_taken);
	return 0;
}

NOOKS_EXPORT long bad_pointer_arg(void)
{
	/* not driver memory: the wrapper rejects the call */
	spin_lock_init((spinlock_t *)0x1000);
	return 0;
}

/*
 * A bus error: a push through a non-canonical stack pointer raises a
 * stack-segment fault, which Linux delivers as SIGBUS. The stack pointer is
 * wrecked too, so the kernel must recognise the driver by its code.
 */
NOOKS_EXPORT long bus_error(void)
{
	__asm__ volatile("movabs $0x8000000000000000, %%rsp\n\tpush %%rax" ::: "memory");
	return 0;
}

/* more calls the wrappers must reject */
NOOKS_EXPORT long huge_kmalloc(void)
{
	return kmalloc(1ul << 30, GFP_KERNEL) != NULL;	/* a size no driver means */
}

static struct timer_list stray_timer;

NOOKS_EXPORT long bad_callback(long addr)
{
	/* a callback that is not the driver's code: the kernel must never call it */
	timer_setup(&stray_timer, (void (*)(struct timer_list *))addr, 0);
	return 0;
}

static irqreturn_t stray_handler(int irq, void *dev)
{
	(void)irq;
	(void)dev;
	return IRQ_HANDLED;
}

NOOKS_EXPORT long bad_string(long addr)
{
	/* a name the kernel would have to read outside the driver's memory */
	return request_irq(9, stray_handler, 0, (const char *)addr, NULL);
}

/* what the loader bound the driver's import of kmalloc to */
NOOKS_EXPORT long kmalloc_address(void)
{
	return (long)&kmalloc;
}

static int crashy_init(void)
{
	init_buf = kmalloc(128, GFP_KERNEL);
	if (!init_buf)
		return -ENOMEM;
	timer_setup(&idle_timer, idle_timer_fn, 0);
	timer_setup(&fault_timer, fault_timer_fn, 0);
	spin_lock_init(&loop_lock);
	spin_lock_init(&never_taken);	/* known to the kernel, never held */
	mutex_init(&self_mutex);
	mutex_init(&mutex_a);
	mutex_init(&mutex_b);
	INIT_WORK(&abba_work, abba_work_fn);
	return 0;
}

static void crashy_exit(void)
{
	cancel_work_sync(&abba_work);
	del_timer(&idle_timer);
	del_timer(&fault_timer);
	kfree(init_buf);
}

module_init(crashy_init);
module_exit(crashy_exit);
