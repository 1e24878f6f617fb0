/* The scanf family's scanner, over a source of bytes (a string here, a FILE
 * in stream.c): C's rules for %d %i %u %o %x %X %p %s %c %[set] %n %% and
 * %f %e %g %a (by strtod.c), the hh h l ll j z t L q modifiers, widths and
 * '*'. One byte of look-ahead, as in glibc: a field read as far as it can
 * continue ("1e+x" reads "1e+") is converted as far as it is a number (1). */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>

#include "posix.h"

/* Longest integer field kept (more digits than any 64-bit value has). */
#define FIELD_MAX 72
/* Longest floating-point field read (strtod keeps 800 digits). */
#define FLOAT_FIELD_MAX 1023

enum size { SIZE_CHAR, SIZE_SHORT, SIZE_INT, SIZE_LONG, SIZE_LLONG };

struct scan {
	struct scan_source *src;
	int count;	/* bytes consumed (%n) */
};

static int get(struct scan *s)
{
	int c = s->src->get(s->src->ctx);

	if (c != EOF)
		s->count++;
	return c;
}

static void unget(struct scan *s, int c)
{
	if (c == EOF)
		return;
	s->src->unget(c, s->src->ctx);
	s->count--;
}

/* Skips blanks; the first other byte is left unread. Whether input remains. */
static int skip_space(struct scan *s)
{
	int c;

	while ((c = get(s)) != EOF && isspace(c))
		;
	unget(s, c);
	return c != EOF;
}

/* An integer field of at most `width` bytes into `field` (NUL-terminated):
 * a sign, a 0x prefix where the base allows, digits. The base found (0 means
 * decided by the prefix, as strtol does); 0 when no digit was read. */
static int integer_field(struct scan *s, int base, size_t width, char *field)
{
	size_t n = 0;
	int c = get(s), digits = 0;

	if (n < width && (c == '+' || c == '-')) {
		field[n++] = (char)c;
		c = get(s);
	}
	if (n < width && c == '0' && (base == 0 || base == 16)) {
		field[n++] = (char)c;
		digits = 1;
		c = get(s);
		if (n < width && (c | 32) == 'x') {
			field[n++] = (char)c;
			base = 16;
			digits = 0;
			c = get(s);
		} else if (base == 0) {
			base = 8;
		}
	}
	if (base == 0)
		base = 10;
	while (n < width && n < FIELD_MAX && posix_digit(c) < base) {
		field[n++] = (char)c;
		digits = 1;
		c = get(s);
	}
	unget(s, c);
	field[n] = 0;
	return digits ? base : 0;
}

static void store_int(void *to, enum size size, unsigned long long v)
{
	switch (size) {
	case SIZE_CHAR: *(char *)to = (char)v; break;
	case SIZE_SHORT: *(short *)to = (short)v; break;
	case SIZE_INT: *(int *)to = (int)v; break;
	case SIZE_LONG: *(long *)to = (long)v; break;
	case SIZE_LLONG: *(long long *)to = (long long)v; break;
	}
}

/* Bytes that may continue `field` (of n bytes) as a floating-point number:
 * strtod then says whether the whole field is one. */
static int continues_float(const char *field, size_t n, int c)
{
	size_t at = n && (field[0] == '+' || field[0] == '-');
	int hex = n >= at + 2 && field[at] == '0' && (field[at + 1] | 32) == 'x';
	const char *word = n > at && (field[at] | 32) == 'i' ? "infinity" : n > at && (field[at] | 32) == 'n' ? "nan" : NULL;
	int exponent = 0, point = 0;
	char last = n ? field[n - 1] : 0;

	if (word)
		return n - at < strlen(word) && (c | 32) == word[n - at];
	if (n == at)
		return c == '+' || c == '-' ? n == 0 : (c >= '0' && c <= '9') || c == '.' || (c | 32) == 'i' || (c | 32) == 'n';
	if (n == at + 1 && field[at] == '0' && (c | 32) == 'x')
		return 1;
	for (size_t i = at; i < n; i++) {
		exponent |= (field[i] | 32) == (hex ? 'p' : 'e');
		point |= field[i] == '.';
	}
	if (exponent)
		return (c >= '0' && c <= '9') || ((c == '+' || c == '-') && (last | 32) == (hex ? 'p' : 'e'));
	if (c == '.')
		return !point;
	if ((c | 32) == (hex ? 'p' : 'e'))
		return 1;
	return (c >= '0' && c <= '9') || (hex && (c | 32) >= 'a' && (c | 32) <= 'f');
}

