/* qsort and bsearch. qsort is a heapsort: no recursion, no allocation, and
 * O(n log n) whatever the input (a driver's stack is small); not stable, as
 * C allows. */
#include "posix.h"

static void swap(char *a, char *b, size_t size)
{
	while (size--) {
		char t = *a;

		*a++ = *b;
		*b++ = t;
	}
}

/* Moves element `root` down the heap of `n` elements until its children are not greater. */
static void sift_down(char *base, size_t root, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	for (size_t child; (child = 2 * root + 1) < n; root = child) {
		if (child + 1 < n && cmp(base + child * size, base + (child + 1) * size) < 0)
			child++;
		if (cmp(base + root * size, base + child * size) >= 0)
			return;
		swap(base + root * size, base + child * size, size);
	}
}

void qsort(void *p, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	char *base = p;

	if (n < 2 || !size)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift_down(base, i, n, size, cmp);
	for (size_t end = n - 1; end > 0; end--) {
		swap(base, base + end * size, size);
		sift_down(base, 0, end, size, cmp);
	}
}

void *bsearch(const void *key, const void *p, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	const char *base = p;

	while (n) {
		const char *mid = base + (n / 2) * size;
		int c = cmp(key, mid);

		if (!c)
			return (void *)mid;
		if (c > 0) {
			base = mid + size;
			n -= n / 2 + 1;
		} else {
			n /= 2;
		}
	}
	return NULL;
}
