/* basename and dirname: ixy's VFIO code takes the IOMMU group's number as
 * basename(readlink(".../iommu_group")). <libgen.h> makes basename POSIX's
 * __xpg_basename (which may cut trailing slashes in place); <string.h> under
 * _GNU_SOURCE declares GNU's, which never writes ("" after a final slash).
 * Both as glibc answers them (run-tests.sh compares). */
#define _GNU_SOURCE
#include <string.h>

#include "posix.h"

char *__xpg_basename(char *path);
char *dirname(char *path);

char *basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return (char *)(slash ? slash + 1 : path);
}

char *__xpg_basename(char *path)
{
	size_t end;

	if (!path || !*path)
		return (char *)".";
	end = strlen(path);
	while (end > 1 && path[end - 1] == '/')
		end--;
	if (end == 1 && path[0] == '/')
		return (char *)"/";
	path[end] = 0;
	return basename(path);
}

/* glibc keeps a leading "//" whole (POSIX lets it mean something else than "/"). */
char *dirname(char *path)
{
	size_t n = path ? strlen(path) : 0, end = n, run_end;

	if (!n)
		return (char *)".";
	while (end && path[end - 1] == '/')	/* trailing slashes */
		end--;
	if (!end)
		return n == 2 ? path : (char *)"/";
	while (end && path[end - 1] != '/')	/* the last name */
		end--;
	if (!end)
		return (char *)".";
	run_end = end;
	while (end && path[end - 1] == '/')	/* the slashes before it */
		end--;
	if (!end)
		end = run_end == 2 ? 2 : 1;	/* the root */
	path[end] = 0;
	return path;
}
