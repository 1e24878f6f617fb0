/* Mappings: anonymous memory (the domain heap; MAP_HUGETLB: its DMA memory,
 * 2 MiB aligned) and the mappings of files (a hugetlbfs file, a device's BAR),
 * made and tracked by the kernel (native/posix/mappings.cc). The driver's
 * memory is always resident: mlock and madvise's hints check the range only. */
/* The plain names are defined here, the 64-bit ones as their aliases: not
 * redirected (node-gyp builds with _FILE_OFFSET_BITS=64). */
#undef _FILE_OFFSET_BITS
#define _GNU_SOURCE
#define _LARGEFILE64_SOURCE
#include <sys/mman.h>

#include "posix.h"

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset)
{
	long r = nooks_posix_mmap(len, prot, flags, fd, offset);

	return posix_result(r) < 0 ? MAP_FAILED : (void *)r;
}
void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t offset) __attribute__((alias("mmap")));

int munmap(void *addr, size_t len)
{
	return (int)posix_result(nooks_posix_munmap((unsigned long)addr, len));
}

int mlock(const void *addr, size_t len)
{
	return (int)posix_result(nooks_posix_mapped((unsigned long)addr, len));
}

int munlock(const void *addr, size_t len)
{
	return (int)posix_result(nooks_posix_mapped((unsigned long)addr, len));
}

/* Everything a driver holds is resident already: only the flags are checked,
 * as Linux checks them (mlockall(2): MCL_ONFAULT alone is EINVAL). */
int mlockall(int flags)
{
	if (!flags || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) || flags == MCL_ONFAULT)
		return (int)posix_result(-EINVAL);
	return 0;
}

int munlockall(void)
{
	return 0;
}

int madvise(void *addr, size_t len, int advice)
{
	switch (advice) {
	case MADV_NORMAL:
	case MADV_RANDOM:
	case MADV_SEQUENTIAL:
	case MADV_WILLNEED:
	case MADV_DONTFORK:
	case MADV_DOFORK:
	case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE:
	case MADV_DONTDUMP:
	case MADV_DODUMP:
		return (int)posix_result(nooks_posix_mapped((unsigned long)addr, len));
	default:
		errno = EINVAL;	/* advice that would change the memory (MADV_DONTNEED, MADV_FREE ...) */
		return -1;
	}
}
