/*
 * %f %F %e %E %g %G for the driver runtime's formatter (format.c), printing
 * what glibc prints: the exact decimal value of the double, rounded to
 * nearest with ties to even (glibc in the default rounding mode).
 *
 * A finite double is m * 2^e (m < 2^53, -1074 <= e <= 971), so its decimal
 * expansion is finite: at most 309 integer digits when e >= 0, and otherwise
 * at most 16 integer digits and 1074 fraction digits. All of them are made
 * with a small bignum of 32-bit limbs (no floating-point arithmetic, no
 * libc), then rounded as the conversion asks. Runs in the driver's domain,
 * on its stack (about 1.3 KiB).
 */
#include "format.h"

#define LIMBS 34		/* 1088 bits: 2^1024 or a 1074-bit fraction */
#define MAX_DIGITS 1100		/* 16 + 1074 digits (or 309), and a carry */
#define BILLION 1000000000u

/* The exact decimal digits of |v|: digits[0..n), the first `point` of them
 * before the decimal point (no leading zeros: 0.5 is n 1, point 0). */
struct decimal {
	char digits[MAX_DIGITS];
	int n;
	int point;
};

/* Appends the nine digits of a chunk below one billion (leading zeros kept). */
static void append9(struct decimal *d, uint32_t chunk)
{
	for (int i = 8; i >= 0; i--) {
		d->digits[d->n + i] = (char)('0' + chunk % 10);
		chunk /= 10;
	}
	d->n += 9;
}

/* The digits of an integer m << shift (shift <= 971): divided by a billion
 * again and again, nine digits per round, least significant chunk first. */
static void integer_digits(struct decimal *d, uint64_t m, int shift)
{
	uint32_t big[LIMBS] = { 0 };
	uint32_t chunks[36];	/* 2^1024 has 309 digits: 35 chunks */
	int top = 0, nchunks = 0;
	unsigned __int128 w = (unsigned __int128)m << (shift % 32);

	for (int i = 0; i < 3; i++)
		big[shift / 32 + i] = (uint32_t)(w >> (32 * i));
	for (int i = 0; i < LIMBS; i++)
		if (big[i])
			top = i + 1;
	while (top) {
		uint64_t rem = 0;

		for (int i = top - 1; i >= 0; i--) {
			uint64_t cur = rem << 32 | big[i];

			big[i] = (uint32_t)(cur / BILLION);
			rem = cur % BILLION;
		}
		chunks[nchunks++] = (uint32_t)rem;
		while (top && !big[top - 1])
			top--;
	}
	if (!nchunks)
		return;
	/* the most significant chunk without its leading zeros */
	for (uint32_t c = chunks[nchunks - 1]; c; c /= 10)
		d->n++;
	for (int i = d->n - 1, c = (int)chunks[nchunks - 1]; i >= 0; i--, c /= 10)
		d->digits[i] = (char)('0' + c % 10);
	while (--nchunks)
		append9(d, chunks[nchunks - 1]);
}

/* The digits of the fraction r / 2^k (r < 2^k, k <= 1074, r < 2^64): the
 * fraction is scaled to fill whole limbs, then each multiplication by a
 * billion carries its next nine digits out of the top limb. */
static void fraction_digits(struct decimal *d, uint64_t r, int k)
{
	uint32_t big[LIMBS] = { 0 };
	int limbs = (k + 31) / 32, low = 0;
	unsigned __int128 w = (unsigned __int128)r << (32 * limbs - k);

	for (int i = 0; i < 3 && i < limbs; i++)
		big[i] = (uint32_t)(w >> (32 * i));
	while (low < limbs) {
		uint64_t carry = 0;

		for (int i = low; i < limbs; i++) {
			uint64_t cur = (uint64_t)big[i] * BILLION + carry;

			big[i] = (uint32_t)cur;
			carry = cur >> 32;
		}
		append9(d, (uint32_t)carry);
		while (low < limbs && !big[low])
			low++;	/* the low limbs empty first: skip them */
	}
	while (d->n > d->point && d->digits[d->n - 1] == '0')
		d->n--;
}

