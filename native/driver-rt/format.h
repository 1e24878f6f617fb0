/*
 * The driver runtime's formatter, shared by its two parts: format.c (the
 * conversion loop, integers, strings, printk) and format_float.c (%f %e %g).
 * Internal to native/driver-rt/: drivers see vsnprintf & co. (nooks/kapi.h).
 */
#ifndef NOOKS_DRIVER_RT_FORMAT_H
#define NOOKS_DRIVER_RT_FORMAT_H

#include <nooks/kapi.h>

#define RT_HIDDEN __attribute__((visibility("hidden")))

struct out {
	char *buf;
	size_t size;
	size_t len;	/* characters produced so far, stored or not */
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
RT_HIDDEN void format_pad(struct out *o, char c, int n);
/* %f %F %e %E %g %G (conv) of v, exactly as glibc prints it. */
RT_HIDDEN void format_double(struct out *o, const struct spec *sp, double v, char conv);

/* %m's text: strerror_r(errno, buf, size), defined by the POSIX personality
 * (strerror.c); without it (weak, so NULL) %m is a conversion the formatter
 * does not know. buf: the caller's, for a number with no text (no static
 * buffer two threads would share). */
RT_HIDDEN __attribute__((weak)) const char *format_error_text(char *buf, size_t size);

#endif
