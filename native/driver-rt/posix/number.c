/* strtol & co. (strtoimax, strtoumax too): C's rules (leading blanks, a sign, 0x/0 prefixes for base 16
 * and 0, ERANGE and the limit on overflow), in the C locale; and their C23
 * versions (glibc 2.38's names for them under C23 or _GNU_SOURCE: __isoc23_*),
 * which also take a 0b prefix for base 2 and 0. */
#include <inttypes.h>
#include <limits.h>

#include "posix.h"

/* The magnitude, saturated at `limit` (ERANGE, and *over set); *negative the sign. */
static unsigned long long parse(const char *s, char **end, int base, bool c23, unsigned long long limit,
				int *negative, int *over)
{
	const char *p = s, *digits;
	unsigned long long v = 0;

	*negative = 0;
	*over = 0;
	if (base < 0 || base == 1 || base > 36) {
		errno = EINVAL;
		if (end)
			*end = (char *)s;
		return 0;
	}
	while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		p++;
	if (*p == '+' || *p == '-')
		*negative = *p++ == '-';
	if ((base == 0 || base == 16) && p[0] == '0' && (p[1] | 32) == 'x' && posix_digit(p[2]) < 16) {
		p += 2;
		base = 16;
	} else if (c23 && (base == 0 || base == 2) && p[0] == '0' && (p[1] | 32) == 'b' && posix_digit(p[2]) < 2) {
		p += 2;
		base = 2;
	} else if (base == 0) {
		base = *p == '0' ? 8 : 10;
	}
	for (digits = p; posix_digit(*p) < base; p++) {
		unsigned int d = (unsigned int)posix_digit(*p);

		if (v > (limit - d) / (unsigned int)base)
			*over = 1;
		else
			v = v * (unsigned int)base + d;
	}
	if (end)
		*end = (char *)(p == digits ? s : p);
	if (*over) {
		errno = ERANGE;
		return limit;
	}
	return v;
}

static long long signed_number(const char *s, char **end, int base, bool c23)
{
	int neg, over;
	unsigned long long v = parse(s, end, base, c23, (unsigned long long)LLONG_MAX + 1, &neg, &over);

	if (!neg && v > LLONG_MAX) {
		errno = ERANGE;
		return LLONG_MAX;
	}
	return neg ? (long long)(0 - v) : (long long)v;
}

static unsigned long long unsigned_number(const char *s, char **end, int base, bool c23)
{
	int neg, over;
	unsigned long long v = parse(s, end, base, c23, ULLONG_MAX, &neg, &over);

	/* C: a negative number is negated as unsigned, but one past the range is the limit */
	return neg && !over ? 0 - v : v;
}

/* name, C17's, and __isoc23_name, C23's (0b), of one of the two above. The
 * latter's prototype is ours: this host's headers (before glibc 2.38) have none. */
#define STRTO(type, name, number)										\
	type name(const char *s, char **end, int base) { return number(s, end, base, false); }			\
	type __isoc23_##name(const char *s, char **end, int base);						\
	type __isoc23_##name(const char *s, char **end, int base) { return number(s, end, base, true); }

STRTO(long long, strtoll, signed_number)
STRTO(unsigned long long, strtoull, unsigned_number)
STRTO(long, strtol, signed_number)
STRTO(unsigned long, strtoul, unsigned_number)
STRTO(intmax_t, strtoimax, signed_number)
STRTO(uintmax_t, strtoumax, unsigned_number)

int atoi(const char *s)
{
	return (int)strtol(s, NULL, 10);
}

long atol(const char *s)
{
	return strtol(s, NULL, 10);
}

long long atoll(const char *s)
{
	return strtoll(s, NULL, 10);
}

int abs(int v)
{
	return v < 0 ? -v : v;
}

long labs(long v)
{
	return v < 0 ? -v : v;
}

long long llabs(long long v)
{
	return v < 0 ? -v : v;
}
