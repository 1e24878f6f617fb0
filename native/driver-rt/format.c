/*
 * vsnprintf/snprintf/printk for drivers (see nooks/kapi.h).
 *
 * Runs inside the driver's domain: no libc, no state, everything on the
 * stack. Conversions: %d %i %u %x %X %p %s %c %%, and the floating-point
 * %f %F %e %E %g %G (format_float.c); length modifiers hh h l ll z t (and L:
 * a long double, shown at double precision); flags '-' '0' '#' '+' ' ',
 * field width and precision (digits or '*'). Anything else is copied to the
 * output as written.
 */
#include "format.h"

/* printk formats a line into this much stack; longer lines are cut */
#define PRINTK_LINE 256

void format_put(struct out *o, char c)
{
	/* keep the last byte of the buffer for the NUL */
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

void format_pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		format_put(o, c);
}

/* Emit prefix (sign, 0x) and digits, honouring width, precision and flags. */
static void emit(struct out *o, const struct spec *sp, const char *prefix,
		 const char *digits, int ndigits)
{
	int nprefix = (int)strlen(prefix);
	int zeros = sp->prec > ndigits ? sp->prec - ndigits : 0;
	int fill = sp->width - nprefix - zeros - ndigits;

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
	char tmp[24];	/* 2^64 needs 20 decimal digits */
	int i = (int)sizeof(tmp);
	char pre[3] = "";

	/* C: an explicit zero precision prints no digits for the value 0 */
	while (v || (i == (int)sizeof(tmp) && sp->prec != 0)) {
		tmp[--i] = set[v % base];
		v /= base;
	}
	if (neg)
		pre[0] = '-';
	else if (base == 10 && sp->sign)
		pre[0] = sp->sign;
	else if (prefix)
		pre[0] = prefix[0], pre[1] = prefix[1];
	emit(o, sp, pre, tmp + i, (int)sizeof(tmp) - i);
}

RT_HIDDEN int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		struct spec sp = { false, false, false, 0, 0, -1 };
		int lng = 0;	/* -2 hh, -1 h, 0 int, 1 long, 2 long long; 3 L */
		const char *start = fmt;

		if (*fmt != '%') {
			format_put(&o, *fmt);
			continue;
		}
		for (fmt++;; fmt++) {
			if (*fmt == '-')
				sp.left = true;
			else if (*fmt == '0')
				sp.zero = true;
			else if (*fmt == '#')
				sp.alt = true;
			else if (*fmt == '+')
				sp.sign = '+';
			else if (*fmt == ' ' && sp.sign != '+')
				sp.sign = ' ';
			else
				break;
		}
		if (*fmt == '*') {
			sp.width = va_arg(ap, int);
			if (sp.width < 0) {
				sp.left = true;
				sp.width = -sp.width;
			}
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			sp.width = sp.width * 10 + (*fmt++ - '0');
		if (*fmt == '.') {
			sp.prec = 0;
			if (*++fmt == '*') {
				sp.prec = va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				sp.prec = sp.prec * 10 + (*fmt++ - '0');
			if (sp.prec < 0)
				sp.prec = -1;
		}
		for (;; fmt++) {
			if (*fmt == 'h')
				lng--;
			else if (*fmt == 'l')
				lng++;
			else if (*fmt == 'z' || *fmt == 't')
				lng = 1;	/* size_t and ptrdiff_t are long here */
			else if (*fmt == 'L')
				lng = 3;
			else
				break;
		}

		switch (*fmt) {
		case 'd':
		case 'i': {
			long long v = lng >= 2 ? va_arg(ap, long long) :
				      lng == 1 ? va_arg(ap, long) : va_arg(ap, int);
			unsigned long long u = (unsigned long long)v;

			if (lng == -1)
				v = (short)v, u = (unsigned long long)v;
			else if (lng <= -2)
				v = (signed char)v, u = (unsigned long long)v;
			/* negate as unsigned: -LLONG_MIN does not fit a long long */
			number(&o, &sp, v < 0 ? -u : u, v < 0, 10, false, NULL);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			unsigned long long u = lng >= 2 ? va_arg(ap, unsigned long long) :
					       lng == 1 ? va_arg(ap, unsigned long) :
					       va_arg(ap, unsigned int);

			if (lng == -1)
				u = (unsigned short)u;
			else if (lng <= -2)
				u = (unsigned char)u;
			sp.sign = 0;	/* '+' and ' ' are for signed conversions */
			if (*fmt == 'u')
				number(&o, &sp, u, false, 10, false, NULL);
			else
				number(&o, &sp, u, false, 16, *fmt == 'X',
				       sp.alt && u ? (*fmt == 'X' ? "0X" : "0x") : NULL);
			break;
		}
		case 'f':
		case 'F':
		case 'e':
		case 'E':
		case 'g':
		case 'G':
			format_double(&o, &sp, lng == 3 ? (double)va_arg(ap, long double) : va_arg(ap, double), *fmt);
			break;
		case 'p':
			sp.sign = 0;
			number(&o, &sp, (uintptr_t)va_arg(ap, void *), false, 16, false, "0x");
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			struct spec ss = sp;

			if (!s)
				s = "(null)";
			/* reuse emit for padding; precision caps the length */
			ss.zero = false;
			ss.prec = -1;
			emit(&o, &ss, "", s, (int)strnlen(s, sp.prec < 0 ? (size_t)-1 : (size_t)sp.prec));
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);
			struct spec sc = sp;

			sc.zero = false;
			sc.prec = -1;
			emit(&o, &sc, "", &c, 1);
			break;
		}
		case '%':
			format_put(&o, '%');
			break;
		default:
			/* unknown or truncated conversion: show it as written */
			while (start < fmt)
				format_put(&o, *start++);
			if (!*fmt)
				fmt--;	/* let the loop see the terminating NUL */
			else
				format_put(&o, *fmt);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
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
