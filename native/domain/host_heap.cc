#include "host_heap.h"

#include <sys/mman.h>

#include <mutex>

#include "arena.h"

namespace nooks {

static Arena g_heap;
static std::mutex g_heap_lock;
constexpr size_t kHostHeapSize = 4u << 20;

void *host_heap_alloc(size_t size) {
  std::lock_guard<std::mutex> g(g_heap_lock);
  if (!g_heap.lo() && !g_heap.map(kHostHeapSize, -1)) return nullptr;
  return g_heap.alloc(size, 16);
}

void host_heap_free(void *p) {
  std::lock_guard<std::mutex> g(g_heap_lock);
  g_heap.free(p);
}

void host_heap_protect(bool read_only) {
  if (g_heap.lo()) mprotect((void *)g_heap.lo(), g_heap.hi() - g_heap.lo(), read_only ? PROT_READ : PROT_READ | PROT_WRITE);
}

bool host_heap_contains(uintptr_t p, size_t n) { return g_heap.contains(p, n); }

}  // namespace nooks
