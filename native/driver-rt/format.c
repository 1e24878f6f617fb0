/*
 * vsnprintf/snprintf/printk for drivers (see nooks/kapi.h).
 *
 * Runs inside the driver's domain: no libc, no state, everything on the
 * stack. Conversions: %d %i %u %o %x %X %b %B %p %s %c %%, %m (strerror(errno):
 * only where the POSIX personality gives the text), and the floating-point
 * %f %F %e %E %g %G (format_float.c); length modifiers hh h l ll q L j z t
 * (ll q L on a floating-point conversion: a long double, shown at double
 * precision); flags '-' '0' '#' '+' ' ' and '\'' (the C locale groups no
 * digits), field width and precision (digits, '*' or '*N$'). Arguments by
 * number (%N$) as glibc: every conversion numbered, or none; the numbers'
 * types are found first, then the arguments fetched in order.
 *
 * As glibc, a result longer than INT_MAX characters, or a width or precision
 * past INT_MAX (written, or -INT_MIN from a '*'), fails the call: -1, and
 * errno EOVERFLOW under the POSIX personality. Padding past the buffer is
 * counted, not looped over: snprintf(buf, 8, "%2147483646d", 1) is quick.
 *
 * A conversion it cannot honour (unknown, wide %lc %ls, mixing numbered and unnumbered
 * arguments, a number past FORMAT_ARGS_MAX) ends the conversions: it and the
 * rest of the format are copied out as written, so no argument is ever read
 * as the wrong type or out of step.
 */
#include "format.h"

/* printk formats a line into this much stack; longer lines are cut */
#define PRINTK_LINE 256

/* The highest argument number a %N$ may name (glibc's NL_ARGMAX is 4096):
 * their values are held on the driver's stack. */
#define FORMAT_ARGS_MAX 64

enum arg_type { ARG_NONE, ARG_INT, ARG_LONG, ARG_PTR, ARG_DOUBLE, ARG_LONG_DOUBLE, ARG_UNKNOWN };

/* One argument's value: long double held at double precision. */
union arg {
	long long i;
	unsigned long long u;
	double d;
	const void *p;
};

/* One conversion as written, up to its conversion character. */
struct conv {
	struct spec sp;
	int lng;	/* -2 hh, -1 h, 0 none, 1 l j z t, 2 ll q L */
	bool too_big;	/* a number written in it is past INT_MAX */
	char c;		/* the conversion character; 0 at the format's end */
	/* argument numbers (N$, from 1); 0 for the next one; the width's and
	 * precision's are -1 when they are written as digits or absent */
	int value_arg, width_arg, prec_arg;
};

/* Where the values come from: the va_list in order, or (every conversion
 * numbered) the array they were fetched into. */
struct args {
	va_list ap;
	const union arg *numbered;
};

