/* operator new and delete, every form g++ calls: blocks of the driver's domain
 * heap as the POSIX personality's malloc gives them (nooks_posix_malloc: a
 * memory object labelled `malloc`, counted against memLimitBytes, released at
 * recovery), freed with kfree; the same heap in a kernel-API driver (kmalloc's)
 * and a POSIX one (malloc's). Without exceptions a failed new is the driver's
 * failure; the nothrow forms return nullptr as the standard says. */
#include <new>

#include "cxx.h"

namespace {

/* The smallest alignment malloc gives, and the largest the heap can. */
constexpr size_t kMinAlign = 16, kMaxAlign = 4096;

void *allocate(size_t size, size_t align)
{
	if (align > kMaxAlign)
		return nullptr;
	return nooks_posix_malloc(size ? size : 1, align < kMinAlign ? kMinAlign : align);
}

void *allocate_or_fail(size_t size, size_t align, const char *form)
{
	if (align > kMaxAlign)
		cxx_fail("%s: cannot allocate %zu bytes aligned to %zu: the driver's heap aligns to at most %zu", form, size, align, kMaxAlign);
	void *p = allocate(size, align);

	if (!p)
		cxx_fail("%s: cannot allocate %zu bytes (aligned to %zu) in the driver's heap (memLimitBytes?)", form, size, align);
	return p;
}

}  // namespace

/* new (std::nothrow) T names this object (libsupc++'s in a program). */
const std::nothrow_t std::nothrow{};

void *operator new(size_t size) { return allocate_or_fail(size, kMinAlign, "operator new"); }
void *operator new[](size_t size) { return allocate_or_fail(size, kMinAlign, "operator new[]"); }
void *operator new(size_t size, std::align_val_t a) { return allocate_or_fail(size, (size_t)a, "operator new"); }
void *operator new[](size_t size, std::align_val_t a) { return allocate_or_fail(size, (size_t)a, "operator new[]"); }
void *operator new(size_t size, const std::nothrow_t &) noexcept { return allocate(size, kMinAlign); }
void *operator new[](size_t size, const std::nothrow_t &) noexcept { return allocate(size, kMinAlign); }
void *operator new(size_t size, std::align_val_t a, const std::nothrow_t &) noexcept { return allocate(size, (size_t)a); }
void *operator new[](size_t size, std::align_val_t a, const std::nothrow_t &) noexcept { return allocate(size, (size_t)a); }

void operator delete(void *p) noexcept { kfree(p); }
void operator delete[](void *p) noexcept { kfree(p); }
void operator delete(void *p, size_t) noexcept { kfree(p); }
void operator delete[](void *p, size_t) noexcept { kfree(p); }
void operator delete(void *p, std::align_val_t) noexcept { kfree(p); }
void operator delete[](void *p, std::align_val_t) noexcept { kfree(p); }
void operator delete(void *p, size_t, std::align_val_t) noexcept { kfree(p); }
void operator delete[](void *p, size_t, std::align_val_t) noexcept { kfree(p); }
void operator delete(void *p, const std::nothrow_t &) noexcept { kfree(p); }
void operator delete[](void *p, const std::nothrow_t &) noexcept { kfree(p); }
void operator delete(void *p, std::align_val_t, const std::nothrow_t &) noexcept { kfree(p); }
void operator delete[](void *p, std::align_val_t, const std::nothrow_t &) noexcept { kfree(p); }
