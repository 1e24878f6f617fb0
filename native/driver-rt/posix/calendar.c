/* Broken-down time, pure: gmtime, localtime, mktime, timegm, asctime,
 * ctime, as glibc 2.36 answers them under TZ=UTC. A driver has no view of
 * the host's /etc/localtime, and its log's timestamps are compared across
 * hosts: its local time is UTC (no daylight saving time, tm_zone "UTC";
 * gmtime's "GMT", as glibc's), whatever the host's zone or the load's env. */
#define _GNU_SOURCE
#include <limits.h>
#include <time.h>

#include "posix.h"

#define SECS_PER_DAY 86400LL

/* Days from 1970-01-01 to year-month-day of the proleptic Gregorian calendar (month 1 to 12). */
static long long days_from_civil(long long year, int month, int day)
{
	long long y = year - (month <= 2), era = (y >= 0 ? y : y - 399) / 400;
	long long year_of_era = y - era * 400;
	long long day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;

	return era * 146097 + year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year - 719468;
}

/* t in UTC, with `zone` its name; NULL and EOVERFLOW when the year is past an int's range, as glibc. */
static struct tm *broken_down(const time_t *t, struct tm *tm, const char *zone)
{
	long long days = *t / SECS_PER_DAY, secs = *t % SECS_PER_DAY;

	if (secs < 0) {
		secs += SECS_PER_DAY;
		days--;
	}
	/* the civil date of `days` (Howard Hinnant's algorithm, days since 0000-03-01 in 400-year eras) */
	long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	long long day_of_era = z - era * 146097;
	long long year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
	long long day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
	long long month_index = (5 * day_of_year + 2) / 153;
	int month = (int)(month_index < 10 ? month_index + 3 : month_index - 9);
	long long year = year_of_era + era * 400 + (month <= 2);

	if (year - 1900 < INT_MIN || year - 1900 > INT_MAX) {
		errno = EOVERFLOW;
		return NULL;
	}
	tm->tm_year = (int)(year - 1900);
	tm->tm_mon = month - 1;
	tm->tm_mday = (int)(day_of_year - (153 * month_index + 2) / 5 + 1);
	tm->tm_hour = (int)(secs / 3600);
	tm->tm_min = (int)(secs / 60 % 60);
	tm->tm_sec = (int)(secs % 60);
	tm->tm_wday = (int)(((days + 4) % 7 + 7) % 7);	/* 1970-01-01 was a Thursday */
	tm->tm_yday = (int)(days - days_from_civil(year, 1, 1));
	tm->tm_isdst = 0;
	tm->tm_gmtoff = 0;
	tm->tm_zone = zone;
	return tm;
}

/* The one struct tm of gmtime, localtime (and asctime's text), as C has them: not thread-safe. */
static struct tm shared_tm;

struct tm *gmtime_r(const time_t *restrict t, struct tm *restrict tm)
{
	return broken_down(t, tm, "GMT");
}

struct tm *gmtime(const time_t *t)
{
	return gmtime_r(t, &shared_tm);
}

struct tm *localtime_r(const time_t *restrict t, struct tm *restrict tm)
{
	return broken_down(t, tm, "UTC");
}

struct tm *localtime(const time_t *t)
{
	return localtime_r(t, &shared_tm);
}

/* The time tm names, its fields normalized (out of range ones carried, tm_wday and tm_yday ignored). */
static time_t seconds_of(const struct tm *tm)
{
	long long month = tm->tm_mon % 12, year = tm->tm_year + 1900LL + tm->tm_mon / 12;

	if (month < 0) {
		month += 12;
		year--;
	}
	return (days_from_civil(year, (int)month + 1, 1) + tm->tm_mday - 1) * SECS_PER_DAY
	       + tm->tm_hour * 3600LL + tm->tm_min * 60LL + tm->tm_sec;
}

/* timegm and mktime: tm normalized (tm_isdst 0), or -1 and EOVERFLOW when
 * the year is past an int's range, tm then unchanged; `shift` seconds added.
 * As glibc, which first finds the time with tm_sec clamped to 0 to 59 (for
 * leap seconds), then shifts it: EOVERFLOW also where either of those is
 * past an int's years, though tm_sec brings the answer back. */
static time_t normalize(struct tm *tm, const char *zone, int shift)
{
	struct tm clamped = *tm, out;
	time_t first, shifted, t = seconds_of(tm) + shift;

	clamped.tm_sec = tm->tm_sec < 0 ? 0 : tm->tm_sec > 59 ? 59 : tm->tm_sec;
	first = seconds_of(&clamped);
	shifted = first + shift;
	if (!broken_down(&first, &out, zone) || !broken_down(&shifted, &out, zone) || !broken_down(&t, &out, zone))
		return -1;
	*tm = out;
	return t;
}

/* tm_isdst is 0 after, even when it fails, as glibc's */
time_t timegm(struct tm *tm)
{
	tm->tm_isdst = 0;
	return normalize(tm, "GMT", 0);
}

/* A tm_isdst above 0 asks for daylight saving time, which UTC has none of:
 * glibc then answers the time an hour earlier. */
time_t mktime(struct tm *tm)
{
	return normalize(tm, "UTC", tm->tm_isdst > 0 ? -3600 : 0);
}

/* Does nothing: the zone is UTC, with no TZ to read. */
void tzset(void)
{
}

static const char week_days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* "Wed Jun 30 21:49:08 1993\n" in buf, of n bytes: NULL and EOVERFLOW when
 * the text would not fit, as glibc; "???" for a day or month out of range. */
static char *text_of(const struct tm *tm, char *buf, size_t n)
{
	const char *day = tm->tm_wday >= 0 && tm->tm_wday < 7 ? week_days[tm->tm_wday] : "???";
	const char *month = tm->tm_mon >= 0 && tm->tm_mon < 12 ? months[tm->tm_mon] : "???";

	if (tm->tm_year > INT_MAX - 1900 || (size_t)snprintf(buf, n, "%.3s %.3s%3d %.2d:%.2d:%.2d %d\n", day, month,
							      tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec, tm->tm_year + 1900) >= n) {
		errno = EOVERFLOW;
		return NULL;
	}
	return buf;
}

/* C's 26 bytes */
char *asctime_r(const struct tm *restrict tm, char *restrict buf)
{
	return text_of(tm, buf, 26);
}

/* glibc's room for any int in each field */
static char shared_text[3 + 1 + 3 + 1 + 20 + 1 + 20 + 1 + 20 + 1 + 20 + 1 + 20 + 1 + 1];

char *asctime(const struct tm *tm)
{
	return text_of(tm, shared_text, sizeof(shared_text));
}

char *ctime_r(const time_t *restrict t, char *restrict buf)
{
	struct tm tm;

	return localtime_r(t, &tm) ? asctime_r(&tm, buf) : NULL;
}

char *ctime(const time_t *t)
{
	struct tm *tm = localtime(t);

	return tm ? asctime(tm) : NULL;
}

/* The difference exactly, rounded to a double once (two time_t's differ by up to 2^64: an int128's). */
double difftime(time_t end, time_t start)
{
	return (double)((__int128)end - start);
}
