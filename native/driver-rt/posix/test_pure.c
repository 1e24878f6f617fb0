/*
 * Unit tests for the personality's pure parts (numbers, ctype, strings,
 * strerror, scanf, sorting, rand, paths, addresses, signal sets, calendar
 * time and strftime), run on the host under ASan and UBSan by
 * ../run-tests.sh: the personality's definitions take the place of the host
 * libc's in this program, and must answer as glibc does; where glibc's own
 * answer is at hand (dlsym(RTLD_NEXT)), they are compared with it.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

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
	errno = 0;	/* negated when in range, also the whole range... */
	CHECK(strtoull("-18446744073709551615", NULL, 10) == 1 && errno == 0);
	/* ...but past it the limit, as glibc */
	CHECK(strtoull("-18446744073709551616", NULL, 10) == ULLONG_MAX && errno == ERANGE);
	errno = 0;
	CHECK(strtoul("-99999999999999999999", NULL, 10) == ULONG_MAX && errno == ERANGE);
	CHECK(strtoull("zz", NULL, 36) == 35 * 36 + 35);
	errno = 0;
	CHECK(strtol("1", NULL, 1) == 0 && errno == EINVAL);
	CHECK(strtoimax("-0x10", &end, 0) == -16 && strtoumax("777", NULL, 8) == 511);
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

/* Each case scanned by ours and by glibc's into four 64-byte slots: the
 * same count, the same bytes. */
static void scanning(void)
{
	static const char *const cases[][2] = {
		{ "%d", "42" }, { "%d", "  -17x" }, { "%i", "0x1F" }, { "%i", "017" }, { "%i", "-0" }, { "%i", "08" },
		{ "%u", "4294967295" }, { "%u", "-1" }, { "%x", "DEADbeef" }, { "%X", "0X10" }, { "%o", "777" },
		{ "%hhd", "300" }, { "%hd", "70000" }, { "%d", "99999999999" }, { "%ld", "-9223372036854775808" },
		{ "%lld", "123456789012345" }, { "%llx", "ffffffffffffffff" }, { "%zu", "18446744073709551615" },
		{ "%jd", "-5" }, { "%3d", "12345" }, { "%5d", "  123456" }, { "%2x%x", "abcd" }, { "%hhu%hhn", "255" },
		{ "%s", "  hello world" }, { "%5s", "abcdefgh" }, { "%s%n", "abc" }, { "%c", " x" }, { "%3c", "abcdef" },
		{ "%[abc]", "abcabd" }, { "%[^\n]", "line one\nline two" }, { "%[]a]", "]]aab" }, { "%[a-c]", "abcd" },
		{ "%[^-]", "x-y" }, { "%[0-9a-f]:%[0-9].%d", "00:02.0" }, { "%d%n", "12abc" }, { "%d %% %d", "1 % 2" },
		{ "%d%%", "5%" }, { "%*d %d", "1 2" }, { "%*s%s", "x" }, { "%d", "" }, { "%s", "   " }, { "a%d", "b1" },
		{ "%d", "-" }, { "%d", "+" }, { "0x%x", "0x1f" }, { "%d,", "7," }, { "%d:%d:%d", "1:2" },
		{ "%p", "0x7fff1234" }, { "%d %s %x %n", "10 abc ff " }, { "0x%04x", "0x8086\n" },
		{ "%lx %lx %lx", "0x00000000c0000000 0x00000000c0000fff 0x0000000000040200" },
		{ "%d%d", "1 x" }, { "%c%c", "a" }, { "%[a]", "" }, { "%[a]", "b" }, { " %d", "\t\n 3" },
		{ "%d%n%s", "1" }, { "%5[^:]:%s", "abcdefg:h" },
		{ "%f", "1.5" }, { "%lf", "-0.1" }, { "%Lf", "2.5e3" }, { "%e%n", "1e400" }, { "%lg", "4.9e-324x" },
		{ "%3f%d", "1.2345" }, { "%la", "0x1.8p1" }, { "%f", "inf" }, { "%lf", "-INFINITY" }, { "%f", "nan" },
		{ "%f", ".5" }, { "%f", "." }, { "%f", "-" }, { "%lf %lf", "1e5 2E-5" }, { "%f", "1e+" }, { "%f", "1e" },
		{ "%*f %lf", "3.25 7.75" }, { "%lf%n", "1e+x" }, { "%f%n", "infx" }, { "%f", "-x" }, { "%lf", "00012.50000" }, { "%f%n", "12.e" }, { "%f", "" },
	};
	int (*theirs)(const char *, const char *, ...) = (int (*)(const char *, const char *, ...))dlsym(RTLD_NEXT, "__isoc99_sscanf");

	CHECK(theirs != NULL && theirs != sscanf);
	for (size_t i = 0; theirs && i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char ours[4][64], glibc[4][64];
		int n, m;

		memset(ours, 0xa5, sizeof(ours));
		memset(glibc, 0xa5, sizeof(glibc));
		n = sscanf(cases[i][1], cases[i][0], ours[0], ours[1], ours[2], ours[3]);
		m = theirs(cases[i][1], cases[i][0], glibc[0], glibc[1], glibc[2], glibc[3]);
		if (n != m || memcmp(ours, glibc, sizeof(ours)))
			fprintf(stderr, "sscanf(\"%s\", \"%s\"): %d, glibc %d\n", cases[i][1], cases[i][0], n, m);
		CHECK(n == m && !memcmp(ours, glibc, sizeof(ours)));
	}
	{
		char wide[16] = "q";
		int v = 0;

		/* no wide characters: the scan stops there, nothing stored */
		CHECK(sscanf("7 ab", "%d %ls", &v, (wchar_t *)wide) == 1 && v == 7 && wide[0] == 'q');
	}
}

