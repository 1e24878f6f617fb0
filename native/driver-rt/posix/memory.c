/* malloc & co. over the driver's domain heap: each block a tracked memory
 * object (label "malloc"), released at recovery; free is kfree. */
#include <malloc.h>

#include "posix.h"

#define MIN_ALIGN 16
#define MAX_ALIGN 4096

static void *block(size_t size, size_t align)
{
	void *p = nooks_posix_malloc(size, align);

	if (!p)
		errno = ENOMEM;
	return p;
}

void *malloc(size_t size)
{
	return block(size, MIN_ALIGN);
}

void *calloc(size_t n, size_t size)
{
	void *p;

	if (size && n > (size_t)-1 / size) {
		errno = ENOMEM;
		return NULL;
	}
	p = block(n * size, MIN_ALIGN);
	if (p)
		memset(p, 0, n * size);
	return p;
}

void *realloc(void *ptr, size_t size)
{
	void *p;

	if (!ptr)
		return malloc(size);
	if (!size) {
		free(ptr);
		return NULL;
	}
	p = nooks_posix_realloc(ptr, size);
	if (!p)
		errno = ENOMEM;
	return p;
}

void free(void *ptr)
{
	kfree(ptr);
}

/* Alignments the heap can give: powers of two up to a page. */
static int alignment_ok(size_t align)
{
	return align && !(align & (align - 1)) && align <= MAX_ALIGN;
}

int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	if (!alignment_ok(align) || align % sizeof(void *))
		return EINVAL;
	p = nooks_posix_malloc(size, align < MIN_ALIGN ? MIN_ALIGN : align);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void *aligned_alloc(size_t align, size_t size)
{
	if (!alignment_ok(align)) {
		errno = EINVAL;
		return NULL;
	}
	return block(size, align < MIN_ALIGN ? MIN_ALIGN : align);
}

/* The older names for aligned blocks (<malloc.h>, BSD). */
void *memalign(size_t align, size_t size)
{
	return aligned_alloc(align, size);
}

void *valloc(size_t size)
{
	return aligned_alloc(MAX_ALIGN, size);
}

void *reallocarray(void *ptr, size_t n, size_t size)
{
	if (size && n > (size_t)-1 / size) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(ptr, n * size);
}
