/*
 * The driver runtime's formatter, shared by its two parts: format.c (the
 * conversion loop, integers, strings, printk) and format_float.c (%f %e %g).
 * Internal to native/driver-rt/: drivers see vsnprintf & co. (nooks/kapi.h).
 */
#ifndef NOOKS_DRIVER_RT_FORMAT_H
#define NOOKS_DRIVER_RT_FORMAT_H

#include <limits.h>
#include <nooks/kapi.h>

#define RT_HIDDEN __attribute__((visibility("hidden")))

struct out {
	char *buf;
	size_t size;
	size_t len;	/* characters produced so far, stored or not */
	bool overflow;	/* the result, a width or a precision past INT_MAX: the call fails */
};

struct spec {
	bool left;	/* '-' */
	bool zero;	/* '0' */
	bool alt;	/* '#' */
	char sign;	/* '+' or ' ': what a non-negative signed value is shown with; 0: nothing */
	int width;
	int prec;	/* -1: none */
};

RT_HIDDEN void format_put(struct out *o, char c);
/* Whether a field of `length` characters, padded to sp's width, keeps the
 * result within INT_MAX. If not, the call fails (o->overflow) and the field
 * is not written: sprintf's buffer never gets more than glibc writes there. */
RT_HIDDEN bool format_room(struct out *o, const struct spec *sp, long long length);
/* n copies of c (none when n <= 0); those past the buffer only counted. */
RT_HIDDEN void format_pad(struct out *o, char c, long long n);
/* %f %F %e %E %g %G (conv) of v, exactly as glibc prints it. */
RT_HIDDEN void format_double(struct out *o, const struct spec *sp, double v, char conv);

/* vsnprintf, also saying how many characters it produced (stored or not) up
 * to where it stopped: a call that fails (-1) may have produced more than its
 * buffer holds before (the fortified sprintf's overflow, posix/fortify.c). */
RT_HIDDEN int format_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap, size_t *produced);

/* %m's text: strerror_r(errno, buf, size), defined by the POSIX personality
 * (strerror.c); without it (weak, so NULL) %m is a conversion the formatter
 * does not know. buf: the caller's, for a number with no text (no static
 * buffer two threads would share). */
RT_HIDDEN __attribute__((weak)) const char *format_error_text(char *buf, size_t size);
/* A result past INT_MAX characters (vsnprintf returns -1): the POSIX
 * personality sets errno to EOVERFLOW, as glibc (strerror.c); without it
 * (weak, NULL) there is no errno to set. */
RT_HIDDEN __attribute__((weak)) void format_overflowed(void);

#endif
