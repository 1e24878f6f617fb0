#include "mappings.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <cstring>
#include <vector>

#include "../kapi/subsystems.h"
#include "fd_table.h"
#include "hugepages.h"

namespace nooks {

namespace {

constexpr size_t kPage = 4096;

size_t page_round(size_t n) { return (n + kPage - 1) & ~(kPage - 1); }

// Recovery (or unload): the mapping goes; anonymous memory goes with the arenas.
void release_mapping(Domain *d, const Object &o) {
  PosixFiles &p = posix_files(d);
  Mapping m;
  {
    std::lock_guard<std::mutex> g(p.lock);
    auto it = p.mappings.find(o.key);
    if (it == p.mappings.end()) return;
    m = it->second;
    p.mappings.erase(it);
  }
  if (m.file) m.file->munmap(d, o.key, m.size);
}
ObjectRelease mapping_release(ObjectType::mapping, release_mapping);

long map_anonymous(Domain *d, size_t len, int flags) {
  Arena *arena = flags & MAP_HUGETLB ? &d->dma : &d->heap;
  void *p;
  if (flags & MAP_HUGETLB) {
    p = hugepages_alloc(d, len);
  } else {
    p = domain_alloc(d, d->heap, len, kPage, ObjectType::mapping, 0, "mmap anonymous");
    if (p) memset(p, 0, len);
  }
  if (!p) return -ENOMEM;
  PosixFiles &pf = posix_files(d);
  std::lock_guard<std::mutex> g(pf.lock);
  pf.mappings[(uintptr_t)p] = {nullptr, arena, flags & MAP_HUGETLB ? (len + kHugePageSize - 1) & ~(kHugePageSize - 1) : len, 1};
  return (long)p;
}

long map_file(Domain *d, size_t len, int prot, int flags, int fd, uint64_t off) {
  std::shared_ptr<OpenFile> of = fd_get(d, fd);
  if (!of) return -EBADF;
  if (!(flags & MAP_SHARED)) return -EINVAL;  // a file's mapping is the file's memory: shared
  if ((of->flags & O_ACCMODE) == O_WRONLY || ((prot & PROT_WRITE) && (of->flags & O_ACCMODE) != O_RDWR)) return -EACCES;
  long at = of->file->mmap(d, len, off);
  if (at < 0) return at;
  PosixFiles &p = posix_files(d);
  std::lock_guard<std::mutex> g(p.lock);
  auto it = p.mappings.find((uintptr_t)at);
  if (it != p.mappings.end()) {  // the same memory again (a hugetlbfs file): one mapping, counted
    it->second.refs++;
    return at;
  }
  p.mappings[(uintptr_t)at] = {of->file, nullptr, len, 1};
  d->objects.add({ObjectType::mapping, (uintptr_t)at, len, 0, "mmap " + of->file->path});
  return at;
}

}  // namespace

long posix_mmap(Domain *d, size_t len, int prot, int flags, int fd, long long off) {
  if (!len || off < 0 || off % (long long)kPage || (flags & MAP_FIXED)) return -EINVAL;
  if (prot & PROT_EXEC) return -EACCES;  // a domain runs only its own image's code
  if (!(flags & (MAP_SHARED | MAP_PRIVATE)) || len > ((size_t)1 << 40)) return -EINVAL;
  len = page_round(len);
  return flags & MAP_ANONYMOUS ? map_anonymous(d, len, flags) : map_file(d, len, prot, flags, fd, (uint64_t)off);
}

int posix_munmap(Domain *d, uintptr_t addr, size_t len) {
  uintptr_t end;  // as Linux: a range that wraps around the address space is EINVAL, never an empty one
  if (addr % kPage || !len || len > SIZE_MAX - kPage || __builtin_add_overflow(addr, page_round(len), &end)) return -EINVAL;
  PosixFiles &p = posix_files(d);
  struct Unmapped {
    uintptr_t at;
    Mapping m;
    bool last;  // the mapping's last reference
  };
  std::vector<Unmapped> gone;
  {
    std::lock_guard<std::mutex> g(p.lock);
    for (auto &[at, m] : p.mappings)
      if (at < end && at + m.size > addr && (at < addr || at + m.size > end)) return -EINVAL;  // a part of one
    for (auto it = p.mappings.lower_bound(addr); it != p.mappings.end() && it->first < end;) {
      bool last = --it->second.refs == 0;
      gone.push_back({it->first, it->second, last});
      it = last ? p.mappings.erase(it) : std::next(it);
    }
  }
  for (const Unmapped &u : gone) {
    if (u.m.file) u.m.file->munmap(d, u.at, u.m.size);
    if (!u.last) continue;
    if (u.m.file) d->objects.remove(ObjectType::mapping, u.at);
    else domain_free_block(d, *u.m.arena, u.at, ObjectType::mapping);
  }
  return 0;
}

int posix_mapped(Domain *d, uintptr_t addr, size_t len) {
  if (d->writable(addr, len)) return 0;
  std::lock_guard<std::mutex> g(d->mmio_lock);
  for (const Range &r : d->mmio)
    if (r.contains(addr, len)) return 0;
  return -ENOMEM;
}

}  // namespace nooks