void format_put(struct out *o, char c)
{
	/* keep the last byte of the buffer for the NUL */
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

bool format_room(struct out *o, const struct spec *sp, long long length)
{
	long long field = length > sp->width ? length : sp->width;

	if ((long long)o->len + field > INT_MAX)
		o->overflow = true;
	return !o->overflow;
}

void format_pad(struct out *o, char c, long long n)
{
	while (n > 0 && o->len + 1 < o->size) {
		o->buf[o->len++] = c;
		n--;
	}
	if (n > 0)
		o->len += (size_t)n;
}

/* The digits at *p (moved past them); INT_MAX and *too_big set past it. */
static int digits(const char **p, bool *too_big)
{
	int n = 0;

	for (; **p >= '0' && **p <= '9'; (*p)++) {
		int d = **p - '0';

		if (n > (INT_MAX - d) / 10)
			*too_big = true;
		n = *too_big ? INT_MAX : n * 10 + d;
	}
	return n;
}

/* "N$" at *p: N (and *p moved past it), else 0 (and *p unmoved). */
static int arg_number(const char **p, bool *too_big)
{
	const char *q = *p;
	bool big = false;
	int n = digits(&q, &big);

	if (q == *p || *q != '$')
		return 0;
	*p = q + 1;
	*too_big |= big;
	return n > 0 ? n : FORMAT_ARGS_MAX + 1;	/* %0$ names nothing: out of range */
}

/* A '*' width or precision at *p: its argument (N, or 0 for the next). */
static bool star(const char **p, int *arg, bool *too_big)
{
	if (**p != '*')
		return false;
	(*p)++;
	*arg = arg_number(p, too_big);
	return true;
}

/* Parse the conversion at fmt (its '%'); returns the character past it. */
static const char *parse(const char *fmt, struct conv *cv)
{
	struct conv c = { { false, false, false, 0, 0, -1 }, 0, false, 0, 0, -1, -1 };

	fmt++;
	c.value_arg = arg_number(&fmt, &c.too_big);
	for (;; fmt++) {
		if (*fmt == '-')
			c.sp.left = true;
		else if (*fmt == '0')
			c.sp.zero = true;
		else if (*fmt == '#')
			c.sp.alt = true;
		else if (*fmt == '+')
			c.sp.sign = '+';
		else if (*fmt == ' ')	/* '+' wins over ' ', in either order */
			c.sp.sign = c.sp.sign == '+' ? '+' : ' ';
		else if (*fmt != '\'')	/* grouping: none in the C locale */
			break;
	}
	if (!star(&fmt, &c.width_arg, &c.too_big))
		c.sp.width = digits(&fmt, &c.too_big);
	if (*fmt == '.') {
		fmt++;
		if (!star(&fmt, &c.prec_arg, &c.too_big))
			c.sp.prec = digits(&fmt, &c.too_big);
	}
	for (;; fmt++) {
		if (*fmt == 'h')
			c.lng--;
		else if (*fmt == 'l')
			c.lng++;
		else if (*fmt == 'j' || *fmt == 'z' || *fmt == 't')
			c.lng = 1;	/* intmax_t, size_t and ptrdiff_t are long here */
		else if (*fmt == 'q' || *fmt == 'L')
			c.lng = 2;
		else
			break;
	}
	c.c = *fmt;
	*cv = c;
	return *fmt ? fmt + 1 : fmt;
}

static enum arg_type value_type(const struct conv *cv)
{
	switch (cv->c) {
	case 'd': case 'i': case 'u': case 'o': case 'x': case 'X': case 'b': case 'B':
		return cv->lng >= 1 ? ARG_LONG : ARG_INT;
	case 'c':	/* %lc %ls: wide characters, not known here */
		return cv->lng >= 1 ? ARG_UNKNOWN : ARG_INT;
	case 's':
		return cv->lng >= 1 ? ARG_UNKNOWN : ARG_PTR;
	case 'p':
		return ARG_PTR;
	case 'f': case 'F': case 'e': case 'E': case 'g': case 'G':
		return cv->lng >= 2 ? ARG_LONG_DOUBLE : ARG_DOUBLE;
	case '%':
		return ARG_NONE;
	case 'm':
		return format_error_text ? ARG_NONE : ARG_UNKNOWN;
	default:
		return ARG_UNKNOWN;
	}
}

/* An argument reference fits the format's way: numbered (1..FORMAT_ARGS_MAX) or not (0). */
static bool fits(int arg, bool numbered)
{
	return numbered ? arg >= 1 && arg <= FORMAT_ARGS_MAX : arg == 0;
}

/* Whether this conversion can be made in a format numbered (or not). */
static bool honoured(const struct conv *cv, bool numbered)
{
	enum arg_type t = value_type(cv);

	return t != ARG_UNKNOWN &&
	       (t == ARG_NONE || fits(cv->value_arg, numbered)) &&
	       (cv->width_arg < 0 || fits(cv->width_arg, numbered)) &&
	       (cv->prec_arg < 0 || fits(cv->prec_arg, numbered));
}

static union arg fetch(va_list *ap, enum arg_type t)
{
	union arg v;

	switch (t) {
	case ARG_LONG:
		v.i = va_arg(*ap, long long);
		break;
	case ARG_PTR:
		v.p = va_arg(*ap, const void *);
		break;
	case ARG_DOUBLE:
		v.d = va_arg(*ap, double);
		break;
	case ARG_LONG_DOUBLE:
		v.d = (double)va_arg(*ap, long double);
		break;
	default:	/* int, and any number the format skips */
		v.i = va_arg(*ap, int);
		break;
	}
	return v;
}

/* The value of argument n (0: the next one) as type t. */
static union arg take(struct args *a, int n, enum arg_type t)
{
	return a->numbered ? a->numbered[n - 1] : fetch(&a->ap, t);
}

/* Emit prefix (sign, 0x) and digits, honouring width, precision and flags
 * (counted in long long: a precision near INT_MAX and a prefix pass it). */
static void emit(struct out *o, const struct spec *sp, const char *prefix,
		 const char *digits, size_t ndigits)
{
	long long nprefix = (long long)strlen(prefix);
	long long zeros = sp->prec > (long long)ndigits ? sp->prec - (long long)ndigits : 0;
	long long fill = sp->width - nprefix - zeros - (long long)ndigits;

	if (!format_room(o, sp, nprefix + zeros + (long long)ndigits))
		return;
	/* C: with a precision, the '0' flag is ignored for integers */
	if (sp->zero && !sp->left && sp->prec < 0) {
		zeros += fill;
		fill = 0;
	}
	if (!sp->left)
		format_pad(o, ' ', fill);
	while (*prefix)
		format_put(o, *prefix++);
	format_pad(o, '0', zeros);
	while (ndigits--)
		format_put(o, *digits++);
	if (sp->left)
		format_pad(o, ' ', fill);
}

static void number(struct out *o, const struct spec *sp, unsigned long long v,
		   bool neg, unsigned int base, bool upper, const char *prefix)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[65];	/* 2^64 needs 64 binary digits */
	int i = (int)sizeof(tmp);
	char pre[3] = "";

	/* C: an explicit zero precision prints no digits for the value 0 */
	while (v || (i == (int)sizeof(tmp) && sp->prec != 0)) {
		tmp[--i] = set[v % base];
		v /= base;
	}
	/* C: '#' on %o makes the first digit a 0 (the precision's, or one more) */
	if (base == 8 && sp->alt && (i == (int)sizeof(tmp) || tmp[i] != '0') &&
	    sp->prec <= (int)sizeof(tmp) - i)
		tmp[--i] = '0';
	if (neg)
		pre[0] = '-';
	else if (base == 10 && sp->sign)
		pre[0] = sp->sign;
	else if (prefix)
		pre[0] = prefix[0], pre[1] = prefix[1];
	emit(o, sp, pre, tmp + i, sizeof(tmp) - (size_t)i);
}