static double (*their_strtod)(const char *, char **);
static float (*their_strtof)(const char *, char **);

/* strtod and strtof on `text`, ours against glibc's: the bits, the end, ERANGE. */
static void same_number(const char *text)
{
	char *end1, *end2;
	double a, b;
	float f, g;
	int e1, e2;

	errno = 0;
	a = strtod(text, &end1);
	e1 = errno;
	errno = 0;
	b = their_strtod(text, &end2);
	e2 = errno;
	if (memcmp(&a, &b, sizeof(a)) || end1 != end2 || (e1 == ERANGE) != (e2 == ERANGE))
		fprintf(stderr, "strtod(\"%.60s\"): %a (%d), glibc %a (%d)\n", text, a, e1, b, e2);
	CHECK(!memcmp(&a, &b, sizeof(a)) && end1 == end2 && (e1 == ERANGE) == (e2 == ERANGE));
	f = strtof(text, &end1);
	g = their_strtof(text, &end2);
	if (memcmp(&f, &g, sizeof(f)) || end1 != end2)
		fprintf(stderr, "strtof(\"%.60s\"): %a, glibc %a\n", text, (double)f, (double)g);
	CHECK(!memcmp(&f, &g, sizeof(f)) && end1 == end2);
}

/* strtod against glibc: chosen cases, random decimals over the whole range,
 * and the exact halfway points between neighbouring doubles (the hard ties,
 * printed exactly from long double) and their neighbours. */
static void decimals(void)
{
	static const char *const cases[] = {
		"0", "-0", "1", "0.1", "  +1.5e3x", "1e23", "8.98846567431158e307", "1.7976931348623157e308",
		"1.7976931348623159e308", "1e309", "-1e400", "2.2250738585072011e-308", "2.2250738585072014e-308",
		"4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324", "1e-400",
		"9007199254740993", "9007199254740992.5", "0x1p-1074", "0x1.fffffffffffff8p1023", "0X1.8P+1", "0x.8",
		"0x", "0xg", "-0x1p-1075", "inf", "-Infinity", "infinit", "nan", "NaN(123abc)", "nan(", ".", "-.",
		"1e", "1e+", "1.e5", ".5e-3", "00000000000000000000001", "0.000000000000000000000000000001e30",
		"123456789012345678901234567890", "1.00000005960464477539062499", "3.4028235677973366e38", "1e-46",
		"7.006492321624085e-46", "1.4012984643248171e-45",
	};
	unsigned int seed = 2026;
	char text[1200];

	their_strtod = (double (*)(const char *, char **))dlsym(RTLD_NEXT, "strtod");
	their_strtof = (float (*)(const char *, char **))dlsym(RTLD_NEXT, "strtof");
	CHECK(their_strtod && their_strtof && their_strtod != strtod);
	if (!their_strtod || !their_strtof)
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		same_number(cases[i]);
	for (int i = 0; i < 20000; i++) {
		int len = 0, digits = 1 + rand_r(&seed) % (i % 50 == 0 ? 900 : 25);

		if (rand_r(&seed) % 2)
			text[len++] = '-';
		for (int d = 0; d < digits; d++) {
			if (d == rand_r(&seed) % (digits + 1))
				text[len++] = '.';
			text[len++] = (char)('0' + rand_r(&seed) % 10);
		}
		snprintf(text + len, sizeof(text) - (size_t)len, "e%d", rand_r(&seed) % 680 - 350);
		same_number(text);
	}
	for (int i = 0; i < 3000; i++) {
		uint64_t bits = ((uint64_t)rand_r(&seed) << 33 ^ (uint64_t)rand_r(&seed) << 11 ^ (uint64_t)rand_r(&seed)) & 0x7fefffffffffffffu;
		double d, next;
		long double mid;
		char *last;

		memcpy(&d, &bits, sizeof(d));
		next = nextafter(d, INFINITY);
		mid = ((long double)d + (long double)next) / 2;
		snprintf(text, sizeof(text), "%.800Le", mid);
		same_number(text);
		last = strchr(text, 'e');
		while (last > text && last[-1] == '0')
			last--;
		if (last > text && last[-1] > '0' && last[-1] <= '9') {
			last[-1]--;	/* just below the tie */
			same_number(text);
		}
	}
}

