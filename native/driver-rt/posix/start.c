/* A personality driver's entry and exit, as the loader calls them when the
 * driver has them (native/loader/loader.cc): its constructors, which
 * ctors.ld keeps from the dynamic loader, run here, inside the domain, before
 * its module_init (the personality's empty one for a library-style driver),
 * at load and again at each restart (its data is as loaded then); its
 * destructors after its module_exit, at unload, in reverse order, as glibc
 * runs them. A constructor that faults fails the load like module_init. */
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
	for (hook_fn *f = __nooks_ctors_start; f < __nooks_ctors_end; f++)
		(*f)();
	return nooks_module_init();
}

__attribute__((visibility("default"))) void nooks_posix_stop(void)
{
	if (nooks_module_exit)
		nooks_module_exit();
	for (hook_fn *f = __nooks_dtors_end; f > __nooks_dtors_start;)
		(*--f)();
}
