/* Directories: opendir, fdopendir, readdir, rewinddir, dirfd, closedir over
 * the view's directories (docs/drivers.md, "The view"). A DIR is a heap block
 * (released at recovery with the heap) holding the directory's descriptor and
 * its listing, fetched by one kernel call at the first readdir (and again
 * after rewinddir, which sees what changed, as Linux's does). */
/* readdir is defined here, readdir64 as its alias: not redirected (node-gyp builds with _FILE_OFFSET_BITS=64). */
#undef _FILE_OFFSET_BITS
#define _GNU_SOURCE
#define _LARGEFILE64_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix.h"

struct __dirstream {
	int fd;
	char *records;		/* the kernel's listing: a d_type byte and a NUL-terminated name each */
	long len;		/* its length; -1: not fetched yet */
	long pos;		/* the next record's */
	long size;		/* what `records` holds */
	struct dirent entry;	/* what readdir returns */
};

DIR *fdopendir(int fd)
{
	struct stat st;
	DIR *dir;

	if (fstat(fd, &st))
		return NULL;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return NULL;
	}
	dir = calloc(1, sizeof(*dir));
	if (!dir)
		return NULL;
	dir->fd = fd;
	dir->len = -1;
	return dir;
}

DIR *opendir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir;

	if (fd < 0)
		return NULL;
	dir = fdopendir(fd);
	if (!dir) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return dir;
}

/* The listing into dir->records, grown to what the kernel says it needs: 0, or -1 and errno. */
static int fetch(DIR *dir)
{
	long n;

	if (!dir->records) {
		dir->records = malloc(1024);	/* most of the view's directories fit */
		if (!dir->records)
			return -1;
		dir->size = 1024;
	}
	while ((n = nooks_posix_getdents(dir->fd, dir->records, (size_t)dir->size)) > dir->size) {
		char *bigger = realloc(dir->records, (size_t)n);

		if (!bigger)
			return -1;
		dir->records = bigger;
		dir->size = n;
	}
	if (n < 0)
		return (int)posix_result(n);
	dir->len = n;
	dir->pos = 0;
	return 0;
}

struct dirent *readdir(DIR *dir)
{
	struct dirent *e = &dir->entry;
	const char *name;
	size_t len, n;

	if (dir->len < 0 && fetch(dir))
		return NULL;
	if (dir->pos >= dir->len)
		return NULL;	/* the end: errno unchanged */
	name = dir->records + dir->pos + 1;
	len = strlen(name);
	n = len < sizeof(e->d_name) ? len : sizeof(e->d_name) - 1;
	e->d_type = (unsigned char)dir->records[dir->pos];
	e->d_ino = (ino_t)dir->pos + 1;	/* never 0: glibc's callers skip entries with no inode */
	memcpy(e->d_name, name, n);
	e->d_name[n] = 0;
	dir->pos += (long)len + 2;	/* the d_type byte and the NUL */
	e->d_off = dir->pos;
	e->d_reclen = sizeof(*e);
	return e;
}
/* struct dirent64 is struct dirent on x86-64. */
struct dirent64 *readdir64(DIR *dir) __attribute__((alias("readdir")));

void rewinddir(DIR *dir)
{
	dir->len = -1;
}

int dirfd(DIR *dir)
{
	return dir->fd;
}

int closedir(DIR *dir)
{
	int fd = dir->fd;

	free(dir->records);
	free(dir);
	return close(fd);
}