static int ascending(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static void sorting(void)
{
	int v[257], key;
	unsigned int seed = 7;

	for (int n = 0; n <= 257; n += 32) {
		for (int i = 0; i < n; i++)
			v[i] = rand_r(&seed) % 50;
		qsort(v, (size_t)n, sizeof(v[0]), ascending);
		for (int i = 1; i < n; i++)
			CHECK(v[i - 1] <= v[i]);
		for (key = -1; key <= 50; key++) {
			int *at = bsearch(&key, v, (size_t)n, sizeof(v[0]), ascending);
			int present = 0;

			for (int i = 0; i < n; i++)
				present |= v[i] == key;
			CHECK(at ? *at == key : !present);
		}
	}
	CHECK(abs(INT_MIN + 1) == INT_MAX && labs(-5) == 5 && llabs(-(1LL << 40)) == 1LL << 40);
}

/* rand, srand and rand_r give glibc's sequences. */
static void randomness(void)
{
	int (*their_rand)(void) = (int (*)(void))dlsym(RTLD_NEXT, "rand");
	void (*their_srand)(unsigned int) = (void (*)(unsigned int))dlsym(RTLD_NEXT, "srand");
	int (*their_rand_r)(unsigned int *) = (int (*)(unsigned int *))dlsym(RTLD_NEXT, "rand_r");
	static const unsigned int seeds[] = { 1, 0, 42, 0x80000000u, 0xffffffffu };

	CHECK(their_rand && their_srand && their_rand_r && their_rand != rand);
	if (!their_rand || !their_srand || !their_rand_r)
		return;
	for (int i = 0; i < 100; i++)
		CHECK(rand() == their_rand());	/* unseeded: seed 1 */
	for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		unsigned int a = seeds[s], b = seeds[s];

		srand(seeds[s]);
		their_srand(seeds[s]);
		for (int i = 0; i < 1000; i++)
			CHECK(rand() == their_rand() && rand_r(&a) == their_rand_r(&b) && a == b);
	}
	srandom(7);
	their_srand(7);
	for (int i = 0; i < 100; i++)
		CHECK(random() == their_rand());	/* glibc's rand is random */
}

char *__xpg_basename(char *path);
char *dirname(char *path);

/* basename (GNU's and POSIX's) and dirname, against glibc's, on copies (they may write). */
static void paths(void)
{
	char *(*their_xpg)(char *) = (char *(*)(char *))dlsym(RTLD_NEXT, "__xpg_basename");
	char *(*their_gnu)(const char *) = (char *(*)(const char *))dlsym(RTLD_NEXT, "basename");
	char *(*their_dirname)(char *) = (char *(*)(char *))dlsym(RTLD_NEXT, "dirname");
	static const char *const cases[] = { "", "/", "//", "///", "a", "a/", "a//", "/a", "//a", "/a/b", "/a/b/", "a/b//",
		"../../../../kernel/iommu_groups/12", ".", "..", "/usr//lib", "usr/", "//usr", "/a//b///", "///a", "////", "a/b/c", "//a//b" };
	char mine[64], theirs[64];

	CHECK(their_xpg && their_gnu && their_dirname && their_dirname != dirname);
	if (!their_xpg || !their_gnu || !their_dirname)
		return;
	CHECK(!strcmp(__xpg_basename(NULL), ".") && !strcmp(dirname(NULL), "."));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strcpy(mine, cases[i]);
		strcpy(theirs, cases[i]);
		if (strcmp(__xpg_basename(mine), their_xpg(theirs)))
			fprintf(stderr, "__xpg_basename(\"%s\")\n", cases[i]), failures++;
		CHECK(!strcmp(basename(cases[i]), their_gnu(cases[i])));
		strcpy(mine, cases[i]);
		strcpy(theirs, cases[i]);
		if (strcmp(dirname(mine), their_dirname(theirs)))
			fprintf(stderr, "dirname(\"%s\")\n", cases[i]), failures++;
	}
}

