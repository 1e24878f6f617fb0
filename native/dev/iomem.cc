#include "iomem.h"

#include <nooks/kapi.h>

#include <map>
#include <mutex>

namespace nooks {

// Every emulated register window.
// Never destroyed: kernel threads may still run while the process exits.
struct Windows {
  std::mutex lock;
  std::map<uintptr_t, IoWindow> by_base;  // base -> window
  uintptr_t next = NOOKS_IOMEM_EMU_BASE;
};
static Windows &windows = *new Windows;

uintptr_t iomem_map(IoWindow w) {
  std::lock_guard<std::mutex> g(windows.lock);
  w.base = windows.next;
  windows.next += (w.size + 0xfff) & ~0xfffull;
  windows.next += 0x1000;  // a hole between windows catches overruns
  windows.by_base[w.base] = w;
  return w.base;
}

void iomem_unmap(uintptr_t base) {
  std::lock_guard<std::mutex> g(windows.lock);
  windows.by_base.erase(base);
}

bool iomem_access(Domain *d, uintptr_t addr, unsigned width, bool write, uint32_t *value) {
  if (width != 1 && width != 2 && width != 4) return false;
  IoWindow w;
  {
    std::lock_guard<std::mutex> g(windows.lock);
    auto it = windows.by_base.upper_bound(addr);
    if (it == windows.by_base.begin()) return false;
    w = std::prev(it)->second;
  }
  if (w.domain != d->id || addr - w.base + width > w.size) return false;
  if (write) w.write(addr - w.base, *value, width);
  else *value = w.read(addr - w.base, width);
  return true;
}

}  // namespace nooks
