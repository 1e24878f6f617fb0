/* strerror and strerror_r: glibc's messages for the errors a driver meets;
 * and the formatter's errno (format.c): %m's text, EOVERFLOW. */
/* the GNU strerror_r is the one named strerror_r */
#define _GNU_SOURCE
#include "posix.h"
#include "../format.h"

static const char *const messages[] = {
	[0] = "Success",
	[EPERM] = "Operation not permitted",
	[ENOENT] = "No such file or directory",
	[ESRCH] = "No such process",
	[EINTR] = "Interrupted system call",
	[EIO] = "Input/output error",
	[ENXIO] = "No such device or address",
	[E2BIG] = "Argument list too long",
	[ENOEXEC] = "Exec format error",
	[EBADF] = "Bad file descriptor",
	[ECHILD] = "No child processes",
	[EAGAIN] = "Resource temporarily unavailable",
	[ENOMEM] = "Cannot allocate memory",
	[EACCES] = "Permission denied",
	[EFAULT] = "Bad address",
	[ENOTBLK] = "Block device required",
	[EBUSY] = "Device or resource busy",
	[EEXIST] = "File exists",
	[EXDEV] = "Invalid cross-device link",
	[ENODEV] = "No such device",
	[ENOTDIR] = "Not a directory",
	[EISDIR] = "Is a directory",
	[EINVAL] = "Invalid argument",
	[ENFILE] = "Too many open files in system",
	[EMFILE] = "Too many open files",
	[ENOTTY] = "Inappropriate ioctl for device",
	[ETXTBSY] = "Text file busy",
	[EFBIG] = "File too large",
	[ENOSPC] = "No space left on device",
	[ESPIPE] = "Illegal seek",
	[EROFS] = "Read-only file system",
	[EMLINK] = "Too many links",
	[EPIPE] = "Broken pipe",
	[EDOM] = "Numerical argument out of domain",
	[ERANGE] = "Numerical result out of range",
	[EDEADLK] = "Resource deadlock avoided",
	[ENAMETOOLONG] = "File name too long",
	[ENOLCK] = "No locks available",
	[ENOSYS] = "Function not implemented",
	[ENOTEMPTY] = "Directory not empty",
	[ELOOP] = "Too many levels of symbolic links",
	[ENODATA] = "No data available",
	[ETIME] = "Timer expired",
	[EPROTO] = "Protocol error",
	[EOVERFLOW] = "Value too large for defined data type",
	[EILSEQ] = "Invalid or incomplete multibyte or wide character",
	[ENOTSOCK] = "Socket operation on non-socket",
	[EMSGSIZE] = "Message too long",
	[EOPNOTSUPP] = "Operation not supported",
	[EADDRINUSE] = "Address already in use",
	[ENETDOWN] = "Network is down",
	[ENETUNREACH] = "Network is unreachable",
	[ECONNRESET] = "Connection reset by peer",
	[ENOBUFS] = "No buffer space available",
	[ETIMEDOUT] = "Connection timed out",
	[ECONNREFUSED] = "Connection refused",
	[EHOSTUNREACH] = "No route to host",
	[EALREADY] = "Operation already in progress",
	[EINPROGRESS] = "Operation now in progress",
	[ECANCELED] = "Operation canceled",
};

static const char *known(int e)
{
	if (e < 0 || (size_t)e >= sizeof(messages) / sizeof(messages[0]))
		return NULL;
	return messages[e];
}

/* The GNU strerror_r (what _GNU_SOURCE gives): the message, in buf when unknown. */
char *strerror_r(int e, char *buf, size_t size)
{
	const char *m = known(e);

	if (m)
		return (char *)m;
	snprintf(buf, size, "Unknown error %d", e);
	return buf;
}

/* The POSIX strerror_r (glibc's name for it): 0, or ERANGE when cut, EINVAL when unknown. */
int __xpg_strerror_r(int e, char *buf, size_t size);
int __xpg_strerror_r(int e, char *buf, size_t size)
{
	const char *m = known(e);
	int n = m ? snprintf(buf, size, "%s", m) : snprintf(buf, size, "Unknown error %d", e);

	if (!m)
		return EINVAL;
	return (size_t)n >= size ? ERANGE : 0;
}

char *strerror(int e)
{
	/* unknown numbers share this buffer (glibc's is per thread) */
	static char unknown[32];

	return strerror_r(e, unknown, sizeof(unknown));
}

/* %m in the formatter (format.c): glibc's text for errno. */
const char *format_error_text(char *buf, size_t size)
{
	return strerror_r(errno, buf, size);
}

/* A formatted result past INT_MAX (format.c): glibc's errno for it. */
void format_overflowed(void)
{
	errno = EOVERFLOW;
}
