/*
 * @NAME@: a nooks driver in C++ (written by `nooks new @NAME@ --lang c++`).
 *
 * A driver is built as a shared object (`nooks build`) that links against
 * nothing: no libc, and of the C++ library only what its headers hold
 * (std::array, std::vector, std::unique_ptr, <algorithm>...), without
 * exceptions or RTTI. It includes <nooks/kapi.hh>: <nooks/kapi.h>, the kernel
 * API (memory, locks, timers, work, interrupts, DMA, PCI, printk), and in
 * namespace nooks the C++ helpers (lock guards, a BAR's registers, DMA
 * buffers, probe and remove for a PCI device). It runs in a protection
 * domain of its own: a bug in it is trapped, what it held is released, and it
 * is restarted, while the program that loaded it goes on. docs/drivers.md,
 * "C++ drivers", says what C++ may use here.
 *
 *   npx nooks build @NAME@/@NAME@.cc -o build/@NAME@.so
 *   node --test @NAME@/@NAME@.test.mjs        # loads it and calls it
 */
#include <nooks/kapi.hh>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("@NAME@: a driver made with nooks new --lang c++");

namespace {

/*
 * The driver's state. new and delete use the driver's heap (released at a
 * failure); a failed new fails the driver (there are no exceptions). Globals
 * live in the driver's writable segments, reset to their load-time values
 * when it is restarted after a failure. module_init runs at load and again
 * after every restart, so it sets everything up. A global object with a
 * constructor is refused in a kernel-API driver (ECTOR): make it in
 * module_init, as here, or build with --posix, which runs constructors.
 */
class Counter {
public:
	Counter() { spin_lock_init(&lock_); }

	/* One more call: kernel locks work as in Linux, and the kernel checks their use. */
	void count()
	{
		nooks::SpinGuard held(lock_);	/* released on every path out of the scope */
		calls_++;
	}
	long calls() const { return calls_; }

private:
	spinlock_t lock_;
	long calls_ = 0;
};

/* A plain pointer: a global std::unique_ptr would have a destructor to run at unload, refused as a constructor is. */
Counter *state;

}  // namespace

/*
 * NOOKS_EXPORT marks functions the program may call: driver.call('add', 2, 3)
 * (in C++ it makes them extern "C": the program finds them by their C name).
 * Up to six integer or pointer arguments; an integer result.
 */
NOOKS_EXPORT long add(long a, long b)
{
	state->count();
	return a + b;
}

/* Pointers: the program passes memory of the driver's own domain, from driver.alloc() and driver.write(). */
NOOKS_EXPORT long checksum(const u8 *buf, long len)
{
	long sum = 0;

	state->count();
	for (long i = 0; i < len; i++)
		sum += buf[i];
	return sum;
}

/* Strings: driver.cstring('world') copies one into the domain. printk lines reach kernel.log(). */
NOOKS_EXPORT long greet(const char *name)
{
	state->count();
	pr_info("@NAME@: hello, %s\n", name);
	return (long)strnlen(name, 256);
}

NOOKS_EXPORT long calls(void)
{
	return state->calls();
}

/*
 * A deliberate bug, to see nooks at work: the NULL dereference is trapped,
 * the call throws a DriverFault, the driver is restarted (calls() is 0 again)
 * and the program goes on.
 */
NOOKS_EXPORT long oops(void)
{
	long *volatile nowhere = nullptr;

	return *nowhere;
}

static int @NAME@_init(void)
{
	state = new Counter;
	pr_info("@NAME@: loaded\n");
	return 0;	/* non-zero: the load fails with EINITFAILED */
}

static void @NAME@_exit(void)
{
	delete state;
}

module_init(@NAME@_init);
module_exit(@NAME@_exit);
