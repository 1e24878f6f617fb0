// The real 82540EM (or QEMU's) has no PCI function reset: when its driver
// fails, the kernel resets it through BAR 0 as the datasheet says (interrupts
// masked, receiver and transmitter off, CTRL.RST, which clears itself).
#include <nooks/kapi.h>
#include <time.h>

#include "../../dev/host_pci.h"
#include <nooks/hw/e1000_regs.h>

namespace nooks {
namespace {

void e1000_reset(volatile uint8_t *bar0, uint64_t size) {
  if (size < E1000_BAR0_SIZE) return;
  auto reg = [bar0](uint32_t off) -> volatile uint32_t & { return *(volatile uint32_t *)(bar0 + off); };
  reg(E1000_IMC) = 0xffffffff;
  reg(E1000_RCTL) = 0;
  reg(E1000_TCTL) = 0;
  reg(E1000_CTRL) = reg(E1000_CTRL) | E1000_CTRL_RST;
  for (int i = 0; i < 100 && (reg(E1000_CTRL) & E1000_CTRL_RST); i++) {
    timespec ts = {0, 100 * 1000};
    nanosleep(&ts, nullptr);
  }
  reg(E1000_IMC) = 0xffffffff;
  uint32_t icr = reg(E1000_ICR);  // reading clears the causes
  (void)icr;
}

PciResetQuirk quirk(E1000_VENDOR_INTEL, E1000_DEV_82540EM, e1000_reset);

}  // namespace
}  // namespace nooks