static void text(struct out *o, const struct spec *sp, const char *s)
{
	struct spec st = *sp;

	/* reuse emit for padding; precision caps the length */
	st.zero = false;
	st.prec = -1;
	emit(o, &st, "", s, strnlen(s, sp->prec < 0 ? (size_t)-1 : (size_t)sp->prec));
}

static void signed_number(struct out *o, const struct spec *sp, long long v)
{
	/* negate as unsigned: -LLONG_MIN does not fit a long long */
	number(o, sp, v < 0 ? -(unsigned long long)v : (unsigned long long)v, v < 0, 10, false, NULL);
}

static void convert(struct out *o, const struct conv *cv, struct args *a)
{
	struct spec sp = cv->sp;
	enum arg_type t = value_type(cv);
	union arg v = { 0 };

	if (cv->width_arg >= 0) {
		sp.width = (int)take(a, cv->width_arg, ARG_INT).i;
		if (sp.width == INT_MIN) {	/* left-justified, INT_MAX + 1 wide */
			o->overflow = true;
			return;
		}
		if (sp.width < 0) {
			sp.left = true;
			sp.width = -sp.width;
		}
	}
	if (cv->prec_arg >= 0) {
		sp.prec = (int)take(a, cv->prec_arg, ARG_INT).i;
		if (sp.prec < 0)
			sp.prec = -1;
	}
	if (t != ARG_NONE)
		v = take(a, cv->value_arg, t);
	switch (cv->c) {
	case 'd':
	case 'i':
		signed_number(o, &sp, cv->lng >= 1 ? v.i : cv->lng == 0 ? (int)v.i :
				      cv->lng == -1 ? (short)v.i : (signed char)v.i);
		break;
	case 'u':
	case 'o':
	case 'x':
	case 'X':
	case 'b':
	case 'B': {
		unsigned long long u = cv->lng >= 1 ? v.u : cv->lng == 0 ? (unsigned int)v.u :
				       cv->lng == -1 ? (unsigned short)v.u : (unsigned char)v.u;
		unsigned int base = cv->c == 'u' ? 10 : cv->c == 'o' ? 8 : cv->c == 'x' || cv->c == 'X' ? 16 : 2;
		const char prefix[3] = { '0', cv->c, 0 };	/* 0x 0X 0b 0B */

		sp.sign = 0;	/* '+' and ' ' are for signed conversions */
		number(o, &sp, u, false, base, cv->c == 'X',
		       sp.alt && u && (base == 16 || base == 2) ? prefix : NULL);
		break;
	}
	case 'f':
	case 'F':
	case 'e':
	case 'E':
	case 'g':
	case 'G':
		format_double(o, &sp, v.d, cv->c);
		break;
	case 'p':
		sp.sign = 0;
		number(o, &sp, (uintptr_t)v.p, false, 16, false, "0x");
		break;
	case 's':
		/* glibc: a NULL too short to show whole shows nothing */
		text(o, &sp, v.p ? v.p : sp.prec < 0 || sp.prec >= 6 ? "(null)" : "");
		break;
	case 'm': {
		char unknown[32];	/* a number with no text: this call's own, as glibc's */

		text(o, &sp, format_error_text(unknown, sizeof(unknown)));
		break;
	}
	case 'c': {
		char c = (char)v.i;
		struct spec sc = sp;

		sc.zero = false;
		sc.prec = -1;
		emit(o, &sc, "", &c, 1);
		break;
	}
	default:	/* '%' */
		format_put(o, '%');
		break;
	}
}

