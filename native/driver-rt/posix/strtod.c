/* strtod, strtof, atof: decimal and hexadecimal, inf and nan, correctly
 * rounded (to nearest, ties to even) as glibc rounds. The number is held
 * exactly, as a ratio of big integers (the significand's digits times a power
 * of ten), and one long division gives 64 bits of the quotient and whether a
 * remainder is left: enough to round to any width. Slow beside glibc, but a
 * driver parses its numbers once. Up to 800 significant digits are kept; any
 * beyond only say whether the rest is zero, which is all rounding needs. */
#include <ctype.h>
#include <stdint.h>

#include "posix.h"

#define KEPT_DIGITS 800
#define WORDS 160	/* 5120 bits: 10^1130, shifted by 64, fits */

struct big {
	int n;	/* words in use */
	uint32_t w[WORDS];
};

static void big_set(struct big *b, uint32_t v)
{
	b->n = v ? 1 : 0;
	b->w[0] = v;
}

static void big_mul_add(struct big *b, uint32_t m, uint32_t a)
{
	uint64_t carry = a;

	for (int i = 0; i < b->n; i++) {
		carry += (uint64_t)b->w[i] * m;
		b->w[i] = (uint32_t)carry;
		carry >>= 32;
	}
	if (carry && b->n < WORDS)
		b->w[b->n++] = (uint32_t)carry;
}

static void big_pow10(struct big *b, int e)
{
	for (; e >= 9; e -= 9)
		big_mul_add(b, 1000000000u, 0);
	for (; e > 0; e--)
		big_mul_add(b, 10, 0);
}

static int big_bits(const struct big *b)
{
	return b->n ? 32 * (b->n - 1) + 32 - __builtin_clz(b->w[b->n - 1]) : 0;
}

static void big_shl(struct big *b, int k)
{
	int words = k / 32, bits = k % 32;

	if (!b->n)
		return;
	for (int i = b->n - 1 + words + 1; i >= 0; i--) {
		uint64_t hi = i - words >= 0 && i - words < b->n ? b->w[i - words] : 0;
		uint64_t lo = i - words - 1 >= 0 && i - words - 1 < b->n ? b->w[i - words - 1] : 0;

		if (i < WORDS)
			b->w[i] = (uint32_t)(((hi << 32 | lo) << bits) >> 32);
	}
	b->n += words + 1;
	if (b->n > WORDS)
		b->n = WORDS;
	while (b->n && !b->w[b->n - 1])
		b->n--;
}

static void big_shr1(struct big *b)
{
	for (int i = 0; i < b->n; i++)
		b->w[i] = b->w[i] >> 1 | (i + 1 < b->n ? b->w[i + 1] << 31 : 0);
	while (b->n && !b->w[b->n - 1])
		b->n--;
}

static int big_cmp(const struct big *a, const struct big *b)
{
	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	for (int i = a->n - 1; i >= 0; i--)
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	return 0;
}

static void big_sub(struct big *a, const struct big *b)
{
	int64_t borrow = 0;

	for (int i = 0; i < a->n; i++) {
		int64_t d = (int64_t)a->w[i] - (i < b->n ? b->w[i] : 0) - borrow;

		borrow = d < 0;
		a->w[i] = (uint32_t)d;
	}
	while (a->n && !a->w[a->n - 1])
		a->n--;
}

/* A binary floating-point format: `mant` significand bits (with the hidden
 * one), the least normal exponent, the exponent bias. */
struct format {
	int mant, emin, bias, max_biased;
};
static const struct format binary64 = { 53, -1022, 1023, 2047 };
static const struct format binary32 = { 24, -126, 127, 255 };

/* The bits of num / den * 2^p2 in format `f`, rounded to nearest even;
 * ERANGE when it overflows or underflows. */
static uint64_t round_ratio(struct big *num, struct big *den, int p2, const struct format *f)
{
	int s = 63 - (big_bits(num) - big_bits(den)), e, e2, keep, drop, x2;
	uint64_t q = 0, m, rem, half;
	int sticky, up;

	if (s >= 0)
		big_shl(num, s);
	else
		big_shl(den, -s);
	/* q = num / den, now in [2^62, 2^64) */
	big_shl(den, 63);
	for (int i = 63; i >= 0; i--) {
		if (big_cmp(num, den) >= 0) {
			big_sub(num, den);
			q |= (uint64_t)1 << i;
		}
		big_shr1(den);
	}
	sticky = num->n != 0;
	e = 63 - __builtin_clzll(q);
	e2 = e - s + p2;	/* the value is in [2^e2, 2^(e2+1)) */
	keep = e2 >= f->emin ? f->mant : f->mant - (f->emin - e2);
	drop = e + 1 - keep;
	if (drop > 64) {
		m = 0;
		rem = 1;
		half = 2;	/* below half the least subnormal */
	} else if (drop == 64) {
		m = 0;
		rem = q;
		half = (uint64_t)1 << 63;
	} else {
		m = q >> drop;
		rem = q & (((uint64_t)1 << drop) - 1);
		half = (uint64_t)1 << (drop - 1);
	}
	up = rem > half || (rem == half && (sticky || (m & 1)));
	m += (uint64_t)up;
	x2 = p2 - s + drop;	/* the value is m * 2^x2 */
	if (m >> f->mant) {
		m >>= 1;
		x2++;
	}
	if (m < (uint64_t)1 << (f->mant - 1)) {	/* subnormal or zero */
		if (!m || rem || sticky)
			errno = ERANGE;
		return m;
	}
	if (x2 + f->mant - 1 + f->bias >= f->max_biased) {
		errno = ERANGE;
		return (uint64_t)f->max_biased << (f->mant - 1);
	}
	return ((uint64_t)(x2 + f->mant - 1 + f->bias) << (f->mant - 1)) + (m - ((uint64_t)1 << (f->mant - 1)));
}