static void decompose(struct decimal *d, double v)
{
	union { double v; uint64_t bits; } u = { v };
	int biased = (int)(u.bits >> 52 & 0x7ff);
	uint64_t m = u.bits & ((1ull << 52) - 1);
	int e = biased ? biased - 1075 : -1074;

	if (biased)
		m |= 1ull << 52;
	d->n = 0;
	if (e >= 0) {
		integer_digits(d, m, e);
		d->point = d->n;
		return;
	}
	integer_digits(d, -e < 64 ? m >> -e : 0, 0);
	d->point = d->n;
	if (-e < 64)
		m &= (1ull << -e) - 1;
	if (m)
		fraction_digits(d, m, -e);
}

/* Digit i of the expansion: the digits past the end are zeros. */
static char digit(const struct decimal *d, int i)
{
	return i < d->n ? d->digits[i] : '0';
}

/* Keeps the digits before index `keep` (>= 0), rounding to nearest, ties to
 * even; a carry out of the first digit adds one in front (9.96 -> 10.0). */
static void round_at(struct decimal *d, int keep)
{
	bool up;

	if (keep >= d->n)
		return;
	up = d->digits[keep] > '5';
	if (d->digits[keep] == '5') {
		up = keep > 0 && (d->digits[keep - 1] - '0') % 2;
		for (int i = keep + 1; i < d->n && !up; i++)
			up = d->digits[i] != '0';
	}
	d->n = keep;
	for (int i = keep - 1; up && i >= 0; i--) {
		up = d->digits[i] == '9';
		d->digits[i] = up ? '0' : (char)(d->digits[i] + 1);
	}
	if (up) {
		for (int i = d->n; i > 0; i--)
			d->digits[i] = d->digits[i - 1];
		d->digits[0] = '1';
		d->n++;
		d->point++;
	}
}

/* The index of the first non-zero digit (d->n if none: the value is 0). */
static int first_significant(const struct decimal *d)
{
	int i = 0;

	while (i < d->n && d->digits[i] == '0')
		i++;
	return i;
}

/* What is printed after the sign: digits [from, from + whole) before the
 * point (a single 0 when whole is 0), `frac` digits after it, an exponent. */
struct shape {
	int from, whole;
	long long frac;	/* past INT_MAX for %#g at a precision near it */
	bool point;
	char exp_letter;	/* 0: no exponent */
	int exp;
};

static int exp_length(int exp)
{
	int n = 2;	/* e and its sign */
	int a = exp < 0 ? -exp : exp;

	n += a >= 100 ? 3 : 2;	/* at least two digits */
	return n;
}

static long long shape_length(const struct shape *s)
{
	return (s->whole ? s->whole : 1) + s->point + s->frac + (s->exp_letter ? exp_length(s->exp) : 0);
}

/* How many digits the expansion holds after the shape's point (the rest are zeros). */
static int fraction_held(const struct decimal *d, const struct shape *s)
{
	int held = d->n - s->from - s->whole;

	return held < 0 ? 0 : held;
}

static void put_shape(struct out *o, const struct decimal *d, const struct shape *s)
{
	/* zeros past the digits held are padding: a precision near INT_MAX is not looped over */
	long long held = s->frac < fraction_held(d, s) ? s->frac : fraction_held(d, s);

	if (!s->whole)
		format_put(o, '0');
	for (int i = 0; i < s->whole; i++)
		format_put(o, digit(d, s->from + i));
	if (s->point)
		format_put(o, '.');
	for (int i = 0; i < held; i++)
		format_put(o, digit(d, s->from + s->whole + i));
	format_pad(o, '0', s->frac - held);
	if (s->exp_letter) {
		int a = s->exp < 0 ? -s->exp : s->exp;

		format_put(o, s->exp_letter);
		format_put(o, s->exp < 0 ? '-' : '+');
		if (a >= 100)
			format_put(o, (char)('0' + a / 100));
		format_put(o, (char)('0' + a / 10 % 10));
		format_put(o, (char)('0' + a % 10));
	}
}