/* Whether the call has failed: nothing more is worth formatting. */
static bool failed(const struct out *o)
{
	return o->overflow || o->len > INT_MAX;
}

/* Format fmt from where the values come, up to a conversion it cannot honour. */
static void format_all(struct out *o, const char *fmt, struct args *a)
{
	while (*fmt && !failed(o)) {
		struct conv cv;
		const char *next;

		if (*fmt != '%') {
			format_put(o, *fmt++);
			continue;
		}
		next = parse(fmt, &cv);
		if (cv.too_big) {
			o->overflow = true;
			return;
		}
		if (!honoured(&cv, a->numbered != NULL))
			break;
		convert(o, &cv, a);
		fmt = next;
	}
	while (*fmt && !failed(o))	/* what is left, as written */
		format_put(o, *fmt++);
}

/* The next conversion's '%' at or after p, or NULL. */
static const char *next_conversion(const char *p)
{
	for (; *p; p++)
		if (*p == '%')
			return p;
	return NULL;
}

/* Whether the format's first conversion that reads an argument names it by number. */
static bool numbered_format(const char *fmt)
{
	for (const char *p = fmt; (p = next_conversion(p));) {
		struct conv cv;

		p = parse(p, &cv);
		if (cv.value_arg || cv.width_arg > 0 || cv.prec_arg > 0)
			return true;
		if (value_type(&cv) != ARG_NONE || cv.width_arg == 0 || cv.prec_arg == 0)
			return false;
	}
	return false;
}

static void note(enum arg_type types[FORMAT_ARGS_MAX], int *count, int n, enum arg_type t)
{
	if (n <= 0)
		return;
	types[n - 1] = t;
	if (n > *count)
		*count = n;
}

/* A numbered format: the type of each argument it names (up to a conversion
 * it cannot honour), then each argument fetched in order. Not inlined: the
 * unnumbered formats do without its stack. */
__attribute__((noinline))
static void format_numbered(struct out *o, const char *fmt, va_list *ap)
{
	enum arg_type types[FORMAT_ARGS_MAX];
	union arg values[FORMAT_ARGS_MAX];
	struct args a;
	int count = 0;

	memset(types, 0, sizeof(types));
	for (const char *p = fmt; (p = next_conversion(p));) {
		struct conv cv;

		p = parse(p, &cv);
		if (cv.too_big || !honoured(&cv, true))
			break;
		note(types, &count, cv.width_arg, ARG_INT);
		note(types, &count, cv.prec_arg, ARG_INT);
		if (value_type(&cv) != ARG_NONE)
			note(types, &count, cv.value_arg, value_type(&cv));
	}
	for (int i = 0; i < count; i++)
		values[i] = fetch(ap, types[i]);
	a.numbered = values;
	format_all(o, fmt, &a);
}

RT_HIDDEN int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	size_t produced;

	return format_vsnprintf(buf, size, fmt, ap, &produced);
}

RT_HIDDEN int format_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap, size_t *produced)
{
	struct out o = { buf, size, 0, false };
	struct args a = { .numbered = NULL };

	va_copy(a.ap, ap);
	if (numbered_format(fmt))
		format_numbered(&o, fmt, &a.ap);
	else
		format_all(&o, fmt, &a);
	va_end(a.ap);
	*produced = o.len;
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	if (failed(&o)) {
		if (format_overflowed)
			format_overflowed();
		return -1;
	}
	return (int)o.len;
}

RT_HIDDEN int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/*
 * Format on the stack and hand the line to the kernel log. A KERN_* prefix
 * ("<6>") stays in the text: the kernel parses the level out of it.
 * Returns the number of characters logged.
 */
RT_HIDDEN int printk(const char *fmt, ...)
{
	char line[PRINTK_LINE];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 1)
		n = sizeof(line) - 1;
	if (n > 0)
		nooks_log(line, (size_t)n);
	return n;
}
