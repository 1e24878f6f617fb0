#include "iomem.h"

#include <sys/mman.h>

#include <nooks/kapi.h>

#include <map>
#include <mutex>

#include "../kapi/host_limits.h"

namespace nooks {

// The reservation trapped windows are carved from: made when the addon loads,
// before any driver's host process is forked (isolation 'process'), so that
// every process has it, never accessible. A slice of it per driver.
constexpr uint64_t kTrappedSpace = kIoWindowBytesPerDriver * kMaxDomains;
static const uintptr_t trapped_lo = [] {
  void *p = mmap(nullptr, kTrappedSpace, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? 0 : (uintptr_t)p;
}();

bool iomem_trapped(uintptr_t addr) { return trapped_lo && addr - trapped_lo < kTrappedSpace; }

// Every emulated register window.
// Never destroyed: kernel threads may still run while the process exits.
struct Windows {
  std::mutex lock;
  std::map<uintptr_t, IoWindow> by_base;  // base -> window
};
static Windows &windows = *new Windows;

// The bytes a window takes: whole pages, and a hole after it that catches overruns.
static uint64_t footprint(uint64_t size) { return ((size + 0xfff) & ~0xfffull) + 0x1000; }

// Places w in its driver's slice of the space at `space` (host_limits.h), at
// the first gap that fits: windows come and go with drivers' restarts, and
// the scan is over the driver's own windows alone (2048 at most). 0 if the
// slice has no room.
static uintptr_t place(IoWindow w, uintptr_t space) {
  std::lock_guard<std::mutex> g(windows.lock);
  uintptr_t at = space + (uint64_t)w.domain * kIoWindowBytesPerDriver, end = at + kIoWindowBytesPerDriver;
  for (auto it = windows.by_base.lower_bound(at); it != windows.by_base.end() && it->first < end; ++it) {
    if (it->first - at >= footprint(w.size)) break;
    at = it->first + footprint(it->second.size);
  }
  if (end - at < footprint(w.size)) return 0;
  w.base = at;
  windows.by_base[w.base] = std::move(w);
  return at;
}

uintptr_t iomem_map(IoWindow w) { return place(std::move(w), NOOKS_IOMEM_EMU_BASE); }

uintptr_t iomem_map_trapped(IoWindow w) { return trapped_lo ? place(std::move(w), trapped_lo) : 0; }

void iomem_unmap(uintptr_t base) {
  std::lock_guard<std::mutex> g(windows.lock);
  windows.by_base.erase(base);
}

bool iomem_access(Domain *d, uintptr_t addr, unsigned width, bool write, uint64_t *value) {
  if (width != 1 && width != 2 && width != 4 && width != 8) return false;
  IoWindow w;
  {
    std::lock_guard<std::mutex> g(windows.lock);
    auto it = windows.by_base.upper_bound(addr);
    if (it == windows.by_base.begin()) return false;
    w = std::prev(it)->second;
  }
  uint64_t off = addr - w.base;
  if (w.domain != d->id || off >= w.size || w.size - off < width) return false;
  if (width == 8) {
    if (write) {
      w.write(off, (uint32_t)*value, 4);
      w.write(off + 4, (uint32_t)(*value >> 32), 4);
    } else {
      uint64_t lo = w.read(off, 4);
      *value = lo | (uint64_t)w.read(off + 4, 4) << 32;
    }
  } else if (write) {
    w.write(off, (uint32_t)*value, width);
  } else {
    *value = w.read(off, width);
  }
  return true;
}

}  // namespace nooks
