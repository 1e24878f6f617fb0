/* What -D_FORTIFY_SOURCE makes the compiler emit instead of the plain calls:
 * the same functions, given the destination's size; an overflow ends the
 * driver as glibc ends a program (abort, with glibc's message). */
#define _GNU_SOURCE	/* vasprintf */
#include "posix.h"
#include "../format.h"

void __chk_fail(void)
{
	posix_abort("*** buffer overflow detected ***: terminated");
}

void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dstlen);
void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dstlen)
{
	if (n > dstlen)
		__chk_fail();
	return memcpy(dst, src, n);
}

void *__memmove_chk(void *dst, const void *src, size_t n, size_t dstlen);
void *__memmove_chk(void *dst, const void *src, size_t n, size_t dstlen)
{
	if (n > dstlen)
		__chk_fail();
	return memmove(dst, src, n);
}

void *__memset_chk(void *dst, int c, size_t n, size_t dstlen);
void *__memset_chk(void *dst, int c, size_t n, size_t dstlen)
{
	if (n > dstlen)
		__chk_fail();
	return memset(dst, c, n);
}

void __explicit_bzero_chk(void *dst, size_t n, size_t dstlen);
void __explicit_bzero_chk(void *dst, size_t n, size_t dstlen)
{
	if (n > dstlen)
		__chk_fail();
	explicit_bzero(dst, n);
}

char *__strcpy_chk(char *dst, const char *src, size_t dstlen);
char *__strcpy_chk(char *dst, const char *src, size_t dstlen)
{
	if (strlen(src) >= dstlen)
		__chk_fail();
	return strcpy(dst, src);
}

char *__stpcpy_chk(char *dst, const char *src, size_t dstlen);
char *__stpcpy_chk(char *dst, const char *src, size_t dstlen)
{
	if (strlen(src) >= dstlen)
		__chk_fail();
	return stpcpy(dst, src);
}

char *__strncpy_chk(char *dst, const char *src, size_t n, size_t dstlen);
char *__strncpy_chk(char *dst, const char *src, size_t n, size_t dstlen)
{
	if (n > dstlen)
		__chk_fail();
	return strncpy(dst, src, n);
}

char *__strcat_chk(char *dst, const char *src, size_t dstlen);
char *__strcat_chk(char *dst, const char *src, size_t dstlen)
{
	if (strlen(dst) + strlen(src) >= dstlen)
		__chk_fail();
	return strcat(dst, src);
}

char *__strncat_chk(char *dst, const char *src, size_t n, size_t dstlen);
char *__strncat_chk(char *dst, const char *src, size_t n, size_t dstlen)
{
	if (strlen(dst) + strnlen(src, n) >= dstlen)
		__chk_fail();
	return strncat(dst, src, n);
}

/* `flag` asks glibc for extra format checks (%n in writable formats): the
 * driver runtime's formatter has no %n, so there is nothing to refuse. */
int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap);
int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap)
{
	return vfprintf(f, fmt, ap);
}

int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap);
int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
	return vdprintf(fd, fmt, ap);
}

int __dprintf_chk(int fd, int flag, const char *fmt, ...);
int __dprintf_chk(int fd, int flag, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vdprintf(fd, fmt, ap);
	va_end(ap);
	return n;
}

int __vasprintf_chk(char **out, int flag, const char *fmt, va_list ap);
int __vasprintf_chk(char **out, int flag, const char *fmt, va_list ap)
{
	return vasprintf(out, fmt, ap);
}

int __asprintf_chk(char **out, int flag, const char *fmt, ...);
int __asprintf_chk(char **out, int flag, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	return n;
}

int __vprintf_chk(int flag, const char *fmt, va_list ap);
int __vprintf_chk(int flag, const char *fmt, va_list ap)
{
	return vfprintf(stdout, fmt, ap);
}

int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}

int __printf_chk(int flag, const char *fmt, ...);
int __printf_chk(int flag, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfprintf(stdout, fmt, ap);
	va_end(ap);
	return n;
}

int __vsnprintf_chk(char *buf, size_t size, int flag, size_t buflen, const char *fmt, va_list ap);
int __vsnprintf_chk(char *buf, size_t size, int flag, size_t buflen, const char *fmt, va_list ap)
{
	if (size > buflen)
		__chk_fail();
	return vsnprintf(buf, size, fmt, ap);
}

int __snprintf_chk(char *buf, size_t size, int flag, size_t buflen, const char *fmt, ...);
int __snprintf_chk(char *buf, size_t size, int flag, size_t buflen, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = __vsnprintf_chk(buf, size, flag, buflen, fmt, ap);
	va_end(ap);
	return n;
}

int __vsprintf_chk(char *buf, int flag, size_t buflen, const char *fmt, va_list ap);
int __vsprintf_chk(char *buf, int flag, size_t buflen, const char *fmt, va_list ap)
{
	size_t produced;
	int n;

	if (!buflen)
		__chk_fail();
	n = format_vsnprintf(buf, buflen, fmt, ap, &produced);
	/* an overflow even where the call then failed (-1, a result past INT_MAX) after the text passed the buffer's
	 * end, as glibc's; one that failed before that returns -1 (EOVERFLOW), as glibc's */
	if (produced >= buflen)
		__chk_fail();
	return n;
}

int __sprintf_chk(char *buf, int flag, size_t buflen, const char *fmt, ...);
int __sprintf_chk(char *buf, int flag, size_t buflen, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = __vsprintf_chk(buf, flag, buflen, fmt, ap);
	va_end(ap);
	return n;
}