/* A precision as a count of digits to keep: one past every digit held rounds nothing. */
static int within_digits(long long prec)
{
	return prec < MAX_DIGITS ? (int)prec : MAX_DIGITS;
}

/* %f: `prec` digits after the point. */
static struct shape fixed(struct decimal *d, long long prec, bool alt)
{
	round_at(d, d->point + within_digits(prec));
	return (struct shape){ 0, d->point, prec, prec > 0 || alt, 0, 0 };
}

/* %e: one digit before the point, `prec` after, and the exponent. */
static struct shape scientific(struct decimal *d, int prec, bool alt, char letter)
{
	int first = first_significant(d);

	if (first == d->n)	/* zero */
		return (struct shape){ d->n, 0, prec, prec > 0 || alt, letter, 0 };
	round_at(d, first + 1 + within_digits(prec));
	first = first_significant(d);	/* 9.9 may have become 10 */
	return (struct shape){ first, 1, prec, prec > 0 || alt, letter, d->point - first - 1 };
}

/* %g: %e's exponent X at precision P decides: %f when P > X >= -4, else %e;
 * then, without '#', no trailing zeros (and no point without digits). */
static struct shape general(struct decimal *d, int prec, bool alt, char letter)
{
	int p = prec == 0 ? 1 : prec;
	struct shape s = scientific(d, p - 1, alt, letter);

	if (p > s.exp && s.exp >= -4)
		s = fixed(d, (long long)p - 1 - s.exp, alt);
	if (!alt) {
		if (s.frac > fraction_held(d, &s))	/* zeros all */
			s.frac = fraction_held(d, &s);
		while (s.frac && digit(d, s.from + s.whole + (int)s.frac - 1) == '0')
			s.frac--;
		s.point = s.frac > 0;
	}
	return s;
}

void format_double(struct out *o, const struct spec *sp, double v, char conv)
{
	union { double v; uint64_t bits; } u = { v };
	bool upper = conv == 'F' || conv == 'E' || conv == 'G';
	char sign = u.bits >> 63 ? '-' : sp->sign;
	int prec = sp->prec < 0 ? 6 : sp->prec;
	struct decimal d;
	struct shape s;
	long long fill;

	if ((u.bits >> 52 & 0x7ff) == 0x7ff) {	/* inf and nan: no zero padding */
		const char *word = u.bits << 12 ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf");

		fill = sp->width - 3 - (sign != 0);
		if (!format_room(o, sp, 3 + (sign != 0)))
			return;
		if (!sp->left)
			format_pad(o, ' ', fill);
		if (sign)
			format_put(o, sign);
		while (*word)
			format_put(o, *word++);
		if (sp->left)
			format_pad(o, ' ', fill);
		return;
	}
	decompose(&d, v);
	if (conv == 'f' || conv == 'F')
		s = fixed(&d, prec, sp->alt);
	else if (conv == 'e' || conv == 'E')
		s = scientific(&d, prec, sp->alt, upper ? 'E' : 'e');
	else
		s = general(&d, prec, sp->alt, upper ? 'E' : 'e');
	fill = sp->width - shape_length(&s) - (sign != 0);
	if (!format_room(o, sp, shape_length(&s) + (sign != 0)))
		return;
	if (!sp->left && !sp->zero)
		format_pad(o, ' ', fill);
	if (sign)
		format_put(o, sign);
	if (!sp->left && sp->zero)
		format_pad(o, '0', fill);
	put_shape(o, &d, &s);
	if (sp->left)
		format_pad(o, ' ', fill);
}