/* A floating-point field of at most `width` bytes into `field`; its length. */
static size_t float_field(struct scan *s, size_t width, char *field)
{
	size_t n = 0;
	int c;

	while (n < width && (c = get(s)) != EOF) {
		if (!continues_float(field, n, c)) {
			unget(s, c);
			break;
		}
		field[n++] = (char)c;
	}
	field[n] = 0;
	return n;
}

/* The set of a %[ conversion: `in[c]` for each byte; the format after it. */
static const char *scan_set(const char *f, unsigned char in[256])
{
	int negate = *f == '^';

	if (negate)
		f++;
	memset(in, 0, 256);
	if (*f == ']')
		in[(unsigned char)*f++] = 1;
	for (; *f && *f != ']'; f++) {
		if (f[1] == '-' && f[2] && f[2] != ']' && (unsigned char)f[2] >= (unsigned char)f[0]) {
			for (int c = (unsigned char)f[0]; c <= (unsigned char)f[2]; c++)
				in[c] = 1;
			f += 2;
		} else {
			in[(unsigned char)*f] = 1;
		}
	}
	if (negate)
		for (int c = 0; c < 256; c++)
			in[c] = !in[c];
	return *f ? f + 1 : f;
}

/* Bytes while `in` holds them, at most width, into `to` (unless NULL);
 * how many were read. */
static size_t take_while(struct scan *s, const unsigned char in[256], size_t width, char *to)
{
	size_t n = 0;
	int c = 0;

	while (n < width && (c = get(s)) != EOF && in[(unsigned char)c]) {
		if (to)
			to[n] = (char)c;
		n++;
	}
	if (n < width)
		unget(s, c);
	return n;
}

/* Input ended (or failed): glibc's answer is EOF while nothing was assigned. */
static int input_failure(int assigned)
{
	return assigned ? assigned : EOF;
}