/* inet_aton, inet_addr, inet_pton, inet_ntop, inet_ntoa against glibc's. */
static void addresses(void)
{
	int (*their_aton)(const char *, struct in_addr *) = (int (*)(const char *, struct in_addr *))dlsym(RTLD_NEXT, "inet_aton");
	int (*their_pton)(int, const char *, void *) = (int (*)(int, const char *, void *))dlsym(RTLD_NEXT, "inet_pton");
	const char *(*their_ntop)(int, const void *, char *, socklen_t) =
		(const char *(*)(int, const void *, char *, socklen_t))dlsym(RTLD_NEXT, "inet_ntop");
	static const char *const v4[] = { "10.0.0.1", "255.255.255.255", "256.0.0.1", "1.2.3", "1.2", "1", "0x7f.1", "017.0.0.1",
		"01.2.3.4", "1.2.3.4 junk", "1.2.3.4junk", "1.2.3.4.5", "", ".1.2.3", "1..2.3", "4294967295", "4294967296",
		"1.16777215", "1.16777216", "0x", "1.2.3.4.", " 1.2.3.4", "192.168.000.1", "1.2.3.256" };
	static const char *const v6[] = { "::", "::1", "1::", "fe80::1", "2001:db8::ff00:42:8329", "2001:0db8:0000:0000:0000:ff00:0042:8329",
		"::ffff:10.0.0.1", "::10.0.0.1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1::2::3", ":1::", "1:", ":::", "12345::",
		"::ffff:1.2.3", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "a:b:c:d:e:f:0:0", "0:0:1:0:0:0:1:0", "1:0:0:2:0:0:0:3",
		"0:0:0:0:0:0:0:2", "0:0:0:0:0:ffff:0:2", "::abcd:1.2.3.4", "FE80::ABCD", "1::2:", "::1:2:3:4:5:6:7", "1:2:3:4:5:6:7::" };
	unsigned char mine[16], theirs[16];
	char text[INET6_ADDRSTRLEN], their_text[INET6_ADDRSTRLEN];
	struct in_addr a, b;

	CHECK(their_aton && their_pton && their_ntop && their_pton != inet_pton);
	if (!their_aton || !their_pton || !their_ntop)
		return;
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		int r = inet_aton(v4[i], &a);

		if (r != their_aton(v4[i], &b) || (r && a.s_addr != b.s_addr))
			fprintf(stderr, "inet_aton(\"%s\")\n", v4[i]), failures++;
		CHECK(inet_addr(v4[i]) == (r ? a.s_addr : INADDR_NONE));
		r = inet_pton(AF_INET, v4[i], mine);
		if (r != their_pton(AF_INET, v4[i], theirs) || (r && memcmp(mine, theirs, 4)))
			fprintf(stderr, "inet_pton(AF_INET, \"%s\")\n", v4[i]), failures++;
	}
	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		int r = inet_pton(AF_INET6, v6[i], mine);

		if (r != their_pton(AF_INET6, v6[i], theirs) || (r && memcmp(mine, theirs, 16))) {
			fprintf(stderr, "inet_pton(AF_INET6, \"%s\")\n", v6[i]), failures++;
			continue;
		}
		if (r && strcmp(inet_ntop(AF_INET6, mine, text, sizeof(text)), their_ntop(AF_INET6, theirs, their_text, sizeof(their_text))))
			fprintf(stderr, "inet_ntop(AF_INET6, \"%s\"): %s, glibc %s\n", v6[i], text, their_text), failures++;
	}
	/* every zero-run shape of 8 words, 0 or 1 or 0xffff each */
	for (int m = 0; m < 6561; m++) {
		int k = m;

		for (int w = 0; w < 8; w++, k /= 3) {
			unsigned int v = k % 3 == 2 ? 0xffff : (unsigned int)(k % 3);

			mine[2 * w] = (unsigned char)(v >> 8);
			mine[2 * w + 1] = (unsigned char)v;
		}
		if (strcmp(inet_ntop(AF_INET6, mine, text, sizeof(text)), their_ntop(AF_INET6, mine, their_text, sizeof(their_text))))
			fprintf(stderr, "inet_ntop(AF_INET6): %s, glibc %s\n", text, their_text), failures++;
		else
			CHECK(inet_pton(AF_INET6, text, theirs) == 1 && !memcmp(mine, theirs, 16));
	}
	a.s_addr = htonl(0x0a000001);
	CHECK(!strcmp(inet_ntop(AF_INET, &a, text, sizeof(text)), "10.0.0.1") && !strcmp(inet_ntoa(a), "10.0.0.1"));
	errno = 0;
	CHECK(!inet_ntop(AF_INET, &a, text, 8) && errno == ENOSPC);
	errno = 0;
	CHECK(inet_pton(12345, "1", mine) == -1 && errno == EAFNOSUPPORT && !inet_ntop(12345, mine, text, sizeof(text)));
}

