// Register access for emulated devices: ioread/iowrite on an I/O cookie
// (kapi.h) end up here and go to the device model that owns the cookie.
#include "../dev/iomem.h"
#include "checks.h"

using namespace nooks;

extern "C" u32 kapi_nooks_io_read(const volatile void *addr, unsigned int width) {
  Domain *d = calling_domain();
  u32 v = 0;
  if (!iomem_access(d, (uintptr_t)addr, width, false, &v))
    kernel_bug(d, "ioread%u(%p): no emulated device register of this driver there", width * 8, (const void *)addr);
  return v;
}

extern "C" void kapi_nooks_io_write(volatile void *addr, u32 value, unsigned int width) {
  Domain *d = calling_domain();
  if (!iomem_access(d, (uintptr_t)addr, width, true, &value))
    kernel_bug(d, "iowrite%u(%p): no emulated device register of this driver there", width * 8, (void *)addr);
}
