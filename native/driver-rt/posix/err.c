/* <err.h>'s err, errx, warn, warnx (and their v forms) and <error.h>'s
 * error: a message line on stderr, the kernel log at level err. glibc starts
 * it with the program's name; here the log tags each line with the driver,
 * which stands for it. err, errx, and error with a status then exit(), a
 * contained driver failure as every exit is. */
#include <err.h>
#include <error.h>

#include "posix.h"

#define MESSAGE_MAX 512

/* One line, written at once: "<fmt>: <strerror(errnum)>" (errnum < 0: none). */
static void complain(int errnum, const char *fmt, va_list ap)
{
	char line[MESSAGE_MAX];
	int n = 0;

	if (fmt) {
		n = vsnprintf(line, sizeof(line), fmt, ap);
		n = n < 0 ? 0 : n >= (int)sizeof(line) ? (int)sizeof(line) - 1 : n;
	}
	if (errnum >= 0)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%s", fmt ? ": " : "", strerror(errnum));
	fprintf(stderr, "%.*s\n", n < (int)sizeof(line) ? n : (int)sizeof(line) - 1, line);
}

void vwarn(const char *fmt, va_list ap)
{
	complain(errno, fmt, ap);
}

void vwarnx(const char *fmt, va_list ap)
{
	complain(-1, fmt, ap);
}

void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
}

void verr(int status, const char *fmt, va_list ap)
{
	vwarn(fmt, ap);
	exit(status);
}

void verrx(int status, const char *fmt, va_list ap)
{
	vwarnx(fmt, ap);
	exit(status);
}

void err(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(status, fmt, ap);
}

void errx(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verrx(status, fmt, ap);
}

/* glibc flushes stdout first, so that the message follows what was printed. */
void error(int status, int errnum, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	complain(errnum ? errnum : -1, fmt, ap);
	va_end(ap);
	if (status)
		exit(status);
}
