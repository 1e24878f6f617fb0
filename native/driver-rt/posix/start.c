/* A personality driver's entry and exit, as the loader calls them when the
 * driver has them (native/loader/loader.cc): its constructors, which
 * ctors.ld keeps from the dynamic loader, run here, inside the domain, before
 * its module_init (the personality's empty one for a library-style driver),
 * at load and again at each restart (its data is as loaded then); once this
 * has returned, the kernel starts a program's main (program.c). At unload,
 * after its module_exit, and at exit(): what it registered with atexit, then
 * its destructors, each in reverse order, then what stdout, stderr and its
 * FILE streams hold is written, as glibc's exit does. A
 * constructor that faults fails the load (or the restart) like module_init; a
 * fault in a load, a restart or an unload is named by the part that faulted
 * (the part word). */
#include <stdlib.h>

#include "posix.h"

typedef void (*hook_fn)(void);
extern hook_fn __nooks_ctors_start[] __attribute__((visibility("hidden")));
extern hook_fn __nooks_ctors_end[] __attribute__((visibility("hidden")));
extern hook_fn __nooks_dtors_start[] __attribute__((visibility("hidden")));
extern hook_fn __nooks_dtors_end[] __attribute__((visibility("hidden")));

int nooks_module_init(void);
/* Hidden and weak: 0 at link time when the driver has no module_exit (never a host symbol). */
extern void nooks_module_exit(void) __attribute__((weak, visibility("hidden")));

__attribute__((visibility("default"))) int nooks_posix_start(void)
{
	*nooks_part() = NOOKS_PART_CONSTRUCTOR;	/* the kernel names the part that faults (<nooks/thread_area.h>) */
	for (hook_fn *f = __nooks_ctors_start; f < __nooks_ctors_end; f++)
		(*f)();
	*nooks_part() = NOOKS_PART_ENTRY;
	return nooks_module_init();
}

/* atexit's table: POSIX's ATEXIT_MAX (at least 32), in the driver's data (empty again after a restart). */
#define HANDLERS 32
static struct {
	void (*plain)(void);		/* atexit */
	void (*with_arg)(void *);	/* __cxa_atexit */
	void *arg;
} handlers[HANDLERS];
static int registered;

static int add_handler(void (*plain)(void), void (*with_arg)(void *), void *arg)
{
	int i = __atomic_fetch_add(&registered, 1, __ATOMIC_ACQ_REL);

	if (i >= HANDLERS) {
		__atomic_fetch_sub(&registered, 1, __ATOMIC_ACQ_REL);
		return -1;
	}
	handlers[i].plain = plain;
	handlers[i].with_arg = with_arg;
	handlers[i].arg = arg;
	return 0;
}

int atexit(void (*fn)(void))
{
	return add_handler(fn, NULL, NULL);
}

int __cxa_atexit(void (*fn)(void *), void *arg, void *dso)
{
	(void)dso;	/* one image: every handler is the driver's */
	return add_handler(NULL, fn, arg);
}

void posix_run_exit_handlers(void)
{
	/* each taken off before it runs: a handler that calls exit() does not run again */
	*nooks_part() = NOOKS_PART_ATEXIT_HANDLER;
	for (int i; (i = __atomic_sub_fetch(&registered, 1, __ATOMIC_ACQ_REL)) >= 0;) {
		if (handlers[i].plain)
			handlers[i].plain();
		else
			handlers[i].with_arg(handlers[i].arg);
	}
	registered = 0;
	*nooks_part() = NOOKS_PART_DESTRUCTOR;
	for (hook_fn *f = __nooks_dtors_end; f > __nooks_dtors_start;) {
		hook_fn dtor = *--f;
		dtor();
	}
}

__attribute__((visibility("default"))) void nooks_posix_stop(void)
{
	*nooks_part() = NOOKS_PART_ENTRY;	/* the kernel names the part that faults (<nooks/thread_area.h>) */
	if (nooks_module_exit)
		nooks_module_exit();
	posix_run_exit_handlers();
	posix_streams_flush();	/* the unload is the driver's exit: glibc's exit writes what the streams hold last */
}
