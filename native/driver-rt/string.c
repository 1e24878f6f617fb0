/*
 * String and memory helpers for drivers (see nooks/kapi.h).
 *
 * This code runs inside a driver's protection domain, where libc is out of
 * reach, and is linked statically into every driver: so it keeps no state,
 * and every symbol is hidden (a driver exports only its entry points).
 *
 * Build with -fno-builtin -fno-tree-loop-distribute-patterns: otherwise GCC
 * may recognise the loops below as memset/memcpy and call them (recursion).
 */
#include <nooks/kapi.h>

#define RT_HIDDEN __attribute__((visibility("hidden")))

RT_HIDDEN void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

RT_HIDDEN void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	/* copying forwards is safe unless dst overlaps the tail of src */
	if ((uintptr_t)d - (uintptr_t)s >= n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

RT_HIDDEN void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

RT_HIDDEN int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

RT_HIDDEN size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return p - s;
}

RT_HIDDEN size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

RT_HIDDEN int strcmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a;
	const unsigned char *y = (const unsigned char *)b;

	while (*x && *x == *y)
		x++, y++;
	return *x - *y;
}

RT_HIDDEN int strncmp(const char *a, const char *b, size_t n)
{
	const unsigned char *x = (const unsigned char *)a;
	const unsigned char *y = (const unsigned char *)b;

	for (; n; n--, x++, y++)
		if (*x != *y || !*x)
			return *x - *y;
	return 0;
}

/*
 * Copy at most size - 1 characters and always NUL-terminate (when size > 0).
 * Unlike Linux, a truncated copy is not an error: the return value is the
 * number of characters copied, so truncation shows as strlen(src) > result.
 */
RT_HIDDEN size_t strscpy(char *dst, const char *src, size_t size)
{
	size_t n = 0;

	if (!size)
		return 0;
	while (n < size - 1 && src[n]) {
		dst[n] = src[n];
		n++;
	}
	dst[n] = '\0';
	return n;
}
