// Hugepage memory as userspace drivers get it: hugetlbfs files under
// /mnt/huge and /dev/hugepages (created, sized by ftruncate or a first mmap,
// mapped MAP_SHARED, unlinked), and /proc/self/pagemap to translate their
// addresses. The memory is the domain's DMA memory, 2 MiB aligned; pagemap
// answers its bus address, which the devices' DMA accepts; and the pool's
// size in sysfs, where drivers check that hugepages are to be had.
#pragma once
#include <memory>
#include <string>

#include "view.h"

namespace nooks {

constexpr size_t kHugePageSize = 2u << 20;
constexpr char kHugepagesSysfs[] = "/sys/kernel/mm/hugepages";
// The most hugetlbfs files (names) a driver may have at once: more is ENOSPC.
constexpr size_t kHugetlbfsMaxFiles = 1024;

// Whether path is a hugetlbfs mount point (a directory) or a file in one.
bool hugetlbfs_dir(const std::string &path);
bool hugetlbfs_file(const std::string &path);
// The file at path (created with O_CREAT; O_EXCL, O_TRUNC as open(2) says;
// a name over NAME_MAX is ENAMETOOLONG, a file past kHugetlbfsMaxFiles ENOSPC).
ViewEntry hugetlbfs_entry(Domain *d, const std::string &path, int flags);
// Removes the name; its memory stays while a descriptor or mapping holds it.
int hugetlbfs_unlink(Domain *d, const std::string &path);
// Anonymous MAP_HUGETLB memory: `len` rounded up to 2 MiB of zeroed DMA memory, tracked as a mapping.
void *hugepages_alloc(Domain *d, size_t len);
// Whether [p, p+n) is DMA memory the driver holds (a hugetlbfs file's, MAP_HUGETLB, dma_alloc_coherent).
bool hugepages_held(Domain *d, uintptr_t p, size_t n);
// kHugepagesSysfs, its directory hugepages-2048kB and in it nr_hugepages and
// free_hugepages: the domain's DMA memory in 2 MiB pages, all and free (read-only).
ViewEntry hugepages_sysfs_entry(Domain *d, const std::string &path);
// /proc/self/pagemap.
std::shared_ptr<File> pagemap_file();

}  // namespace nooks
