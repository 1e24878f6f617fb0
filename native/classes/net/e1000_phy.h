// The 82540EM's PHY (a Marvell 88E1011) as the emulated e1000 (e1000_model.cc)
// presents it through MDIC: the registers a driver reads to identify it and
// see the link, with QEMU's e1000 values; its link is the cable
// (auto-negotiation done at once).
#pragma once
#include <cstdint>

namespace nooks {

class E1000Phy {
 public:
  // The registers at power-on.
  void power_on();
  // One MDIC access (the register's value `mdic`), completed at once: READY
  // set, and for a read the data. Another PHY address, a register it has not,
  // or a write to a read-only one: ERROR.
  uint32_t access(uint32_t mdic, bool cable);

 private:
  uint16_t regs_[32] = {};
};

}  // namespace nooks
