// kmalloc/kfree and DMA memory: blocks of the domain's own arenas, tracked.
#include <cstring>

#include "checks.h"
#include "log.h"
#include "subsystems.h"

using namespace nooks;

namespace nooks {

void *domain_alloc(Domain *d, Arena &a, size_t size, size_t align, ObjectType type, uint64_t data, const char *label) {
  void *p;
  size_t arena_bytes = 0, free_bytes = 0;  // for the failure's log line
  {
    std::lock_guard<std::mutex> g(d->mem_lock);
    p = a.alloc(size, align);
    if (!p) {
      arena_bytes = a.hi() - a.lo();
      free_bytes = arena_bytes - a.used();
    }
  }
  if (!p) {
    // which arena: a driver that raises memLimitBytes gets a bigger heap, never more DMA memory
    if (&a == &d->dma)
      klog(4, "%s: %s of %zu bytes failed: its DMA memory (%zu MiB, %zu bytes of it free; the load option dmaBytes) is used up", d->name.c_str(), label,
           size, arena_bytes >> 20, free_bytes);
    else
      klog(4, "%s: %s of %zu bytes failed: the domain's memory limit (memLimitBytes) is reached", d->name.c_str(), label, size);
    return nullptr;
  }
  d->objects.add({type, (uintptr_t)p, size, data, label});
  return p;
}

bool domain_free_block(Domain *d, Arena &a, uintptr_t p, ObjectType type) {
  if (!d->objects.remove(type, p)) return false;
  std::lock_guard<std::mutex> g(d->mem_lock);
  a.free((void *)p);
  return true;
}

}  // namespace nooks

static void domain_free(Domain *d, Arena &a, const void *p, ObjectType type, const char *fn) {
  if (!domain_free_block(d, a, (uintptr_t)p, type)) kernel_bug(d, "%s(%p): not allocated (double free?)", fn, p);
}

extern "C" void *kapi_kmalloc(size_t size, gfp_t) {
  Domain *d = calling_domain();
  return domain_alloc(d, d->heap, size, 16, ObjectType::memory, 0, "kmalloc");
}

extern "C" void *kapi_kzalloc(size_t size, gfp_t flags) {
  void *p = kapi_kmalloc(size, flags);
  if (p) memset(p, 0, size);
  return p;
}

extern "C" void kapi_kfree(const void *p) {
  if (!p) return;
  Domain *d = calling_domain();
  domain_free(d, d->heap, p, ObjectType::memory, "kfree");
}

extern "C" void *kapi_dma_alloc_coherent(struct device *, size_t size, dma_addr_t *handle, gfp_t) {
  Domain *d = calling_domain();
  void *p = domain_alloc(d, d->dma, size, 4096, ObjectType::dma, 0, "dma_alloc_coherent");
  if (!p) return nullptr;
  memset(p, 0, size);
  dma_addr_t bus = dma_bus_address(d, p);
  d->objects.update_data(ObjectType::dma, (uintptr_t)p, bus);
  *handle = bus;
  return p;
}

extern "C" void kapi_dma_free_coherent(struct device *, size_t, void *cpu, dma_addr_t) {
  Domain *d = calling_domain();
  domain_free(d, d->dma, cpu, ObjectType::dma, "dma_free_coherent");
}

namespace nooks {

// Bus addresses: each domain's DMA arena appears at a window of its own, so a
// device model can tell which driver a bus address belongs to and reject the rest.
// Under UIO the device sees physical memory: bus addresses are physical ones.
dma_addr_t dma_bus_address(Domain *d, const void *cpu) {
  uintptr_t off = (uintptr_t)cpu - d->dma.lo();
  if (!d->dma_phys.empty()) return d->dma_phys[off / Arena::kHugePage] + off % Arena::kHugePage;
  return dma_window(d) + off;
}

void *dma_cpu_address(Domain *d, dma_addr_t bus, size_t n) {
  if (d->iommu_maps.load(std::memory_order_relaxed)) {
    std::lock_guard<std::mutex> g(d->iommu_lock);
    auto it = d->iommu.upper_bound(bus);  // the mapping at or below bus, if any
    if (it != d->iommu.begin()) {
      --it;
      uint64_t off = bus - it->first;
      if (off < it->second.size)
        return n <= it->second.size - off && d->dma.contains(it->second.cpu + off, n) ? (void *)(it->second.cpu + off) : nullptr;
    }
  }
  uintptr_t cpu = 0;
  for (size_t i = 0; i < d->dma_phys.size(); i++)
    if (bus >= d->dma_phys[i] && bus - d->dma_phys[i] < Arena::kHugePage) cpu = d->dma.lo() + i * Arena::kHugePage + (bus - d->dma_phys[i]);
  if (d->dma_phys.empty() && bus >= dma_window(d)) cpu = d->dma.lo() + (bus - dma_window(d));
  return cpu && d->dma.contains(cpu, n) ? (void *)cpu : nullptr;
}

uint64_t dma_window(Domain *d) { return kDmaBusBase + ((uint64_t)d->id << kDmaWindowShift); }

}  // namespace nooks
