/* The syslog family as the kernel log: each message one line tagged with the
 * driver (the kernel knows the caller), at the message's level (syslog's
 * LOG_EMERG to LOG_DEBUG are the kernel's levels 0 to 7), logged as stdout's
 * lines are (posix_log). openlog's ident prefixes the message ("ident: ",
 * "ident[pid]: " under LOG_PID); the facility and the other options change
 * nothing (there is no syslog daemon: the log is the kernel's). %m is
 * strerror(errno), as glibc. The settings are static data: a restart
 * forgets them, as it does the driver's own. */
#include <syslog.h>
#include <unistd.h>

#include "posix.h"

static const char *log_ident;
static int log_options;
static int log_mask = 0xff;

void openlog(const char *ident, int option, int facility)
{
	(void)facility;
	log_ident = ident;
	log_options = option;
}

void closelog(void)
{
	log_ident = NULL;
	log_options = 0;
}

/* The old mask; 0 keeps it, as glibc. */
int setlogmask(int mask)
{
	int old = log_mask;

	if (mask)
		log_mask = mask;
	return old;
}

void vsyslog(int priority, const char *fmt, va_list ap)
{
	char small_text[POSIX_SMALL_TEXT], prefix[80] = "";
	char *text;
	int saved_errno = errno, n = 0;

	if (!(log_mask & LOG_MASK(LOG_PRI(priority))))
		return;
	text = posix_format(small_text, &n, fmt, ap);	/* its %m: the formatter's */
	if (text) {
		if (log_ident && (log_options & LOG_PID))
			snprintf(prefix, sizeof(prefix), "%s[%d]: ", log_ident, getpid());
		else if (log_ident)
			snprintf(prefix, sizeof(prefix), "%s: ", log_ident);
		posix_log(LOG_PRI(priority), prefix, text, n > 0 ? (size_t)n : 0);
	}
	if (text && text != small_text)
		free(text);
	errno = saved_errno;
}

void syslog(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(priority, fmt, ap);
	va_end(ap);
}

/* What <syslog.h> calls under _FORTIFY_SOURCE: the format is the driver's own
 * (its %n checks are the compiler's), so the flag changes nothing. */
void __syslog_chk(int priority, int flag, const char *fmt, ...);
void __vsyslog_chk(int priority, int flag, const char *fmt, va_list ap);

void __vsyslog_chk(int priority, int flag, const char *fmt, va_list ap)
{
	(void)flag;
	vsyslog(priority, fmt, ap);
}

void __syslog_chk(int priority, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, fmt);
	vsyslog(priority, fmt, ap);
	va_end(ap);
}