/* Whether s starts with `word` (lower case), whatever the case. */
static int starts(const char *s, const char *word)
{
	for (; *word; s++, word++)
		if (tolower(*s) != *word)
			return 0;
	return 1;
}

static int hex_digit(int c)
{
	c = tolower(c);
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

enum kind { NUMBER, INFINITE, TOO_LARGE, TOO_SMALL, NOT_A_NUMBER, NOTHING };

/* Parses a number's text: its kind, and for a number the exact ratio. */
static enum kind parse(const char *s, const char **end, int *negative, struct big *num, struct big *den, int *p2)
{
	const char *p = s;
	int base = 10, digits = 0, kept = 0, sticky = 0, point = 0;
	long exp10 = 0, exp2 = 0;

	while (isspace((unsigned char)*p))
		p++;
	*negative = *p == '-';
	if (*p == '+' || *p == '-')
		p++;
	if (starts(p, "inf")) {
		*end = p + (starts(p, "infinity") ? 8 : 3);
		return INFINITE;
	}
	if (starts(p, "nan")) {
		p += 3;
		if (*p == '(') {
			const char *q = p + 1;

			while (isalnum((unsigned char)*q) || *q == '_')
				q++;
			if (*q == ')')
				p = q + 1;
		}
		*end = p;
		return NOT_A_NUMBER;
	}
	big_set(num, 0);
	big_set(den, 1);
	*p2 = 0;
	if (p[0] == '0' && tolower(p[1]) == 'x' && (hex_digit(p[2]) >= 0 || (p[2] == '.' && hex_digit(p[3]) >= 0))) {
		base = 16;
		p += 2;
	}
	for (;; p++) {
		int d = base == 16 ? hex_digit(*p) : *p >= '0' && *p <= '9' ? *p - '0' : -1;

		if (*p == '.' && !point) {
			point = 1;
			continue;
		}
		if (d < 0)
			break;
		digits++;
		if (kept == 0 && d == 0) {	/* leading zeros: only the point's place */
			exp10 -= point;
			continue;
		}
		if (kept < KEPT_DIGITS) {
			big_mul_add(num, (uint32_t)base, (uint32_t)d);
			kept++;
			exp10 -= point;
		} else {
			sticky |= d;
			exp10 += !point;
		}
	}
	if (!digits) {
		*end = s;
		return NOTHING;
	}
	if (sticky) {	/* a nonzero digit past the kept ones: round as if a 1 were there */
		big_mul_add(num, (uint32_t)base, 1);
		exp10--;
	}
	if (tolower(*p) == (base == 16 ? 'p' : 'e')) {
		const char *q = p + 1;
		int neg = *q == '-';
		long e = 0;

		if (*q == '+' || *q == '-')
			q++;
		if (*q >= '0' && *q <= '9') {
			for (; *q >= '0' && *q <= '9'; q++)
				if (e < 1000000)
					e = e * 10 + (*q - '0');
			p = q;
			if (base == 16)
				exp2 = neg ? -e : e;
			else
				exp10 += neg ? -e : e;
		}
	}
	*end = p;
	if (base == 16) {
		exp2 += exp10 * 4;	/* each hex digit after the point is 4 bits */
		*p2 = (int)(exp2 < -100000 ? -100000 : exp2 > 100000 ? 100000 : exp2);
		return NUMBER;
	}
	if (!num->n)
		return NUMBER;
	if (kept + exp10 > 311)
		return TOO_LARGE;	/* at least 10^310 */
	if (kept + exp10 < -330)
		return TOO_SMALL;	/* below 10^-330: rounds to zero */
	if (exp10 >= 0)
		big_pow10(num, (int)exp10);
	else
		big_pow10(den, (int)-exp10);
	return NUMBER;
}

/* The bits of the number at s in format f (with the sign bit at `sign_bit`). */
static uint64_t convert(const char *s, char **end, const struct format *f, int sign_bit)
{
	struct big num, den;
	const char *stop;
	int negative, p2;
	uint64_t bits, nan_bit = (uint64_t)1 << (f->mant - 2), inf = (uint64_t)f->max_biased << (f->mant - 1);
	enum kind k = parse(s, &stop, &negative, &num, &den, &p2);

	if (end)
		*end = (char *)stop;
	switch (k) {
	case NOTHING:
		return 0;
	case NOT_A_NUMBER:
		bits = inf | nan_bit;
		break;
	case TOO_SMALL:
		errno = ERANGE;
		bits = 0;
		break;
	case TOO_LARGE:
		errno = ERANGE;
		/* fall through */
	case INFINITE:
		bits = inf;
		break;
	default:
		bits = num.n ? round_ratio(&num, &den, p2, f) : 0;
	}
	return (uint64_t)negative << sign_bit | bits;
}

double strtod(const char *s, char **end)
{
	uint64_t bits = convert(s, end, &binary64, 63);
	double d;

	memcpy(&d, &bits, sizeof(d));
	return d;
}

float strtof(const char *s, char **end)
{
	uint32_t bits = (uint32_t)convert(s, end, &binary32, 31);
	float f;

	memcpy(&f, &bits, sizeof(f));
	return f;
}

double atof(const char *s)
{
	return strtod(s, NULL);
}
