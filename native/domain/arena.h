// A region of driver memory and a first-fit allocator over it. The allocator's
// bookkeeping lives in host memory, so a driver that scribbles over its heap
// cannot corrupt the kernel's view of what it holds.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>

namespace nooks {

// Gives the pages of [lo, lo+n) back: they read as zeros again, faulted in
// only when touched (`shared`: MAP_SHARED pages live in a shmem object, which
// must drop them too).
void give_back_pages(uintptr_t lo, size_t n, bool shared);

class Arena {
 public:
  // Reserves `size` bytes (rounded to pages), readable and writable (a
  // domain's then tags them: Domain::tag), between two inaccessible guard
  // pages; `shared`: MAP_SHARED, so that a driver host process forked later
  // sees and writes the same pages. `at`: where in the caller's reservation
  // (footprint(size) bytes there) it goes. `for_devices`: its pages are a
  // memory file's (shared), which devices reach through device_copy.
  bool map(size_t size, bool shared = false, uintptr_t at = 0, bool for_devices = false);
  // The bytes map() takes for `size`, guard pages included.
  static size_t footprint(size_t size);
  // Instead: `size` bytes of locked 2 MiB hugepages (rounded up), no
  // allocation straddling two of them (each is contiguous in physical memory,
  // the next one need not be), kept across reset(). false with errno set.
  bool map_huge(size_t size);
  static constexpr size_t kHugePage = 2u << 20;
  void unmap();
  // A device's DMA of n bytes at p (to_memory: from buf into the arena, else
  // out of it into buf) through the arena's memory file, whatever the
  // protection of its pages in any thread: a real device writes physical
  // memory whatever the CPU's page tables say. false (errno set) when the
  // arena has no file (hugepages) or the copy failed.
  bool device_copy(uintptr_t p, void *buf, size_t n, bool to_memory) const;
  bool has_device_file() const { return file_ >= 0; }
  // Returns nullptr when no free block fits.
  void *alloc(size_t size, size_t align);
  // Returns the size of the freed block, 0 if p is not the start of a live block.
  size_t free(void *p);
  size_t size_of(const void *p) const;
  void reset();  // forget every block (recovery releases them all at once)
  // The longest block that is contiguous for a device (hugepages: one of them).
  size_t contiguous_max() const { return huge_ ? kHugePage : size_; }

  uintptr_t lo() const { return base_; }
  // The whole mapping, guard pages included.
  uintptr_t reserved_lo() const { return base_ - guard(); }
  uintptr_t reserved_hi() const { return base_ + size_ + guard(); }
  uintptr_t hi() const { return base_ + size_; }
  size_t used() const { return used_; }
  // How many blocks of `unit` bytes (a power of two), aligned to it, are free: the hugepages still to be had.
  size_t free_aligned(size_t unit) const;
  bool contains(uintptr_t p, size_t n) const { return p >= base_ && n <= size_ && p - base_ <= size_ - n; }

 private:
  uintptr_t base_ = 0;
  size_t size_ = 0;
  size_t used_ = 0;
  bool huge_ = false;
  bool shared_ = false;
  bool placed_ = false;  // in the caller's reservation: unmap() gives the addresses back to it
  int file_ = -1;        // the memory file of a map(for_devices) arena
  size_t guard() const;
  std::map<uintptr_t, size_t> free_;  // start -> length, coalesced
  std::map<uintptr_t, size_t> live_;  // start -> length
};

}  // namespace nooks