int posix_vscan(struct scan_source *src, const char *f, va_list ap)
{
	struct scan s = { src, 0 };
	int assigned = 0;

	for (; *f; f++) {
		enum size size = SIZE_INT;
		size_t width = 0;
		int suppress = 0, c, base = 10, is_signed = 1;
		void *to;

		if (isspace((unsigned char)*f)) {
			skip_space(&s);
			continue;
		}
		if (*f != '%' || f[1] == '%') {
			if (*f == '%') {
				f++;
				skip_space(&s);
			}
			c = get(&s);
			if (c == (unsigned char)*f)
				continue;
			unget(&s, c);
			return c == EOF ? input_failure(assigned) : assigned;
		}
		f++;
		if (*f == '*') {
			suppress = 1;
			f++;
		}
		while (*f >= '0' && *f <= '9')
			width = width * 10 + (size_t)(*f++ - '0');
		for (;; f++) {
			if (*f == 'h')
				size = size == SIZE_SHORT ? SIZE_CHAR : SIZE_SHORT;
			else if (*f == 'l')
				size = size == SIZE_LONG ? SIZE_LLONG : SIZE_LONG;
			else if (*f == 'j' || *f == 'z' || *f == 't')
				size = SIZE_LONG;
			else if (*f == 'L' || *f == 'q')
				size = SIZE_LLONG;
			else
				break;
		}
		if (size >= SIZE_LONG && (*f == 'c' || *f == 's' || *f == '['))
			return assigned;	/* wide characters (%lc %ls): not in the C locale's personality */
		to = suppress || *f == 'n' ? NULL : va_arg(ap, void *);
		switch (*f) {
		case 'n':
			if (!suppress)
				store_int(va_arg(ap, void *), size, (unsigned long long)s.count);
			continue;
		case 'c': {
			unsigned char any[256];

			memset(any, 1, sizeof(any));
			if (!width)
				width = 1;
			if (take_while(&s, any, width, to) != width)
				return input_failure(assigned);
			break;
		}
		case 's': case '[': {
			unsigned char in[256];
			size_t n;

			if (*f == '[') {
				f = scan_set(f + 1, in) - 1;
			} else {
				for (int b = 0; b < 256; b++)
					in[b] = !isspace(b);
				if (!skip_space(&s))
					return input_failure(assigned);
			}
			n = take_while(&s, in, width ? width : (size_t)-1, to);
			if (!n) {
				c = get(&s);
				unget(&s, c);
				return c == EOF ? input_failure(assigned) : assigned;
			}
			if (to)
				((char *)to)[n] = 0;
			break;
		}
		case 'p':
			size = SIZE_LONG;
			/* fall through */
		case 'x': case 'X': case 'o': case 'u': case 'i': case 'd': {
			char field[FIELD_MAX + 1];
			unsigned long long v;

			base = *f == 'i' ? 0 : *f == 'o' ? 8 : *f == 'd' || *f == 'u' ? 10 : 16;
			is_signed = *f == 'd' || *f == 'i';
			if (!skip_space(&s))
				return input_failure(assigned);
			base = integer_field(&s, base, width ? width : FIELD_MAX, field);
			if (!base)
				return assigned;
			v = is_signed ? (unsigned long long)strtoll(field, NULL, base) : strtoull(field, NULL, base);
			if (to)
				store_int(to, size, v);
			break;
		}
		case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': case 'a': case 'A': {
			char field[FLOAT_FIELD_MAX + 1], *end;
			size_t n;

			if (!skip_space(&s))
				return input_failure(assigned);
			n = float_field(&s, width && width < FLOAT_FIELD_MAX ? width : FLOAT_FIELD_MAX, field);
			/* glibc converts the longest number the field starts with ("1e+" is 1) */
			if (size == SIZE_INT) {
				float v = strtof(field, &end);

				if (end == field)
					return n ? assigned : input_failure(assigned);
				if (to)
					*(float *)to = v;
			} else {
				double v = strtod(field, &end);

				if (end == field)
					return n ? assigned : input_failure(assigned);
				if (to && size == SIZE_LONG)
					*(double *)to = v;
				else if (to)
					*(long double *)to = v;	/* at double precision */
			}
			break;
		}
		default:
			return assigned;	/* not a conversion: glibc stops there too */
		}
		if (!suppress)
			assigned++;
	}
	return assigned;
}

/* A string as a scanner's source. */
struct string_source {
	const unsigned char *p;
};

static int string_get(void *ctx)
{
	struct string_source *s = ctx;

	return *s->p ? *s->p++ : EOF;
}

static void string_unget(int c, void *ctx)
{
	(void)c;
	((struct string_source *)ctx)->p--;
}

int vsscanf(const char *str, const char *fmt, va_list ap)
{
	struct string_source text = { (const unsigned char *)str };
	struct scan_source src = { string_get, string_unget, &text };

	return posix_vscan(&src, fmt, ap);
}
/* <stdio.h> names it __isoc99_vsscanf (glibc 2.38's, for C23 or _GNU_SOURCE,
 * __isoc23_vsscanf: the same here, %b and 0b aside); code built for C89 calls vsscanf */
int plain_vsscanf(const char *str, const char *fmt, va_list ap) __asm__("vsscanf") __THROW __attribute__((alias("__isoc99_vsscanf")));
int isoc23_vsscanf(const char *str, const char *fmt, va_list ap) __asm__("__isoc23_vsscanf") __THROW __attribute__((alias("__isoc99_vsscanf")));

int sscanf(const char *str, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsscanf(str, fmt, ap);
	va_end(ap);
	return n;
}
/* <stdio.h> names it __isoc99_sscanf; code built for C89 calls sscanf */
int plain_sscanf(const char *str, const char *fmt, ...) __asm__("sscanf") __THROW __attribute__((alias("__isoc99_sscanf")));
int isoc23_sscanf(const char *str, const char *fmt, ...) __asm__("__isoc23_sscanf") __THROW __attribute__((alias("__isoc99_sscanf")));
