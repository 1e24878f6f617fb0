/* Files: descriptors over the driver's view of the file system (its devices'
 * sysfs files, hugetlbfs, /proc/self/pagemap: docs/drivers.md), kept by the
 * kernel (native/posix/); each call here is one checked kernel call. The
 * standard descriptors are the streams' (the kernel hands out from 3): 0
 * reads end of file, 1 and 2 write to stdout and stderr, the kernel log. The
 * 64-bit and _FORTIFY_SOURCE names the compiler emits are the same functions. */
/* The plain names are defined here, the 64-bit ones as their aliases: not
 * redirected (node-gyp builds with _FILE_OFFSET_BITS=64). */
#undef _FILE_OFFSET_BITS
#define _GNU_SOURCE
#define _LARGEFILE64_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix.h"

/* The most one read or write moves (the kernel's limit): a short count, as POSIX allows. */
#define IO_MAX ((size_t)1 << 20)

static size_t io_len(size_t n)
{
	return n < IO_MAX ? n : IO_MAX;
}

/* Whether open creates a file: only then is its mode argument there. */
static bool creates(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

static unsigned int mode_of(int flags, va_list ap)
{
	return creates(flags) ? va_arg(ap, unsigned int) : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	unsigned int mode;

	va_start(ap, flags);
	mode = mode_of(flags, ap);
	va_end(ap);
	return (int)posix_result(nooks_posix_open(AT_FDCWD, path, flags, mode));
}
int open64(const char *path, int flags, ...) __attribute__((alias("open")));

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	unsigned int mode;

	va_start(ap, flags);
	mode = mode_of(flags, ap);
	va_end(ap);
	return (int)posix_result(nooks_posix_open(dirfd, path, flags, mode));
}
int openat64(int dirfd, const char *path, int flags, ...) __attribute__((alias("openat")));

/* _FORTIFY_SOURCE's open without a mode: O_CREAT there is a bug, ended as glibc ends it. */
int __openat_2(int dirfd, const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags)
{
	if (creates(flags))
		posix_abort("*** invalid open call: O_CREAT or O_TMPFILE without mode ***: terminated");
	return openat(dirfd, path, flags);
}
int __openat64_2(int dirfd, const char *path, int flags) __attribute__((alias("__openat_2")));

int __open_2(const char *path, int flags);
int __open_2(const char *path, int flags)
{
	return __openat_2(AT_FDCWD, path, flags);
}
int __open64_2(const char *path, int flags) __attribute__((alias("__open_2")));

int close(int fd)
{
	return (int)posix_result(nooks_posix_close(fd));
}

ssize_t read(int fd, void *buf, size_t n)
{
	if (fd == STDIN_FILENO)
		return 0;	/* a driver has no input */
	long r;

	/* a handler of SA_RESTART (signal()'s) restarts a read it cut short, as Linux's */
	while ((r = nooks_posix_read(fd, buf, io_len(n), -1)) == -EINTR && posix_signal_restarts())
		;
	return posix_result(r);
}

ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return read(fd, buf, n);
}

ssize_t pread(int fd, void *buf, size_t n, off_t offset)
{
	if (offset < 0) {
		errno = EINVAL;
		return -1;
	}
	return posix_result(nooks_posix_read(fd, buf, io_len(n), offset));
}
ssize_t pread64(int fd, void *buf, size_t n, off64_t offset) __attribute__((alias("pread")));

ssize_t __pread_chk(int fd, void *buf, size_t n, off_t offset, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t offset, size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return pread(fd, buf, n, offset);
}
ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t offset, size_t buflen) __attribute__((alias("__pread_chk")));

ssize_t write(int fd, const void *buf, size_t n)
{
	if (fd == STDOUT_FILENO || fd == STDERR_FILENO)
		return posix_stream_write(fd == STDOUT_FILENO ? stdout : stderr, buf, n) < 0 ? -1 : (ssize_t)n;
	return posix_result(nooks_posix_write(fd, buf, io_len(n), -1));
}

int posix_write_all(int fd, const char *p, size_t n)
{
	for (size_t done = 0; done < n;) {
		ssize_t w = write(fd, p + done, n - done);

		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return 0;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t offset)
{
	if (offset < 0) {
		errno = EINVAL;
		return -1;
	}
	return posix_result(nooks_posix_write(fd, buf, io_len(n), offset));
}
ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t offset) __attribute__((alias("pwrite")));

off_t lseek(int fd, off_t offset, int whence)
{
	return posix_result(nooks_posix_lseek(fd, offset, whence));
}
off64_t lseek64(int fd, off64_t offset, int whence) __attribute__((alias("lseek")));

/* The kernel's answer (mode, size) as struct stat. */
static int fill_stat(struct stat *st, long r, const unsigned long long v[2])
{
	if (r < 0)
		return (int)posix_result(r);
	memset(st, 0, sizeof(*st));
	st->st_mode = (mode_t)v[0];
	st->st_size = (off_t)v[1];
	st->st_nlink = 1;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((v[1] + 511) / 512);
	return 0;
}

int fstat(int fd, struct stat *st)
{
	unsigned long long v[2];

	return fill_stat(st, nooks_posix_fstat(fd, v), v);
}
/* struct stat64 is struct stat on x86-64. */
int fstat64(int fd, struct stat64 *st) __attribute__((alias("fstat")));

int stat(const char *path, struct stat *st)
{
	unsigned long long v[2];

	return fill_stat(st, nooks_posix_stat(path, v), v);
}
int stat64(const char *path, struct stat64 *st) __attribute__((alias("stat")));

int access(const char *path, int mode)
{
	return (int)posix_result(nooks_posix_access(path, mode));
}

ssize_t readlink(const char *path, char *buf, size_t size)
{
	return posix_result(nooks_posix_readlink(path, buf, size < 4096 ? size : 4096));
}

ssize_t __readlink_chk(const char *path, char *buf, size_t size, size_t buflen);
ssize_t __readlink_chk(const char *path, char *buf, size_t size, size_t buflen)
{
	if (size > buflen)
		__chk_fail();
	return readlink(path, buf, size);
}

int unlink(const char *path)
{
	return (int)posix_result(nooks_posix_unlink(path));
}

int ftruncate(int fd, off_t length)
{
	return (int)posix_result(nooks_posix_ftruncate(fd, length));
}
int ftruncate64(int fd, off64_t length) __attribute__((alias("ftruncate")));

int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	unsigned long arg;

	va_start(ap, request);
	arg = va_arg(ap, unsigned long);
	va_end(ap);
	return (int)posix_result(nooks_posix_ioctl(fd, request, arg));
}

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg = 0;

	if (cmd == F_SETFL || cmd == F_SETFD) {
		va_start(ap, cmd);
		arg = va_arg(ap, int);
		va_end(ap);
	}
	return (int)posix_result(nooks_posix_fcntl(fd, cmd, arg));
}
int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));

int flock(int fd, int operation)
{
	return (int)posix_result(nooks_posix_flock(fd, operation));
}
