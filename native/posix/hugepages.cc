#include "hugepages.h"

#include <fcntl.h>
#include <limits.h>

#include <cstring>
#include <mutex>

#include "../kapi/log.h"
#include "../kapi/subsystems.h"
#include "fd_table.h"

namespace nooks {

namespace {

const char *const kMounts[] = {"/mnt/huge", "/dev/hugepages"};

size_t huge_round(uint64_t n) { return (n + kHugePageSize - 1) & ~(uint64_t)(kHugePageSize - 1); }

// 2 MiB-aligned, zeroed DMA memory, tracked as `type`.
void *dma_hugepages(Domain *d, size_t size, ObjectType type, const char *label) {
  void *p = domain_alloc(d, d->dma, size, kHugePageSize, type, 0, label);
  if (p) memset(p, 0, size);
  return p;
}

// A file of hugetlbfs: its memory is one block of DMA memory (a tracked
// object of type hugepage), allocated when it is sized (ftruncate, or the
// first mmap, as hugetlbfs grows a file to what is mapped), freed when no
// name, descriptor or mapping refers to it any more.
class HugeFile : public File {
 public:
  HugeFile(Domain *d, std::string path) : File(std::move(path)), d_(d) {}
  ~HugeFile() override {
    if (mem_) domain_free_block(d_, d_->dma, (uintptr_t)mem_, ObjectType::hugepage);
  }
  long truncate(Domain *d, uint64_t size) override {
    std::lock_guard<std::mutex> g(lock_);
    if (huge_round(size) == huge_round(size_)) {
      size_ = size;
      return 0;
    }
    if (mapped_) return -EBUSY;  // its memory moves: not under a mapping
    if (mem_) domain_free_block(d, d->dma, (uintptr_t)mem_, ObjectType::hugepage);
    mem_ = nullptr;
    size_ = 0;
    if (size && !(mem_ = dma_hugepages(d, huge_round(size), ObjectType::hugepage, path.c_str()))) return -ENOMEM;
    size_ = size;
    return 0;
  }
  long mmap(Domain *d, size_t len, uint64_t off) override {
    if (off % kHugePageSize) return -EINVAL;
    if (!size_ && truncate(d, off + len) < 0) return -ENOMEM;
    std::lock_guard<std::mutex> g(lock_);
    if (off + len > huge_round(size_)) return -EINVAL;
    mapped_++;
    return (long)((uintptr_t)mem_ + off);
  }
  void munmap(Domain *, uintptr_t, size_t) override {
    std::lock_guard<std::mutex> g(lock_);
    mapped_--;
  }
  FileStat fstat() override {
    std::lock_guard<std::mutex> g(lock_);
    return {S_IFREG | 0600, size_};
  }

 private:
  Domain *d_;
  std::mutex lock_;
  void *mem_ = nullptr;
  uint64_t size_ = 0;
  int mapped_ = 0;
};

// /proc/self/pagemap: one 64-bit entry per page of the address space. A page
// of the driver's DMA memory in use (DMA blocks, hugepage files and mappings)
// is present (bit 63) with its bus address as the frame number; anything else is not.
class PagemapFile : public File {
 public:
  PagemapFile() : File("/proc/self/pagemap") {}
  long pread(Domain *d, uint8_t *buf, size_t n, uint64_t off, int) override {
    if (off % 8 || n % 8) return -EINVAL;
    for (size_t i = 0; i < n / 8; i++) {
      uintptr_t page = (uintptr_t)(off / 8 + i) * 4096;
      uint64_t entry = 0;
      if (hugepages_held(d, page, 1)) entry = 1ull << 63 | (dma_bus_address(d, (void *)page) >> 12);
      memcpy(buf + 8 * i, &entry, 8);
    }
    return (long)n;
  }
  FileStat fstat() override { return {S_IFREG | 0444, 0}; }
};

}  // namespace

bool hugepages_held(Domain *d, uintptr_t p, size_t n) {
  if (!d->dma.contains(p, n)) return false;
  for (ObjectType t : {ObjectType::dma, ObjectType::hugepage, ObjectType::mapping})
    if (d->objects.find_containing(t, p, n)) return true;
  return false;
}

ViewEntry hugepages_sysfs_entry(Domain *d, const std::string &path) {
  const std::string pool = std::string(kHugepagesSysfs) + "/hugepages-2048kB";
  if (path == kHugepagesSysfs || path == pool) return view_dir();
  size_t total, free;
  {
    std::lock_guard<std::mutex> g(d->mem_lock);
    total = (d->dma.hi() - d->dma.lo()) / kHugePageSize;
    free = d->dma.free_aligned(kHugePageSize);
  }
  if (path == pool + "/nr_hugepages") return view_text(path, std::to_string(total) + "\n");
  if (path == pool + "/free_hugepages") return view_text(path, std::to_string(free) + "\n");
  return view_error(-ENOENT);
}

bool hugetlbfs_dir(const std::string &path) {
  for (const char *m : kMounts)
    if (path == m) return true;
  return false;
}

bool hugetlbfs_file(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash != std::string::npos && slash + 1 < path.size() && hugetlbfs_dir(path.substr(0, slash));
}

ViewEntry hugetlbfs_entry(Domain *d, const std::string &path, int flags) {
  if (path.size() - path.rfind('/') - 1 > NAME_MAX) return view_error(-ENAMETOOLONG);
  PosixFiles &p = posix_files(d);
  std::shared_ptr<File> f;
  {
    std::lock_guard<std::mutex> g(p.lock);
    auto it = p.hugetlbfs.find(path);
    if (it != p.hugetlbfs.end() && (flags & O_CREAT) && (flags & O_EXCL)) return view_error(-EEXIST);
    if (it != p.hugetlbfs.end()) f = it->second;
    else if (!(flags & O_CREAT)) return view_error(-ENOENT);
    else if (p.hugetlbfs.size() < kHugetlbfsMaxFiles) f = p.hugetlbfs[path] = std::make_shared<HugeFile>(d, path);
  }
  if (!f) {  // names are host memory: bounded as hugetlbfs's nr_inodes bounds a mount's files
    klog_line(4, d->name, "open " + path + ": " + std::to_string(kHugetlbfsMaxFiles) + " hugetlbfs files already (ENOSPC)");
    return view_error(-ENOSPC);
  }
  if ((flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY) {
    if (long r = f->truncate(d, 0); r < 0) return view_error((int)r);
  }
  FileStat st = f->fstat();
  return ViewEntry{0, st.mode, st.size, "", [f] { return f; }};
}

int hugetlbfs_unlink(Domain *d, const std::string &path) {
  PosixFiles &p = posix_files(d);
  std::shared_ptr<File> f;  // released after the lock
  std::lock_guard<std::mutex> g(p.lock);
  auto it = p.hugetlbfs.find(path);
  if (it == p.hugetlbfs.end()) return -ENOENT;
  f = it->second;
  p.hugetlbfs.erase(it);
  return 0;
}

void *hugepages_alloc(Domain *d, size_t len) { return dma_hugepages(d, huge_round(len), ObjectType::mapping, "mmap hugepages"); }

std::shared_ptr<File> pagemap_file() { return std::make_shared<PagemapFile>(); }

}  // namespace nooks