/* The sigset family against glibc's, every signal number from -1 to 66:
 * answers, errno and the sets they leave. */
static void signal_sets(void)
{
	int (*their_add)(sigset_t *, int) = (int (*)(sigset_t *, int))dlsym(RTLD_NEXT, "sigaddset");
	int (*their_del)(sigset_t *, int) = (int (*)(sigset_t *, int))dlsym(RTLD_NEXT, "sigdelset");
	int (*their_is)(const sigset_t *, int) = (int (*)(const sigset_t *, int))dlsym(RTLD_NEXT, "sigismember");
	int (*their_fill)(sigset_t *) = (int (*)(sigset_t *))dlsym(RTLD_NEXT, "sigfillset");
	sigset_t mine, theirs;

	CHECK(their_add && their_del && their_is && their_fill && their_add != sigaddset);
	if (!their_add || !their_del || !their_is || !their_fill)
		return;
	sigfillset(&mine);
	their_fill(&theirs);
	CHECK(!memcmp(&mine, &theirs, sizeof(mine)));
	for (int full = 0; full < 2; full++)
		for (int sig = -1; sig <= 66; sig++) {
			int r[6], e[6];

			if (full)
				sigfillset(&mine), their_fill(&theirs);
			else
				sigemptyset(&mine), sigemptyset(&theirs);
			errno = 0, r[0] = sigaddset(&mine, sig), e[0] = errno;
			errno = 0, r[1] = their_add(&theirs, sig), e[1] = errno;
			errno = 0, r[2] = sigismember(&mine, sig), e[2] = errno;
			errno = 0, r[3] = their_is(&theirs, sig), e[3] = errno;
			errno = 0, r[4] = sigdelset(&mine, sig), e[4] = errno;
			errno = 0, r[5] = their_del(&theirs, sig), e[5] = errno;
			if (r[0] != r[1] || e[0] != e[1] || r[2] != r[3] || e[2] != e[3] || r[4] != r[5] || e[4] != e[5] ||
			    memcmp(&mine, &theirs, sizeof(mine)))
				fprintf(stderr, "sigset family, signal %d, %s set\n", sig, full ? "full" : "empty"), failures++;
		}
}

static void tokens(void)
{
	char text[] = ",a,,b c,", *save, *p = text;
	char *t1, *t2, *t3;

	t1 = strtok(text, ", ");
	t2 = strtok(NULL, ", ");
	t3 = strtok(NULL, ", ");
	CHECK(!strcmp(t1, "a") && !strcmp(t2, "b") && !strcmp(t3, "c") && !strtok(NULL, ", "));
	strcpy(text, "x=1;y");
	CHECK(!strcmp(strtok_r(text, "=;", &save), "x") && !strcmp(strtok_r(NULL, "=;", &save), "1"));
	CHECK(!strcmp(strtok_r(NULL, "=;", &save), "y") && !strtok_r(NULL, "=;", &save));
	strcpy(text, "a,,b");
	p = text;
	t1 = strsep(&p, ",");
	t2 = strsep(&p, ",");
	t3 = strsep(&p, ",");
	CHECK(!strcmp(t1, "a") && !strcmp(t2, "") && !strcmp(t3, "b") && !p && !strsep(&p, ","));
	CHECK(memmem("abcabd", 6, "abd", 3) == (void *)((const char *)"abcabd" + 3) || !strcmp(memmem("abcabd", 6, "abd", 3), "abd"));
	CHECK(!memmem("abcab", 5, "abd", 3) && !memmem("ab", 2, "abc", 3));
}

