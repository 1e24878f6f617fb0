/* The POSIX personality's directories (dirent.c) under ASan and UBSan
 * (run-tests.sh), over a directory of the host: the kernel's listing
 * (nooks_posix_getdents, native/posix/listing.cc: a d_type byte and a
 * NUL-terminated name per entry, "." and ".." first, the length it needs
 * whatever the buffer) is stood in for with the host's getdents64 of the
 * same descriptor. A listing past the first buffer, each entry once with its
 * type, rewinddir seeing what changed, the errors, and closedir letting go of
 * the descriptor and (LeakSanitizer) the memory. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "posix.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #c); exit(1); } } while (0)

#define FILES 100	/* names of 30 bytes: a listing over 3 KiB, past dirent.c's first 1 KiB */

/* ---- the kernel's call, stood in for ------------------------------------ */

static int refusal;	/* an errno the next listing fails with; 0: none */
static int too_small;	/* listings that did not fit the buffer given */

struct linux_dirent64 {
	ino64_t d_ino;
	off64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

long nooks_posix_getdents(int fd, char *buf, size_t size)
{
	static char records[64 * 1024], host[16 * 1024];
	size_t len = 0;
	long n;

	if (refusal)
		return -refusal;
	if (lseek(fd, 0, SEEK_SET) < 0)	/* the whole listing each time, as the kernel's */
		return -errno;
	while ((n = syscall(SYS_getdents64, fd, host, sizeof(host))) > 0)
		for (long at = 0; at < n; at += ((struct linux_dirent64 *)(host + at))->d_reclen) {
			struct linux_dirent64 *e = (struct linux_dirent64 *)(host + at);
			size_t name = strlen(e->d_name) + 1;

			CHECK(len + 1 + name <= sizeof(records));
			records[len] = (char)e->d_type;
			memcpy(records + len + 1, e->d_name, name);
			len += 1 + name;
		}
	if (n < 0)
		return -errno;
	if (len > size)
		too_small++;
	else
		memcpy(buf, records, len);
	return (long)len;
}

/* ---- the directory listed ----------------------------------------------- */

static char root[256];	/* made in the directory given, which run-tests.sh removes */

static void path_of(char *path, size_t size, const char *name)
{
	CHECK(snprintf(path, size, "%s/%s", root, name) < (int)size);
}

static void make_file(const char *name)
{
	char path[256];
	int fd;

	path_of(path, sizeof(path), name);
	fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0600);
	CHECK(fd >= 0 && close(fd) == 0);
}

static void file_name(char *name, int i)
{
	snprintf(name, 32, "file-%03d-of-a-directory-listed", i);
}

/* What readdir lists of dir to its end: each of the FILES files, "sub", ".",
 * "..", and "link" as made or "added" once changed, once each and with their types. */
static void lists_all(DIR *dir, int changed)
{
	char seen[FILES] = { 0 };
	int dots = 0, sub = 0, link = 0, added = 0, i;
	struct dirent *e;

	errno = 0;
	while ((e = readdir(dir))) {
		CHECK(e->d_ino != 0);
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			dots += e->d_type == DT_DIR;
		else if (!strcmp(e->d_name, "sub"))
			sub += e->d_type == DT_DIR;
		else if (!strcmp(e->d_name, "link"))
			link += e->d_type == DT_LNK;
		else if (!strcmp(e->d_name, "added"))
			added += e->d_type == DT_REG;
		else {
			CHECK(sscanf(e->d_name, "file-%03d-", &i) == 1 && i >= 0 && i < FILES && e->d_type == DT_REG);
			seen[i]++;
		}
	}
	CHECK(errno == 0);	/* the end: errno unchanged */
	CHECK(dots == 2 && sub == 1 && link == !changed && added == changed);
	for (i = 0; i < FILES; i++)
		CHECK(seen[i] == 1);
}

int main(int argc, char **argv)
{
	char name[32], path[256];
	struct dirent64 *first;
	DIR *dir;
	int fd;

	CHECK(argc == 2 && snprintf(root, sizeof(root), "%s/listed", argv[1]) < (int)sizeof(root));
	CHECK(mkdir(root, 0700) == 0);
	for (int i = 0; i < FILES; i++) {
		file_name(name, i);
		make_file(name);
	}
	path_of(path, sizeof(path), "sub");
	CHECK(mkdir(path, 0700) == 0);
	path_of(path, sizeof(path), "link");
	CHECK(symlink("sub", path) == 0);

	dir = opendir(root);
	CHECK(dir);
	lists_all(dir, 0);
	CHECK(too_small == 1);	/* the first buffer, then one as big as the listing */
	CHECK(readdir(dir) == NULL);	/* still the end */

	/* rewinddir lists again, with what changed meanwhile */
	make_file("added");
	path_of(path, sizeof(path), "link");
	CHECK(unlink(path) == 0);
	rewinddir(dir);
	lists_all(dir, 1);
	rewinddir(dir);
	first = readdir64(dir);	/* the same call as readdir */
	CHECK(first && snprintf(name, sizeof(name), "%s", first->d_name) < (int)sizeof(name));
	rewinddir(dir);
	CHECK(!strcmp(readdir(dir)->d_name, name));

	/* a listing the kernel refuses: NULL and its errno */
	rewinddir(dir);
	refusal = EIO;
	errno = 0;
	CHECK(readdir(dir) == NULL && errno == EIO);
	refusal = 0;

	fd = dirfd(dir);
	CHECK(fd >= 0 && closedir(dir) == 0);
	CHECK(fcntl(fd, F_GETFD) == -1 && errno == EBADF);	/* let go of */

	fd = open(root, O_RDONLY | O_DIRECTORY);
	dir = fdopendir(fd);
	CHECK(dir && dirfd(dir) == fd);
	lists_all(dir, 1);
	CHECK(closedir(dir) == 0);

	errno = 0;
	path_of(path, sizeof(path), "added");
	CHECK(opendir(path) == NULL && errno == ENOTDIR);
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && fdopendir(fd) == NULL && errno == ENOTDIR && close(fd) == 0);
	path_of(path, sizeof(path), "missing");
	CHECK(opendir(path) == NULL && errno == ENOENT);
	printf("test_dirent: %d entries listed ok\n", FILES + 4);
	return 0;
}
