/* Preloaded into a test's child process (test/load-renamed.test.ts): renames
 * $SWAP_FROM over $SWAP_TO just before the dlopen that maps $SWAP_TO (not a
 * RTLD_NOLOAD look-up), after the loader has read and checked the file: a
 * build writing its output in the window between the two. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *dlopen(const char *path, int flags)
{
	void *(*real)(const char *, int) = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
	const char *to = getenv("SWAP_TO"), *from = getenv("SWAP_FROM");

	if (path && to && from && !strcmp(path, to) && !(flags & RTLD_NOLOAD) && rename(from, to) != 0)
		perror("swap-at-dlopen: rename");
	return real(path, flags);
}
