#include "arena.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace nooks {

static size_t page_round(size_t n) {
  size_t pg = (size_t)sysconf(_SC_PAGESIZE);
  return (n + pg - 1) & ~(pg - 1);
}

size_t Arena::guard() const { return base_ && !huge_ ? page_round(1) : 0; }

size_t Arena::footprint(size_t size) { return page_round(size) + 2 * page_round(1); }

// PROT_NONE address space, at `at` (replacing what is there) or anywhere.
static void *reserve(size_t n, bool shared, uintptr_t at) {
  int flags = (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | MAP_NORESERVE | (at ? MAP_FIXED : 0);
  return mmap((void *)at, n, PROT_NONE, flags, -1, 0);
}

// The pages of [p, p+n): a new memory file's, readable and writable; its descriptor, -1 if it cannot be.
static int map_file(void *p, size_t n) {
  int fd = memfd_create("nooks-dma", MFD_CLOEXEC);
  if (fd >= 0 && ftruncate(fd, n) == 0 && mmap(p, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) != MAP_FAILED) return fd;
  int e = errno;
  if (fd >= 0) close(fd);
  errno = e;
  return -1;
}

bool Arena::map(size_t size, bool shared, uintptr_t at, bool for_devices) {
  size_ = page_round(size);
  shared_ = shared;
  placed_ = at != 0;
  // An inaccessible page on each side: a driver that runs off its arena (an
  // overrun, a bad length) faults there, inside its domain, instead of writing
  // the next mapping, which may be host memory (writable under mprotect).
  const size_t pad = page_round(1);
  void *r = reserve(size_ + 2 * pad, shared, at);
  if (r == MAP_FAILED) return false;
  void *p = (char *)r + pad;
  if (for_devices ? (file_ = map_file(p, size_)) < 0 : mprotect(p, size_, PROT_READ | PROT_WRITE) != 0) {
    if (!placed_) munmap(r, size_ + 2 * pad);
    return false;
  }
  base_ = (uintptr_t)p;
  reset();
  return true;
}

bool Arena::map_huge(size_t size) {
  size_ = (size + kHugePage - 1) & ~(kHugePage - 1);
  // Shared, so a fork() can never copy-on-write a page away from under the device.
  void *p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) return false;
  if (mlock(p, size_) != 0 || madvise(p, size_, MADV_DONTFORK) != 0) {
    int e = errno;
    munmap(p, size_);
    errno = e;
    return false;
  }
  base_ = (uintptr_t)p;
  huge_ = true;
  reset();
  return true;
}

void Arena::unmap() {
  // placed: inaccessible again, so that the reservation stays whole (mprotect mode closes it in one call)
  if (base_ && placed_) reserve(reserved_hi() - reserved_lo(), false, reserved_lo());
  else if (base_) munmap((void *)reserved_lo(), reserved_hi() - reserved_lo());
  if (file_ >= 0) close(file_);
  file_ = -1;
  base_ = 0;
  size_ = 0;
  huge_ = false;
  shared_ = false;
  placed_ = false;
  free_.clear();
  live_.clear();
  used_ = 0;
}

void Arena::reset() {
  free_.clear();
  live_.clear();
  used_ = 0;
  if (base_) {
    free_[base_] = size_;
    // Give the pages back so a restarted driver starts from zeroed memory
    // (shared pages live on in their shmem object unless removed from it; a
    // memory file's are punched out of it, whatever their protection now);
    // hugepages stay where the device knows them (dma_alloc_coherent zeroes).
    if (file_ >= 0) fallocate(file_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, size_);
    else if (!huge_) give_back_pages(base_, size_, shared_);
  }
}

bool Arena::device_copy(uintptr_t p, void *buf, size_t n, bool to_memory) const {
  if (file_ < 0) {
    errno = ENODEV;
    return false;
  }
  for (size_t done = 0; done < n;) {
    off_t at = (off_t)(p - base_ + done);
    ssize_t r = to_memory ? pwrite(file_, (char *)buf + done, n - done, at) : pread(file_, (char *)buf + done, n - done, at);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    done += r;
  }
  return true;
}

void give_back_pages(uintptr_t lo, size_t n, bool shared) { madvise((void *)lo, n, shared ? MADV_REMOVE : MADV_DONTNEED); }

void *Arena::alloc(size_t size, size_t align) {
  if (size == 0) size = 1;
  size = (size + 15) & ~(size_t)15;
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    uintptr_t start = (it->first + align - 1) & ~(uintptr_t)(align - 1);
    uintptr_t end = it->first + it->second;
    if (huge_ && (start ^ (start + size - 1)) >= kHugePage) {  // would straddle: from the next hugepage
      if (size > kHugePage) return nullptr;
      start = (start + kHugePage - 1) & ~(uintptr_t)(kHugePage - 1);
    }
    if (start + size > end) continue;
    uintptr_t blk = it->first, blk_end = end;
    free_.erase(it);
    if (start > blk) free_[blk] = start - blk;
    if (start + size < blk_end) free_[start + size] = blk_end - (start + size);
    live_[start] = size;
    used_ += size;
    return (void *)start;
  }
  return nullptr;
}

size_t Arena::free_aligned(size_t unit) const {
  size_t n = 0;
  for (const auto &[start, len] : free_) {
    uintptr_t first = (start + unit - 1) & ~(uintptr_t)(unit - 1);
    if (first - start < len) n += (len - (first - start)) / unit;
  }
  return n;
}

size_t Arena::free(void *p) {
  auto it = live_.find((uintptr_t)p);
  if (it == live_.end()) return 0;
  uintptr_t start = it->first;
  size_t freed = it->second, len = freed;
  live_.erase(it);
  used_ -= freed;
  // Coalesce with the neighbours so the heap does not fragment forever.
  auto next = free_.lower_bound(start);
  if (next != free_.end() && start + len == next->first) {
    len += next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == start) {
      prev->second += len;
      return freed;
    }
  }
  free_[start] = len;
  return freed;
}

size_t Arena::size_of(const void *p) const {
  auto it = live_.find((uintptr_t)p);
  return it == live_.end() ? 0 : it->second;
}

}  // namespace nooks
