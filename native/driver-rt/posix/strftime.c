/* strftime, pure, as glibc 2.36's in the C locale: its conversions, the E
 * and O modifiers (which change nothing there), the flags _ - 0 ^ # and a
 * field width. %Z is tm_zone (gmtime's "GMT", localtime's "UTC": calendar.c),
 * %s the time tm names in UTC, %z from tm_gmtoff. */
#define _GNU_SOURCE
#include <limits.h>
#include <time.h>

#include "posix.h"

static const char *const day_names[7] = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" };
static const char *const month_names[12] = { "January", "February", "March", "April", "May", "June", "July",
					      "August", "September", "October", "November", "December" };

/* The text being written: what fits of it, and its length so far (past `size` when it does not fit). */
struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, char c)
{
	if (o->len < o->size)
		o->buf[o->len] = c;
	o->len++;
}

/* How a conversion is written: its flag (0, '_', '-', '0'), width, '^' and '#'. */
struct field {
	char pad;
	int width;
	bool upper, hash;
};

/* Pads the field's width less n, with zeros under '0', else spaces, as glibc. */
static void put_padding(struct out *o, const struct field *f, int n)
{
	for (int i = n; i < f->width && o->len <= o->size; i++)	/* no more once it cannot fit */
		put(o, f->pad == '0' ? '0' : ' ');
}

/* n characters of a text conversion, padded to the width. What '#' does to
 * its case: `hash_case` 'U' upper, 'L' lower (even under '^': glibc looks at
 * its lower case first), 0 nothing; 'P' is lower always (%P). */