/* ---- calendar time and strftime, against glibc's under TZ=UTC ------------- */

static struct tm *(*their_gmtime_r)(const time_t *, struct tm *);
static struct tm *(*their_localtime_r)(const time_t *, struct tm *);
static time_t (*their_mktime)(struct tm *);
static time_t (*their_timegm)(struct tm *);
static size_t (*their_strftime)(char *, size_t, const char *, const struct tm *);
static char *(*their_asctime_r)(const struct tm *, char *);
static char *(*their_ctime_r)(const time_t *, char *);

static int same_tm(const struct tm *a, const struct tm *b)
{
	return a->tm_sec == b->tm_sec && a->tm_min == b->tm_min && a->tm_hour == b->tm_hour && a->tm_mday == b->tm_mday
	       && a->tm_mon == b->tm_mon && a->tm_year == b->tm_year && a->tm_wday == b->tm_wday && a->tm_yday == b->tm_yday
	       && a->tm_isdst == b->tm_isdst && a->tm_gmtoff == b->tm_gmtoff
	       && !strcmp(a->tm_zone ? a->tm_zone : "(null)", b->tm_zone ? b->tm_zone : "(null)");
}

/* Every conversion, flags and widths, E and O before every character, what glibc copies as written. */
static const char *const time_formats[] = {
	"%Y %m %d %H %M %S %j %a %A %b %B %y %e %T %D %F %R %s %z %Z %% %n %t %p %I %c %x %X %u %w %G %g %V %U %W %C %h %k %l %P %r",
	"%_Y %-m %0e %^a %^B %#Z %#p %#a %#P %^P %#c %10Y %-10d %_5H %010s %3z %^10b %_3j %-j %5%% %5e %05e %-5e %8F %_8C %-3y",
	"%q %Q%K%L%N%o%f %", "%E", "%O", "%Ey %EY %Ec %Od %Oy %OH %Ea %Ob %EH %-_0^#12Od %E5Y %5EY",
	"%40c|%-40c|%040D|%1000Y",
	/* what glibc does not know, or refuses with E or O, padded to the width and upper case under '^' */
	"%q|%5q|%^q|%^#q|%_5K|%05L|%^10Oa|%5Ea|%^Eh|%-^7Ek|%#Eb|%#6Eh|%#Ea|%#EB|%5O|%5",
};

/* strftime of tm, ours and glibc's, with room for all and for less. */
static void compare_strftime(const char *fmt, const struct tm *tm)
{
	char ours[1200], glibc[1200];
	size_t n = strftime(ours, sizeof(ours), fmt, tm), m = their_strftime(glibc, sizeof(glibc), fmt, tm);

	if (n != m || memcmp(ours, glibc, n + 1)) {
		fprintf(stderr, "strftime(\"%s\", %d-%d-%d): \"%s\" (%zu), glibc \"%s\" (%zu)\n", fmt, tm->tm_year, tm->tm_mon,
			tm->tm_mday, ours, n, glibc, m);
		failures++;
		return;
	}
	for (size_t size = 0; size <= m + 1 && size < 64; size++)
		CHECK(strftime(ours, size, fmt, tm) == their_strftime(glibc, size, fmt, tm));
}

/* mktime and timegm of tm with one field pushed out of range (and a tm_isdst), ours and glibc's. */
static void compare_normalized(const struct tm *tm, int field, int by, int isdst)
{
	struct tm ours = *tm, glibc;
	int *fields[] = { &ours.tm_sec, &ours.tm_min, &ours.tm_hour, &ours.tm_mday, &ours.tm_mon, &ours.tm_year };
	time_t a, b;
	int ea, eb;

	*fields[field] += by;
	ours.tm_isdst = isdst;
	ours.tm_wday = ours.tm_yday = 999;	/* ignored */
	glibc = ours;
	for (int which = 0; which < 2; which++) {
		struct tm o = ours, g = glibc;

		errno = 0;
		a = which ? timegm(&o) : mktime(&o);
		ea = errno;
		errno = 0;
		b = which ? their_timegm(&g) : their_mktime(&g);
		eb = errno;
		if (a != b || (a == -1 && ea != eb) || !same_tm(&o, &g)) {	/* errno is glibc's own on success */
			fprintf(stderr, "%s(%d-%d-%d %d:%d:%d dst %d): %lld (%d), glibc %lld (%d)\n", which ? "timegm" : "mktime",
				ours.tm_year, ours.tm_mon, ours.tm_mday, ours.tm_hour, ours.tm_min, ours.tm_sec, isdst, (long long)a,
				ea, (long long)b, eb);
			failures++;
		}
	}
}

