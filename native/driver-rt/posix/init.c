/* A driver without module_init is library-style (its exported functions are
 * its entry points): it gets this empty one, pulled from the archive only when
 * the driver defines none (-u nooks_module_init, lib/sdk/flags.ts). */
#include "posix.h"

__attribute__((visibility("default"))) int nooks_module_init(void)
{
	return 0;
}
