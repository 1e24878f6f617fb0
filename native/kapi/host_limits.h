// What one driver can make the host allocate outside its memory limit, each
// bounded (docs/drivers.md, docs/devices.md): a call past a limit is refused
// (its error, as Linux gives where Linux has the limit), logged once per
// driver and limit with a `host-limit` event.
#pragma once
#include <cstdint>

#include "../domain/domain.h"

namespace nooks {

// The bytes of register windows one driver may hold of each kind (pci_iomap's
// cookies; trapped BAR windows: mmap of resource<N> or a VFIO region), each
// window whole pages and a guard page: a slice of its own per driver, so that
// no driver's windows crowd out another's.
constexpr uint64_t kIoWindowBytesPerDriver = 16ull << 20;
// The VFIO DMA maps one driver may hold, as Linux's type-1 IOMMU's dma_entry_limit (ENOSPC past it).
constexpr size_t kDmaMapsPerDriver = 65535;

enum class HostLimit { iomap_windows, bar_windows, dma_maps };

// Logs that d reached the limit `limit` of `which` (once per driver and limit).
void log_host_limit(Domain *d, HostLimit which, uint64_t limit);

}  // namespace nooks
