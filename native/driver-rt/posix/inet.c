/* <arpa/inet.h>'s address conversions, as glibc answers them (run-tests.sh
 * compares): a driver that builds its own frames writes its IPv4 addresses
 * as text. inet_aton's old forms too (a, a.b, a.b.c; octal and hex parts);
 * inet_pton and inet_ntop for AF_INET and AF_INET6 (RFC 4291's text, "::"
 * for the longest run of zero groups, an IPv4 tail where glibc prints one). */
#include <arpa/inet.h>
#include <limits.h>

#include "posix.h"

#define IN6_WORDS 8

int inet_aton(const char *s, struct in_addr *out)
{
	unsigned long part[4];
	int parts = 0;
	uint32_t v;

	for (;;) {
		char *end;

		if (*s < '0' || *s > '9' || parts == 4)
			return 0;
		errno = 0;
		part[parts++] = strtoul(s, &end, 0);
		if (errno == ERANGE || part[parts - 1] > 0xffffffffUL)
			return 0;
		s = end;
		if (*s != '.')
			break;
		s++;
	}
	/* what follows the address, after a blank, is not looked at */
	if (*s && *s != ' ' && (*s < '\t' || *s > '\r'))
		return 0;
	for (int i = 0; i < parts - 1; i++)
		if (part[i] > 0xff)
			return 0;
	if (part[parts - 1] > (0xffffffffUL >> (8 * (parts - 1))))
		return 0;
	v = (uint32_t)part[parts - 1];
	for (int i = 0; i < parts - 1; i++)
		v |= (uint32_t)part[i] << (24 - 8 * i);
	if (out)
		out->s_addr = htonl(v);
	return 1;
}

in_addr_t inet_addr(const char *s)
{
	struct in_addr a;

	return inet_aton(s, &a) ? a.s_addr : INADDR_NONE;
}

/* Four decimal bytes, each 0..255 without a leading zero; 1, else 0. */
static int pton4(const char *s, unsigned char *out)
{
	for (int i = 0; i < 4; i++) {
		unsigned int v = 0;
		int digits = 0;

		for (; *s >= '0' && *s <= '9'; s++, digits++) {
			if (digits && v == 0)
				return 0;
			v = v * 10 + (unsigned int)(*s - '0');
			if (v > 255)
				return 0;
		}
		if (!digits || *s != (i == 3 ? 0 : '.'))
			return 0;
		out[i] = (unsigned char)v;
		s++;
	}
	return 1;
}

static int pton6(const char *s, unsigned char *out)
{
	uint16_t word[IN6_WORDS] = { 0 };
	int n = 0, gap = -1;

	if (s[0] == ':' && s[1] != ':')
		return 0;
	if (s[0] == ':')
		s++;
	while (*s) {
		unsigned int v = 0;
		int digits = 0;

		if (*s == ':') {	/* the second colon of "::" */
			if (gap >= 0)
				return 0;
			gap = n;
			s++;
			continue;
		}
		for (; posix_digit(*s) < 16 && digits < 5; s++, digits++)
			v = v * 16 + (unsigned int)posix_digit(*s);
		if (*s == '.' && n <= IN6_WORDS - 2) {	/* an IPv4 tail: the last two words */
			unsigned char v4[4];
			const char *start = s - digits;

			if (!pton4(start, v4))
				return 0;
			word[n++] = (uint16_t)(v4[0] << 8 | v4[1]);
			word[n++] = (uint16_t)(v4[2] << 8 | v4[3]);
			break;
		}
		if (!digits || digits > 4 || n == IN6_WORDS)
			return 0;
		word[n++] = (uint16_t)v;
		if (*s == ':' && !*++s)
			return 0;	/* a single colon ends no address */
		else if (*s && *s != ':' && posix_digit(*s) >= 16)
			return 0;
	}
	if (gap >= 0) {
		if (n == IN6_WORDS)
			return 0;
		memmove(word + gap + (IN6_WORDS - n), word + gap, (size_t)(n - gap) * sizeof(word[0]));
		memset(word + gap, 0, (size_t)(IN6_WORDS - n) * sizeof(word[0]));
	} else if (n != IN6_WORDS) {
		return 0;
	}
	for (int i = 0; i < IN6_WORDS; i++) {
		out[2 * i] = (unsigned char)(word[i] >> 8);
		out[2 * i + 1] = (unsigned char)word[i];
	}
	return 1;
}

int inet_pton(int af, const char *s, void *out)
{
	if (af == AF_INET)
		return pton4(s, out);
	if (af == AF_INET6)
		return pton6(s, out);
	errno = EAFNOSUPPORT;
	return -1;
}

static int ntop4(const unsigned char *a, char *buf, size_t size)
{
	return snprintf(buf, size, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

/* Writes into a text of INET6_ADDRSTRLEN bytes: no address is longer. */
static int ntop6(const unsigned char *a, char *text)
{
	uint16_t word[IN6_WORDS];
	int best = -1, best_len = 0, n = 0;

	for (int i = 0; i < IN6_WORDS; i++)
		word[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
	for (int i = 0; i < IN6_WORDS;) {
		int run = 0;

		while (i + run < IN6_WORDS && !word[i + run])
			run++;
		if (run > best_len && run > 1) {
			best = i;
			best_len = run;
		}
		i += run ? run : 1;
	}
	for (int i = 0; i < IN6_WORDS; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				text[n++] = ':';
			continue;
		}
		if (i)
			text[n++] = ':';
		/* ::a.b.c.d and ::ffff:a.b.c.d end in IPv4 */
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && word[5] == 0xffff)))
			return n + ntop4(a + 12, text + n, INET6_ADDRSTRLEN - (size_t)n);
		n += snprintf(text + n, INET6_ADDRSTRLEN - (size_t)n, "%x", word[i]);
	}
	if (best >= 0 && best + best_len == IN6_WORDS)
		text[n++] = ':';
	text[n] = 0;
	return n;
}

const char *inet_ntop(int af, const void *src, char *buf, socklen_t size)
{
	char text[INET6_ADDRSTRLEN];
	int n;

	if (af == AF_INET)
		n = ntop4(src, text, sizeof(text));
	else if (af == AF_INET6)
		n = ntop6(src, text);
	else {
		errno = EAFNOSUPPORT;
		return NULL;
	}
	if ((size_t)n >= size) {
		errno = ENOSPC;
		return NULL;
	}
	memcpy(buf, text, (size_t)n + 1);
	return buf;
}

char *inet_ntoa(struct in_addr a)
{
	static char text[INET_ADDRSTRLEN];

	ntop4((const unsigned char *)&a.s_addr, text, sizeof(text));
	return text;
}
