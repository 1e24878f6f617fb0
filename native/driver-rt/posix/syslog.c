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

/* fmt with each %m replaced by `error` (a "%%" kept whole), into `small` or a
 * heap block; NULL when that fails. */
static char *expand_m(char small[POSIX_SMALL_TEXT], const char *fmt, const char *error)
{
	size_t need = 1, elen = strlen(error);
	char *out = small, *o;

	for (const char *p = fmt; *p; p++)
		need += p[0] == '%' && p[1] == 'm' ? elen : 1;
	if (need > POSIX_SMALL_TEXT && !(out = malloc(need)))
		return NULL;
	o = out;
	for (const char *p = fmt; *p; p++) {
		if (p[0] == '%' && p[1] == 'm') {
			memcpy(o, error, elen);
			o += elen;
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			*o++ = *p++;
			*o++ = *p;
		} else {
			*o++ = *p;
		}
	}
	*o = 0;
	return out;
}

void vsyslog(int priority, const char *fmt, va_list ap)
{
	char small_fmt[POSIX_SMALL_TEXT], small_text[POSIX_SMALL_TEXT], prefix[80] = "";
	char *expanded, *text = NULL;
	int saved_errno = errno, n = 0;

	if (!(log_mask & LOG_MASK(LOG_PRI(priority))))
		return;
	expanded = expand_m(small_fmt, fmt, strerror(saved_errno));
	if (expanded)
		text = posix_format(small_text, &n, expanded, ap);
	if (text) {
		if (log_ident && (log_options & LOG_PID))
			snprintf(prefix, sizeof(prefix), "%s[%d]: ", log_ident, getpid());
		else if (log_ident)
			snprintf(prefix, sizeof(prefix), "%s: ", log_ident);
		posix_log(LOG_PRI(priority), prefix, text, n > 0 ? (size_t)n : 0);
	}
	if (text && text != small_text)
		free(text);
	if (expanded && expanded != small_fmt)
		free(expanded);
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
