/*
 * Unit tests for the personality's pure parts (numbers, ctype, strings,
 * strerror), run on the host under ASan and UBSan by ../run-tests.sh: the
 * personality's definitions take the place of the host libc's in this
 * program, and must answer as glibc does.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			failures++;                                          \
			fprintf(stderr, "test_pure.c:%d: %s\n", __LINE__, #cond); \
		}                                                            \
	} while (0)

static void numbers(void)
{
	char *end;
	const char *s;

	s = "  -0x1f!";
	CHECK(strtol(s, &end, 0) == -31 && end == s + 7);
	s = "0x";
	CHECK(strtol(s, &end, 0) == 0 && end == s + 1);	/* "0", then an x that is no prefix */
	s = "-";
	CHECK(strtol(s, &end, 10) == 0 && end == s);
	CHECK(strtol("077", NULL, 0) == 63 && strtol("077", NULL, 10) == 77);
	errno = 0;
	CHECK(strtol("9223372036854775808", NULL, 10) == LONG_MAX && errno == ERANGE);
	errno = 0;
	CHECK(strtol("-9223372036854775808", NULL, 10) == LONG_MIN && errno == 0);
	errno = 0;
	CHECK(strtol("-9223372036854775809", NULL, 10) == LONG_MIN && errno == ERANGE);
	errno = 0;
	CHECK(strtoul("18446744073709551615", NULL, 10) == ULONG_MAX && errno == 0);
	errno = 0;
	CHECK(strtoul("18446744073709551616", NULL, 10) == ULONG_MAX && errno == ERANGE);
	CHECK(strtoul("-1", NULL, 10) == ULONG_MAX);
	CHECK(strtoull("zz", NULL, 36) == 35 * 36 + 35);
	errno = 0;
	CHECK(strtol("1", NULL, 1) == 0 && errno == EINVAL);
	CHECK(atoi("  +12z") == 12 && atol("-7") == -7 && atoll("123456789012") == 123456789012LL);
}

static void classes(void)
{
	for (int c = -128; c < 256; c++) {
		int known = c >= 0 && c < 128;

		CHECK(!!isalpha(c) == (known && ((c | 32) >= 'a' && (c | 32) <= 'z')));
		CHECK(!!isdigit(c) == (c >= '0' && c <= '9'));
		CHECK(!!isspace(c) == (c == ' ' || (c >= '\t' && c <= '\r')));
		CHECK(!!isprint(c) == (c >= ' ' && c < 127));
		CHECK(!!ispunct(c) == (isprint(c) && !isalnum(c) && c != ' '));
		CHECK(tolower(c) == (c >= 'A' && c <= 'Z' ? c + 32 : c));
		CHECK(toupper(c) == (c >= 'a' && c <= 'z' ? c - 32 : c));
		/* the functions themselves (what -O0 or __NO_CTYPE calls): <ctype.h>'s macros read the tables */
		CHECK(!!(isalpha)(c) == !!isalpha(c) && !!(isdigit)(c) == !!isdigit(c) && !!(isspace)(c) == !!isspace(c));
		CHECK(!!(isprint)(c) == !!isprint(c) && !!(ispunct)(c) == !!ispunct(c) && !!(isalnum)(c) == !!isalnum(c));
		CHECK((tolower)(c) == tolower(c) && (toupper)(c) == toupper(c));
	}
	CHECK(isxdigit('F') && isxdigit('a') && !isxdigit('g') && isblank('\t') && !isblank('\n') && iscntrl(127));
	CHECK(tolower(EOF) == EOF && !isalpha(EOF));
}

static void strings(void)
{
	char buf[16] = "ab";
	char *d;

	CHECK(!strcmp(strcat(buf, "cd"), "abcd") && !strcmp(strncat(buf, "efgh", 2), "abcdef"));
	CHECK(stpcpy(buf, "xyz") == buf + 3 && !strcmp(buf, "xyz"));
	memset(buf, 'q', sizeof(buf));
	CHECK(strncpy(buf, "hi", 5) == buf && !memcmp(buf, "hi\0\0\0q", 6));
	CHECK(strchr("abc", 0) && *strchr("abc", 0) == 0 && strrchr("abcabc", 'b') - "abcabc" == 4);
	CHECK(strstr("abc", "") && !strstr("abc", "abcd") && !strcmp(strstr("aab", "ab"), "ab"));
	CHECK(strspn("aabx", "ab") == 3 && strcspn("abc", "c") == 2 && !strcmp(strpbrk("hello", "lo"), "llo"));
	CHECK(strcasecmp("ABC", "abd") < 0 && strncasecmp("ABCx", "abcy", 3) == 0);
	CHECK(memchr("abc", 'c', 3) && !memchr("abc", 'c', 2));
	d = strndup("abcdef", 3);
	CHECK(d && !strcmp(d, "abc"));
	free(d);
	d = strdup("");
	CHECK(d && !*d);
	free(d);
}

static void messages(void)
{
	char buf[32];

	CHECK(!strcmp(strerror(ENOMEM), "Cannot allocate memory") && !strcmp(strerror(0), "Success"));
	CHECK(!strcmp(strerror(4242), "Unknown error 4242"));
	CHECK(!strcmp(strerror_r(4243, buf, sizeof(buf)), "Unknown error 4243"));
	CHECK(strerror_r(EIO, buf, sizeof(buf)) != buf);
}

int main(void)
{
	numbers();
	classes();
	strings();
	messages();
	if (failures) {
		fprintf(stderr, "posix: %d checks failed\n", failures);
		return 1;
	}
	printf("posix: all checks passed\n");
	return 0;
}
