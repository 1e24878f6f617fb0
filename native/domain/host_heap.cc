#include "host_heap.h"

#include <sys/mman.h>

#include <atomic>
#include <mutex>

#include "arena.h"

namespace nooks {

// The host-object heap and its lock.
// Never destroyed: kernel threads may still run while the process exits.
struct HostHeap {
  Arena heap;
  std::mutex lock;
};
static HostHeap &host_heap = *new HostHeap;
constexpr size_t kHostHeapSize = 4u << 20;

// Shared whatever the isolation, so that a later kernel of this process
// under 'process' can share it with its drivers' host processes too.
static bool mapped() { return host_heap.heap.lo() || host_heap.heap.map(kHostHeapSize, true); }

bool host_heap_init() {
  std::lock_guard<std::mutex> g(host_heap.lock);
  return mapped();
}

void *host_heap_alloc(size_t size) {
  std::lock_guard<std::mutex> g(host_heap.lock);
  return mapped() ? host_heap.heap.alloc(size, 16) : nullptr;
}

void host_heap_range(uintptr_t *lo, uintptr_t *hi) {
  *lo = host_heap.heap.reserved_lo();
  *hi = host_heap.heap.reserved_hi();
}

void host_heap_free(void *p) {
  std::lock_guard<std::mutex> g(host_heap.lock);
  host_heap.heap.free(p);
}

// Cleared before the heap opens, set once it is closed: true only while read-only.
// Relaxed (it is stored at every mprotect crossing): its one reader, the test
// hook pcmHoldRestore, only waits to see it set and reads no data it guards;
// what it then does to the heap is ordered by DomainMemoryAccess, not by this flag.
static std::atomic<bool> read_only_now{false};

bool host_heap_protect(bool read_only) {
  if (!host_heap.heap.lo()) return false;
  if (!read_only) read_only_now.store(false, std::memory_order_relaxed);
  mprotect((void *)host_heap.heap.lo(), host_heap.heap.hi() - host_heap.heap.lo(), read_only ? PROT_READ : PROT_READ | PROT_WRITE);
  if (read_only) read_only_now.store(true, std::memory_order_relaxed);
  return true;
}

bool host_heap_read_only() { return read_only_now.load(std::memory_order_relaxed); }


}  // namespace nooks