static void compare_time(time_t t)
{
	struct tm ours, glibc;
	struct tm *a, *b;
	char text[2][128];
	int ea, eb;

	memset(&ours, 0x55, sizeof(ours));
	memset(&glibc, 0x55, sizeof(glibc));
	errno = 0;
	a = gmtime_r(&t, &ours);
	ea = errno;
	errno = 0;
	b = their_gmtime_r(&t, &glibc);
	eb = errno;
	if (!a != !b || ea != eb || (a && !same_tm(&ours, &glibc))) {
		fprintf(stderr, "gmtime_r(%lld): %d-%d-%d (%d), glibc %d-%d-%d (%d)\n", (long long)t, ours.tm_year, ours.tm_mon,
			ours.tm_mday, ea, glibc.tm_year, glibc.tm_mon, glibc.tm_mday, eb);
		failures++;
	}
	CHECK(!ctime_r(&t, text[0]) == !their_ctime_r(&t, text[1]));
	if (!a || !b)
		return;
	CHECK(localtime_r(&t, &ours) == &ours && their_localtime_r(&t, &glibc) == &glibc && same_tm(&ours, &glibc));
	CHECK(!asctime_r(&ours, text[0]) == !their_asctime_r(&glibc, text[1]));
	if (asctime_r(&ours, text[0]))
		CHECK(!strcmp(text[0], their_asctime_r(&glibc, text[1])) && !strcmp(ctime_r(&t, text[0]), text[1]));
	for (size_t i = 0; i < sizeof(time_formats) / sizeof(time_formats[0]); i++)
		compare_strftime(time_formats[i], &ours);
	gmtime_r(&t, &ours);
	compare_strftime("%Z %z %s %c", &ours);
	for (int field = 0; field < 6; field++)
		compare_normalized(&ours, field, (rand() % 2001 - 1000) * (field == 5 ? 1 : 37), field % 3 - 1 + (field == 5) * 4);
}

