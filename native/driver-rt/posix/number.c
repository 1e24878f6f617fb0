/* strtol & co. (strtoimax, strtoumax too): C's rules (leading blanks, a sign, 0x/0 prefixes for base 16
 * and 0, ERANGE and the limit on overflow), in the C locale. */
#include <inttypes.h>
#include <limits.h>

#include "posix.h"

/* The magnitude, saturated at `limit` (ERANGE, and *over set); *negative the sign. */
static unsigned long long parse(const char *s, char **end, int base, unsigned long long limit, int *negative,
				int *over)
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

long long strtoll(const char *s, char **end, int base)
{
	int neg, over;
	unsigned long long v = parse(s, end, base, (unsigned long long)LLONG_MAX + 1, &neg, &over);

	if (!neg && v > LLONG_MAX) {
		errno = ERANGE;
		return LLONG_MAX;
	}
	return neg ? (long long)(0 - v) : (long long)v;
}

unsigned long long strtoull(const char *s, char **end, int base)
{
	int neg, over;
	unsigned long long v = parse(s, end, base, ULLONG_MAX, &neg, &over);

	/* C: a negative number is negated as unsigned, but one past the range is the limit */
	return neg && !over ? 0 - v : v;
}

long strtol(const char *s, char **end, int base)
{
	return strtoll(s, end, base);
}

unsigned long strtoul(const char *s, char **end, int base)
{
	return strtoull(s, end, base);
}

intmax_t strtoimax(const char *s, char **end, int base)
{
	return strtoll(s, end, base);
}

uintmax_t strtoumax(const char *s, char **end, int base)
{
	return strtoull(s, end, base);
}

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
