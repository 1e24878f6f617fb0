// Emulated register windows: a device model claims a range of I/O cookies
// (at or above NOOKS_IOMEM_EMU_BASE) for one driver and answers its accesses.
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

// Returns the cookie of the new window.
uintptr_t iomem_map(IoWindow w);
void iomem_unmap(uintptr_t base);
// One register access by driver d; false if d has no window at addr or the width is not 1, 2 or 4.
bool iomem_access(Domain *d, uintptr_t addr, unsigned width, bool write, uint32_t *value);

}  // namespace nooks