static void calendar(void)
{
	static const long long times[] = {
		0, -1, 1, 86399, 86400, -86400, -86401,
		951782400, 951868800,			/* 2000-02-29, 2000-03-01 */
		2147483647, 2147483648LL, 4102444800LL,	/* 2038, 2100 */
		253402300799LL, 253402300800LL,		/* year 9999's end, year 10000 */
		-62135596800LL, -62135596801LL, -62167219200LL, -210866803200LL,	/* years 1, 0, -4713 */
		1104537600, 1230768000, 1262304000, 1293840000, 1609459200, 1640995200,	/* ISO weeks across new year */
		67768036191676799LL, 67768036191676800LL, -67768040609740800LL, -67768040609740801LL,	/* an int's years */
		LLONG_MAX, LLONG_MIN,
	};
	struct tm tm;

	setenv("TZ", "UTC", 1);
	((void (*)(void))dlsym(RTLD_NEXT, "tzset"))();
	their_gmtime_r = (struct tm *(*)(const time_t *, struct tm *))dlsym(RTLD_NEXT, "gmtime_r");
	their_localtime_r = (struct tm *(*)(const time_t *, struct tm *))dlsym(RTLD_NEXT, "localtime_r");
	their_mktime = (time_t (*)(struct tm *))dlsym(RTLD_NEXT, "mktime");
	their_timegm = (time_t (*)(struct tm *))dlsym(RTLD_NEXT, "timegm");
	their_strftime = (size_t (*)(char *, size_t, const char *, const struct tm *))dlsym(RTLD_NEXT, "strftime");
	their_asctime_r = (char *(*)(const struct tm *, char *))dlsym(RTLD_NEXT, "asctime_r");
	their_ctime_r = (char *(*)(const time_t *, char *))dlsym(RTLD_NEXT, "ctime_r");
	srand(7);
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
		compare_time((time_t)times[i]);
	for (int i = 0; i < 2000; i++)	/* some 6000 years each side of 1970 */
		compare_time((time_t)(((long long)rand() << 31 | rand()) % 400000000000LL - 200000000000LL));
	/* difftime: exact, rounded once, to the ends of time_t */
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
		for (size_t j = 0; j < sizeof(times) / sizeof(times[0]); j++)
			CHECK(difftime((time_t)times[i], (time_t)times[j]) ==
			      ((double (*)(time_t, time_t))dlsym(RTLD_NEXT, "difftime"))((time_t)times[i], (time_t)times[j]));
	CHECK(difftime((time_t)LLONG_MAX, (time_t)-1) == 0x1p63 && difftime((time_t)1, (time_t)LLONG_MIN) == 0x1p63);
	CHECK(difftime((time_t)(1LL << 53) + 1, 0) == 0x1p53 && difftime((time_t)LLONG_MAX, (time_t)LLONG_MIN) == 0x1p64);

	/* at an int's first and last years, where glibc's answer hangs on the time with
	 * tm_sec clamped to 0 to 59 (then shifted an hour for a tm_isdst above 0) too */
	for (int last = 0; last < 2; last++)
		for (int mday = 0; mday < 4; mday++)
			for (int hour = 0; hour < 4; hour++)
				for (int sec = 0; sec < 7; sec++) {
					static const int mdays[] = { 0, 1, 31, 32 }, hours[] = { -1, 0, 23, 24 };
					static const int secs[] = { -100000, -3601, -1, 0, 60, 3600, 100000 };
					struct tm edge = { .tm_sec = secs[sec], .tm_hour = hours[hour], .tm_mday = mdays[mday],
							   .tm_mon = last ? 11 : 0, .tm_year = last ? INT_MAX : INT_MIN };

					compare_normalized(&edge, 0, 0, 0);
					compare_normalized(&edge, 0, 0, 1);
				}

	/* fields out of range, tm_zone NULL (%Z from tm_isdst), a tm_gmtoff of -05:30, negative years */
	memset(&tm, 0, sizeof(tm));
	compare_strftime("%Z %z %s %c %G %V", &tm);
	tm.tm_isdst = -1;
	tm.tm_wday = 9;
	tm.tm_mon = -1;
	tm.tm_hour = -5;
	tm.tm_yday = -3;
	tm.tm_gmtoff = -(5 * 3600 + 30 * 60);
	compare_strftime("%Z|%z|%a|%b|%I|%l|%p|%j|%U|%W|%V|%u|%C|%y|%G|%g", &tm);
	tm.tm_isdst = 0;
	tm.tm_year = -1905;
	compare_strftime("%z|%Y|%C|%y|%G|%g|%_Y|%05Y|%-C|%5Y|%-5Y|%_5Y|%5z|%5C", &tm);
	/* a zone of the driver's own: '#' lowers it even under '^' */
	tm.tm_zone = "Cet";
	compare_strftime("%Z|%^Z|%#Z|%^#Z|%#^Z|%^#6Z", &tm);
	/* no zone, tm_isdst past glibc's tzname[1]: "?" */
	tm.tm_zone = NULL;
	tm.tm_isdst = 2;
	compare_strftime("%Z|%5Z|%z", &tm);
	/* tm_gmtoff past an int's range: glibc's int of it, nothing overflows (UBSan) */
	tm.tm_isdst = 0;
	tm.tm_gmtoff = LONG_MIN;
	compare_strftime("%z|%_9z", &tm);
	tm.tm_gmtoff = (1L << 40) - (5 * 3600 + 30 * 60);
	compare_strftime("%z|%_9z", &tm);
	tm.tm_gmtoff = 0;
	tm.tm_yday = INT_MAX;	/* fields at an int's limits overflow nothing (UBSan), where glibc's would */
	tm.tm_wday = INT_MIN;
	CHECK(strftime((char[128]){ 0 }, 128, "%U %W %V %G %g %u %j", &tm) > 0);
	tm.tm_wday = 9;
	tm.tm_year = INT_MAX;	/* asctime_r's text would not fit its 26 bytes */
	errno = 0;
	CHECK(asctime_r(&tm, (char[26]){ 0 }) == NULL && errno == EOVERFLOW);
	tm.tm_year = 2026 - 1900;
	/* "??? ???  0 -05:00:00 2026\n": past asctime_r's 26 bytes, not asctime's */
	CHECK(!asctime_r(&tm, (char[26]){ 0 }) && !their_asctime_r(&tm, (char[26]){ 0 }));
	CHECK(!strcmp(asctime(&tm), ((char *(*)(const struct tm *))dlsym(RTLD_NEXT, "asctime"))(&tm)));
}

int main(void)
{
	numbers();
	classes();
	strings();
	messages();
	decimals();
	scanning();
	sorting();
	randomness();
	tokens();
	paths();
	addresses();
	signal_sets();
	calendar();
	if (failures) {
		fprintf(stderr, "posix: %d checks failed\n", failures);
		return 1;
	}
	printf("posix: all checks passed\n");
	return 0;
}
