// Register access for emulated devices: ioread/iowrite on an I/O cookie
// (kapi.h) end up here and go to the device model that owns the cookie; so
// does a load or store trapped in a BAR the driver mapped (native/trap/mmio.h).
#include "../dev/iomem.h"
#include "../trap/mmio.h"
#include "../trap/x86_decode.h"
#include "checks.h"

using namespace nooks;

extern "C" u32 kapi_nooks_io_read(const volatile void *addr, unsigned int width) {
  Domain *d = calling_domain();
  uint64_t v = 0;
  if (width > 4 || !iomem_access(d, (uintptr_t)addr, width, false, &v))
    kernel_bug(d, "ioread%u(%p): no emulated device register of this driver there", width * 8, (const void *)addr);
  return (u32)v;
}

extern "C" void kapi_nooks_io_write(volatile void *addr, u32 value, unsigned int width) {
  Domain *d = calling_domain();
  uint64_t v = value;
  if (width > 4 || !iomem_access(d, (uintptr_t)addr, width, true, &v))
    kernel_bug(d, "iowrite%u(%p): no emulated device register of this driver there", width * 8, (void *)addr);
}

extern "C" void kapi_nooks_mmio_emulate(struct nooks_mmio_frame *f) {
  Domain *d = calling_domain();
  X86Access a = mmio_access_of(f);
  uintptr_t addr = f->addr, rip = f->rip;  // read once: the frame is the driver's memory
  uint64_t value = f->value;
  if (!iomem_access(d, addr, a.width, a.store, &value))
    kernel_bug(d, "%s of %u bytes at %p by the instruction %s at %p: not inside an emulated BAR this driver mapped",
               a.store ? "store" : "load", a.width, (void *)addr, mmio_instruction(d, rip).c_str(), (void *)rip);
  if (!a.store) f->gpr[a.reg] = x86_load_result(a, f->gpr[a.reg], value);
}