static void put_chars(struct out *o, const struct field *f, const char *s, size_t n, char hash_case)
{
	bool lower = hash_case == 'P' || (f->hash && hash_case == 'L');
	bool upper = !lower && (f->upper || (f->hash && hash_case == 'U'));

	put_padding(o, f, n < INT_MAX ? (int)n : INT_MAX);
	for (size_t i = 0; i < n; i++)
		put(o, lower && s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : upper && s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
}

static void put_text(struct out *o, const struct field *f, const char *s, char hash_case)
{
	put_chars(o, f, s, strlen(s), hash_case);
}

/* A number of at least `digits` digits (or the width, but for %s), as
 * glibc's DO_NUMBER: padded to them with zeros after its sign, or spaces
 * before it under '_' (or when `space_pad` but under '0'), nothing under
 * '-'; then to what is left of the width as a text is. */
static void put_number(struct out *o, const struct field *f, int digits, bool space_pad, long long value)
{
	char text[24], *p = text + sizeof(text);
	unsigned long long u = value < 0 ? 0ULL - (unsigned long long)value : (unsigned long long)value;
	struct field rest = *f;
	int len;

	if (space_pad && f->pad != '0' && f->pad != '-')
		rest.pad = '_';
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (value < 0)
		*--p = '-';
	len = (int)(text + sizeof(text) - p);
	if (rest.pad != '-' && digits > len) {
		int padding = digits - len;

		if (rest.pad == '_') {
			rest.width = rest.width > padding ? rest.width - padding : 0;
			rest.pad = ' ';
		} else {
			if (value < 0) {	/* zeros after the sign */
				put(o, *p++);
				len--;
			}
			rest.width = 0;
			rest.pad = '0';
		}
		for (int i = 0; i < padding && o->len <= o->size; i++)
			put(o, rest.pad);
	}
	put_padding(o, &rest, len);
	while (p < text + sizeof(text))
		put(o, *p++);
}

/* A number of at least `digits` digits or the field's width. */
static void put_field_number(struct out *o, const struct field *f, int digits, bool space_pad, long long value)
{
	put_number(o, f, digits > f->width ? digits : f->width, space_pad, value);
}

static void format(struct out *o, const char *fmt, const struct tm *tm);

/* A conversion that is a format of others (%c, %D ...): the width pads the whole. */
static void put_composite(struct out *o, const struct field *f, const char *fmt, const struct tm *tm)
{
	char text[128];
	struct out inner = { text, sizeof(text), 0 };

	format(&inner, fmt, tm);
	text[inner.len < sizeof(text) ? inner.len : sizeof(text) - 1] = '\0';
	put_text(o, f, text, 0);	/* '#' changes no case there, as glibc */
}

/* The ISO 8601 week's days since its Monday, for a day of the year (glibc's
 * iso_week_days; in long long, as all that adds to a field here: a field
 * near an int's limits does not overflow). */
static long long iso_week_days(long long yday, int wday)
{
	long long big_enough_multiple_of_7 = (366 / 7 + 2) * 7;

	return yday - (yday - wday + 4 + big_enough_multiple_of_7) % 7 + 4 - 1;
}

static bool leap(long long year)
{
	return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

/* %G %g %V: the ISO 8601 year and week tm is in. */
static void put_iso(struct out *o, const struct field *f, char conv, long long year, const struct tm *tm)
{
	long long days = iso_week_days(tm->tm_yday, tm->tm_wday);

	if (days < 0) {	/* the previous year's last week */
		year--;
		days = iso_week_days(tm->tm_yday + 365LL + leap(year), tm->tm_wday);
	} else {
		long long d = iso_week_days(tm->tm_yday - 365LL - leap(year), tm->tm_wday);

		if (d >= 0) {	/* the next year's first week */
			year++;
			days = d;
		}
	}
	year = (int)(unsigned int)year;	/* glibc's int, wrapped */
	if (conv == 'g')
		put_field_number(o, f, 2, false, (year % 100 + 100) % 100);
	else if (conv == 'G')
		put_field_number(o, f, 1, false, year);
	else
		put_field_number(o, f, 2, false, days / 7 + 1);
}

/* One conversion, `conv`; false for one glibc does not know (the caller copies it as written). */
static bool convert(struct out *o, const struct field *f, char conv, const struct tm *tm)
{
	int year = (int)((unsigned int)tm->tm_year + 1900u);	/* glibc's int: wraps past INT_MAX */
	int hour12 = tm->tm_hour > 12 ? tm->tm_hour - 12 : tm->tm_hour == 0 ? 12 : tm->tm_hour;
	bool valid_day = tm->tm_wday >= 0 && tm->tm_wday < 7, valid_month = tm->tm_mon >= 0 && tm->tm_mon < 12;
	char short_name[4] = "";

	switch (conv) {
	case 'a':
	case 'A':
		if (valid_day && conv == 'a')
			memcpy(short_name, day_names[tm->tm_wday], 3);
		put_text(o, f, !valid_day ? "?" : conv == 'a' ? short_name : day_names[tm->tm_wday], 'U');
		return true;
	case 'b':
	case 'h':
	case 'B':
		if (valid_month && conv != 'B')
			memcpy(short_name, month_names[tm->tm_mon], 3);
		put_text(o, f, !valid_month ? "?" : conv == 'B' ? month_names[tm->tm_mon] : short_name, 'U');
		return true;
	case 'c':
		put_composite(o, f, "%a %b %e %H:%M:%S %Y", tm);
		return true;
	case 'C':
		put_field_number(o, f, 1, false, year / 100 - (year % 100 < 0));
		return true;
	case 'd':
		put_field_number(o, f, 2, false, tm->tm_mday);
		return true;
	case 'D':
	case 'x':
		put_composite(o, f, "%m/%d/%y", tm);
		return true;
	case 'e':
		put_field_number(o, f, 2, true, tm->tm_mday);
		return true;
	case 'F':
		put_composite(o, f, "%Y-%m-%d", tm);
		return true;
	case 'g':
	case 'G':
	case 'V':
		put_iso(o, f, conv, year, tm);
		return true;
	case 'H':
		put_field_number(o, f, 2, false, tm->tm_hour);
		return true;
	case 'I':
		put_field_number(o, f, 2, false, hour12);
		return true;
	case 'j':
		put_field_number(o, f, 3, false, tm->tm_yday + 1LL);
		return true;
	case 'k':
		put_field_number(o, f, 2, true, tm->tm_hour);
		return true;
	case 'l':
		put_field_number(o, f, 2, true, hour12);
		return true;
	case 'm':
		put_field_number(o, f, 2, false, tm->tm_mon + 1LL);
		return true;
	case 'M':
		put_field_number(o, f, 2, false, tm->tm_min);
		return true;
	case 'n':
		put_text(o, f, "\n", 0);
		return true;
	case 't':
		put_text(o, f, "\t", 0);
		return true;
	case 'p':
		put_text(o, f, tm->tm_hour > 11 ? "PM" : "AM", 'L');
		return true;
	case 'P':
		put_text(o, f, tm->tm_hour > 11 ? "PM" : "AM", 'P');
		return true;
	case 'r':
		put_composite(o, f, "%I:%M:%S %p", tm);
		return true;
	case 'R':
		put_composite(o, f, "%H:%M", tm);
		return true;
	case 's': {
		struct tm copy = *tm;

		put_number(o, f, 1, false, mktime(&copy));	/* as glibc: padded only to the width, as a text */
		return true;
	}
	case 'S':
		put_field_number(o, f, 2, false, tm->tm_sec);
		return true;
	case 'T':
	case 'X':
		put_composite(o, f, "%H:%M:%S", tm);
		return true;
	case 'u':
		put_field_number(o, f, 1, false, (tm->tm_wday - 1LL + 7) % 7 + 1);
		return true;
	case 'U':
		put_field_number(o, f, 2, false, (tm->tm_yday - (long long)tm->tm_wday + 7) / 7);
		return true;
	case 'w':
		put_field_number(o, f, 1, false, tm->tm_wday);
		return true;
	case 'W':
		put_field_number(o, f, 2, false, (tm->tm_yday - (tm->tm_wday - 1LL + 7) % 7 + 7) / 7);
		return true;
	case 'y':
		put_field_number(o, f, 2, false, (tm->tm_year % 100 + 100) % 100);
		return true;
	case 'Y':
		put_field_number(o, f, 1, false, year);
		return true;
	case 'z': {
		long long offset = (int)tm->tm_gmtoff;	/* glibc's int of it */
		long long minutes = (offset < 0 ? -offset : offset) / 60;

		if (tm->tm_isdst < 0)
			return true;	/* unknown: nothing, as glibc */
		put_text(o, f, offset < 0 ? "-" : "+", 0);	/* padded to the width, and the number again, as glibc */
		put_field_number(o, f, 4, false, minutes / 60 * 100 + minutes % 60);
		return true;
	}
	case 'Z':	/* else glibc's tzname[tm_isdst], both "UTC" under TZ=UTC; "?" past them, nothing when unknown */
		put_text(o, f, tm->tm_zone && *tm->tm_zone ? tm->tm_zone : tm->tm_isdst < 0 ? "" : tm->tm_isdst > 1 ? "?" : "UTC", 'L');
		return true;
	case '%':
		put_text(o, f, "%", 0);
		return true;
	default:
		return false;
	}
}

static void format(struct out *o, const char *fmt, const struct tm *tm)
{
	for (const char *p = fmt; *p; p++) {
		const char *start = p;
		struct field f = { 0, 0, false, false };
		const char *modifiers = "";

		if (*p != '%') {
			put(o, *p);
			continue;
		}
		for (;; p++) {
			char c = p[1];

			if (c == '_' || c == '-' || c == '0')
				f.pad = c;
			else if (c == '^')
				f.upper = true;
			else if (c == '#')
				f.hash = true;
			else
				break;
		}
		while (p[1] >= '0' && p[1] <= '9') {
			f.width = f.width > (INT_MAX - 9) / 10 ? INT_MAX : f.width * 10 + (p[1] - '0');
			p++;
		}
		if (p[1] == 'E' || p[1] == 'O')	/* nothing in the C locale, but glibc's refuse some */
			modifiers = *++p == 'E' ? "%CPRTXYZcnprstuxyz" : "%BCGHIMPRSTUVWZbdeghjklmnprstuwyz";
		if (p[1] == '\0' || (*modifiers && !strchr(modifiers, p[1])) || !convert(o, &f, p[1], tm)) {
			/* copied as written, as glibc: a text padded to the width, upper case under
			 * '^', or under '#' for %Eb and %Eh (glibc sets their case before it refuses E) */
			char conv = p[1];

			p += conv != '\0';
			put_chars(o, &f, start, (size_t)(p + 1 - start), conv == 'b' || conv == 'h' ? 'U' : 0);
			continue;
		}
		p++;
	}
}

size_t strftime(char *restrict buf, size_t size, const char *restrict fmt, const struct tm *restrict tm)
{
	struct out o = { buf, size, 0 };

	format(&o, fmt, tm);
	if (o.len >= size)
		return 0;
	buf[o.len] = '\0';
	return o.len;
}
