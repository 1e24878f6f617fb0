// The VFIO container of a POSIX driver and its type-1 IOMMU (vfio.h). The
// driver chooses the IOVAs (ixy maps iova = vaddr); a map is accepted only
// for the driver's own DMA memory (hugetlbfs, MAP_HUGETLB,
// dma_alloc_coherent) and goes into the domain's IOMMU table, which emulated
// devices' DMA consults (dma_cpu_address). A real device reaches the driver's
// DMA memory through nooks' own container, which maps the domain's window
// (the bus addresses pagemap answers); a map at another IOVA is made in that
// container too (BusDevice::iommu_map), so a driver that picks its IOVAs
// (e1000l: 0x10000000) drives a real device unchanged. Each map is a tracked
// object (type iova), undone at recovery.
#include <linux/vfio.h>
#include <sys/ioctl.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "../dev/bus.h"
#include "../kapi/checks.h"
#include "../kapi/host_limits.h"
#include "../kapi/log.h"
#include "../kapi/subsystems.h"
#include "hugepages.h"
#include "vfio.h"

namespace nooks {

namespace {

constexpr uint64_t kIommuPage = 4096;

void unmap_locked(Domain *d, std::map<uint64_t, IovaMap>::iterator it) {
  d->iommu.erase(it);
  d->iommu_maps.fetch_sub(1);
}

// The real devices d holds (BusDevice::iommu_map): a map at an IOVA of the
// driver's own goes into their IOMMUs too, beside nooks' window; -errno from
// the first that refuses, the others undone.
long real_devices_map(Domain *d, uint64_t iova, uintptr_t cpu, uint64_t size) {
  long r = 0;
  std::vector<std::string> mapped;
  for (const std::string &address : d->devices)
    bus_with_held(d, address, [&](BusDevice &dev) {
      if (r || dev.emulated()) return;
      if ((r = dev.iommu_map(iova, cpu, size)) == 0) mapped.push_back(address);
    });
  if (r)
    for (const std::string &address : mapped) bus_with_held(d, address, [&](BusDevice &dev) { dev.iommu_unmap(iova); });
  return r;
}

// Undoes real_devices_map (nothing for a map at the window, or a device released: its maps went with it).
void real_devices_unmap(Domain *d, uint64_t iova) {
  for (const std::string &address : d->devices) bus_with_held(d, address, [&](BusDevice &dev) { dev.iommu_unmap(iova); });
}

// Recovery (or unload): the map goes (its devices were reset before).
void release_iova(Domain *d, const Object &o) {
  {
    std::lock_guard<std::mutex> g(d->iommu_lock);
    auto it = d->iommu.find(o.key);
    if (it != d->iommu.end()) unmap_locked(d, it);
  }
  real_devices_unmap(d, o.key);
}
ObjectRelease iova_release(ObjectType::iova, release_iova);

// A map the IOMMU refuses: logged, with an event naming it.
long refuse(Domain *d, long err, const vfio_iommu_type1_dma_map &m, const std::string &why) {
  char text[160];
  snprintf(text, sizeof text, "VFIO_IOMMU_MAP_DMA vaddr 0x%llx iova 0x%llx size 0x%llx: ", (unsigned long long)m.vaddr,
           (unsigned long long)m.iova, (unsigned long long)m.size);
  klog_line(4, d->name, text + why,
            {"dma-map-refused", {{"driver", d->name}, {"vaddr", m.vaddr}, {"iova", m.iova}, {"size", m.size}, {"why", why}}});
  return err;
}

long map_dma(Domain *d, const vfio_iommu_type1_dma_map &m, bool real) {
  if (!m.size || (m.vaddr | m.iova | m.size) % kIommuPage || m.iova + m.size < m.iova) return refuse(d, -EINVAL, m, "not whole pages");
  if (!(m.flags & VFIO_DMA_MAP_FLAG_READ) || !(m.flags & VFIO_DMA_MAP_FLAG_WRITE))
    return refuse(d, -EINVAL, m, "only read-write maps (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)");
  if (!hugepages_held(d, m.vaddr, m.size))
    return refuse(d, -EFAULT, m, "not the driver's DMA memory (hugetlbfs, MAP_HUGETLB or dma_alloc_coherent)");
  {
    std::lock_guard<std::mutex> g(d->iommu_lock);
    if (d->iommu_maps.load() >= kDmaMapsPerDriver) {
      log_host_limit(d, HostLimit::dma_maps, kDmaMapsPerDriver);
      return -ENOSPC;  // as Linux's type-1 IOMMU past its dma_entry_limit
    }
    auto next = d->iommu.lower_bound(m.iova);
    if ((next != d->iommu.end() && next->first < m.iova + m.size) ||
        (next != d->iommu.begin() && std::prev(next)->first + std::prev(next)->second.size > m.iova))
      return refuse(d, -EEXIST, m, "overlaps a map");
    d->iommu[m.iova] = {m.size, (uintptr_t)m.vaddr};
    d->iommu_maps.fetch_add(1);
  }
  // A real device reaches DMA memory through the IOMMU of nooks' own container, which maps the domain's
  // window (the bus addresses pagemap answers); an IOVA of the driver's own choosing is mapped there too.
  if (real && m.iova != dma_bus_address(d, (void *)m.vaddr)) {
    if (long r = real_devices_map(d, m.iova, m.vaddr, m.size); r < 0) {
      std::lock_guard<std::mutex> g(d->iommu_lock);
      unmap_locked(d, d->iommu.find(m.iova));
      return refuse(d, r, m, std::string("the device's IOMMU refused it: ") + strerror((int)-r));
    }
  }
  d->objects.add({ObjectType::iova, (uintptr_t)m.iova, (size_t)m.size, m.vaddr, "VFIO_IOMMU_MAP_DMA"});
  return 0;
}

// Unmaps the maps inside [iova, iova+size): the bytes unmapped, or -EINVAL for a part of one.
long unmap_dma(Domain *d, uint64_t iova, uint64_t size) {
  std::vector<uint64_t> gone;
  uint64_t bytes = 0;
  {
    std::lock_guard<std::mutex> g(d->iommu_lock);
    // maps never overlap: only the one before iova and the last one inside may cross an end
    auto first = d->iommu.lower_bound(iova), past = d->iommu.lower_bound(iova + size);
    if (first != d->iommu.begin() && std::prev(first)->first + std::prev(first)->second.size > iova) return -EINVAL;
    if (past != first && std::prev(past)->first + std::prev(past)->second.size > iova + size) return -EINVAL;
    for (auto it = first; it != past;) {
      bytes += it->second.size;
      gone.push_back(it->first);
      unmap_locked(d, it++);
    }
  }
  for (uint64_t at : gone) {
    d->objects.remove(ObjectType::iova, at);
    real_devices_unmap(d, at);
  }
  return (long)bytes;
}

}  // namespace

long VfioContainer::ioctl(Domain *d, unsigned long request, unsigned long arg) {
  switch (request) {
    case VFIO_GET_API_VERSION: return VFIO_API_VERSION;
    case VFIO_CHECK_EXTENSION: return arg == VFIO_TYPE1_IOMMU || arg == VFIO_TYPE1v2_IOMMU;
    case VFIO_SET_IOMMU: {
      std::lock_guard<std::mutex> g(lock_);
      if (!groups_ || (arg != VFIO_TYPE1_IOMMU && arg != VFIO_TYPE1v2_IOMMU)) return -EINVAL;  // as Linux: a group first
      iommu_set_ = true;
      return 0;
    }
    case VFIO_IOMMU_GET_INFO: {
      if (!iommu_set()) return -EINVAL;
      auto info = ioctl_in<vfio_iommu_type1_info>(d, arg, "VFIO_IOMMU_GET_INFO");
      if (info.argsz < offsetof(vfio_iommu_type1_info, cap_offset)) return -EINVAL;
      info.flags = VFIO_IOMMU_INFO_PGSIZES;
      info.iova_pgsizes = kIommuPage | (2u << 20);
      info.cap_offset = 0;
      return ioctl_out(arg, info);
    }
    case VFIO_IOMMU_MAP_DMA: {
      if (!iommu_set()) return -EINVAL;
      bool real;
      {
        std::lock_guard<std::mutex> g(lock_);
        real = real_groups_ > 0;
      }
      return map_dma(d, ioctl_in<vfio_iommu_type1_dma_map>(d, arg, "VFIO_IOMMU_MAP_DMA"), real);
    }
    case VFIO_IOMMU_UNMAP_DMA: {
      if (!iommu_set()) return -EINVAL;
      auto u = ioctl_in<vfio_iommu_type1_dma_unmap>(d, arg, "VFIO_IOMMU_UNMAP_DMA");
      if (u.flags || (u.iova | u.size) % kIommuPage || u.iova + u.size < u.iova) return -EINVAL;
      long bytes = unmap_dma(d, u.iova, u.size);
      if (bytes < 0) return bytes;
      u.size = (uint64_t)bytes;
      return ioctl_out(arg, u);
    }
    default: return -ENOTTY;
  }
}

void VfioContainer::join(bool real) {
  std::lock_guard<std::mutex> g(lock_);
  groups_++;
  real_groups_ += real;
}

void VfioContainer::leave(bool real) {
  std::lock_guard<std::mutex> g(lock_);
  real_groups_ -= real;
  if (--groups_ == 0) iommu_set_ = false;  // as Linux: the last group out takes the IOMMU with it
}

bool VfioContainer::iommu_set() {
  std::lock_guard<std::mutex> g(lock_);
  return iommu_set_;
}

}  // namespace nooks
