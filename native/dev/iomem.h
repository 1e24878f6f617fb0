// Emulated register windows: a device model claims a range of addresses for
// one driver and answers its accesses. Two kinds: I/O cookies (at or above
// NOOKS_IOMEM_EMU_BASE: what pci_iomap returns; the driver's ioread/iowrite
// send them to the kernel), and trapped windows (what a driver's mmap of a
// BAR returns: addresses in a reservation no one can access, so that each
// load or store faults and is emulated: native/trap/mmio.cc).
#pragma once
#include <cstdint>
#include <functional>

#include "../domain/domain.h"

namespace nooks {

struct IoWindow {
  uintptr_t base = 0;
  uint64_t size = 0;
  int domain = -1;  // the only driver allowed to touch it
  std::function<uint32_t(uint64_t off, unsigned width)> read;
  std::function<void(uint64_t off, uint32_t value, unsigned width)> write;
};

// Returns the cookie of the new window (0: its driver holds
// kIoWindowBytesPerDriver of them already, host_limits.h).
uintptr_t iomem_map(IoWindow w);
// Returns the address of the new trapped window (0: its driver holds
// kIoWindowBytesPerDriver of them already, or there is no reservation).
uintptr_t iomem_map_trapped(IoWindow w);
void iomem_unmap(uintptr_t base);
// Whether addr is in the reservation of trapped windows. Async-signal-safe.
bool iomem_trapped(uintptr_t addr);
// One register access by driver d; false if d has no window at [addr, addr +
// width) or the width is not 1, 2, 4 or 8 (8: two 4-byte accesses, low first,
// as a PCI bridge splits a 64-bit one).
bool iomem_access(Domain *d, uintptr_t addr, unsigned width, bool write, uint64_t *value);

}  // namespace nooks
