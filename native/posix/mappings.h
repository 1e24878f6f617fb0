// mmap and its kin for a POSIX driver: anonymous memory from the domain's
// heap (page aligned, zeroed) or, MAP_HUGETLB, from its DMA memory (2 MiB
// aligned); a file's mapping from the file (a BAR, a hugetlbfs file). Each
// mapping a tracked object of type mapping. Returns an address or -errno.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../domain/domain.h"

namespace nooks {

long posix_mmap(Domain *d, size_t len, int prot, int flags, int fd, long long off);
// Undoes every mapping inside [addr, addr+len); one that lies across its ends: -EINVAL.
int posix_munmap(Domain *d, uintptr_t addr, size_t len);
// mlock & co.: 0 when [addr, addr+len) is the driver's memory, else -ENOMEM.
int posix_mapped(Domain *d, uintptr_t addr, size_t len);

}  // namespace nooks
