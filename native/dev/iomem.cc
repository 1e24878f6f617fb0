#include "iomem.h"

#include <nooks/kapi.h>

#include <map>
#include <mutex>

namespace nooks {

static std::mutex g_lock;
static std::map<uintptr_t, IoWindow> g_windows;  // base -> window
static uintptr_t g_next = NOOKS_IOMEM_EMU_BASE;

uintptr_t iomem_map(IoWindow w) {
  std::lock_guard<std::mutex> g(g_lock);
  w.base = g_next;
  g_next += (w.size + 0xfff) & ~0xfffull;
  g_next += 0x1000;  // a hole between windows catches overruns
  g_windows[w.base] = w;
  return w.base;
}

void iomem_unmap(uintptr_t base) {
  std::lock_guard<std::mutex> g(g_lock);
  g_windows.erase(base);
}

bool iomem_access(Domain *d, uintptr_t addr, unsigned width, bool write, uint32_t *value) {
  if (width != 1 && width != 2 && width != 4) return false;
  IoWindow w;
  {
    std::lock_guard<std::mutex> g(g_lock);
    auto it = g_windows.upper_bound(addr);
    if (it == g_windows.begin()) return false;
    w = std::prev(it)->second;
  }
  if (w.domain != d->id || addr - w.base + width > w.size) return false;
  if (write) w.write(addr - w.base, *value, width);
  else *value = w.read(addr - w.base, width);
  return true;
}

}  // namespace nooks
