#include "e1000_phy.h"

#include <cstring>

#include <nooks/kapi.h>
#include <nooks/hw/e1000_regs.h>

namespace nooks {

uint32_t E1000Phy::access(uint32_t v, bool cable) {
  unsigned reg = (v >> E1000_MDIC_REG_SHIFT) & 0x1f, phy = (v >> E1000_MDIC_PHY_SHIFT) & 0x1f;
  bool writable = reg == MII_BMCR || reg == MII_ANAR || reg == MII_CTRL1000 || reg == M88_PHY_SPEC_CTRL;
  bool readable = writable || reg == MII_BMSR || reg == MII_PHYID1 || reg == MII_PHYID2 || reg == MII_ANLPAR ||
                  reg == MII_STAT1000 || reg == M88_PHY_SPEC_STATUS;
  if (phy != E1000_PHY_ADDR || !readable || ((v & E1000_MDIC_OP_WRITE) && !writable))
    return v | E1000_MDIC_READY | E1000_MDIC_ERROR;
  if (v & E1000_MDIC_OP_WRITE) {
    regs_[reg] = (uint16_t)(v & E1000_MDIC_DATA_MASK);
    if (reg == MII_BMCR) regs_[reg] &= ~(MII_BMCR_RESET | MII_BMCR_RESTART_AN);  // self-clearing
    return v | E1000_MDIC_READY;
  }
  uint16_t data = regs_[reg];
  if (reg == MII_BMSR) data |= cable ? MII_BMSR_LINK | MII_BMSR_AN_COMPLETE : 0;
  if (reg == M88_PHY_SPEC_STATUS) data |= cable ? M88_PSSR_LINK : 0;
  return (v & ~E1000_MDIC_DATA_MASK) | data | E1000_MDIC_READY;
}

void E1000Phy::power_on() {
  memset(regs_, 0, sizeof regs_);
  regs_[MII_BMCR] = 0x1140;              // auto-negotiation on, 1000 Mb/s, full duplex
  regs_[MII_BMSR] = 0x7949;              // its abilities (link and AN-complete bits: the cable)
  regs_[MII_PHYID1] = 0x0141;            // Marvell
  regs_[MII_PHYID2] = 0x0c20;            // 88E1011, as in the 82540EM
  regs_[MII_ANAR] = 0x0de1;
  regs_[MII_ANLPAR] = 0x01e0;
  regs_[MII_CTRL1000] = 0x0e00;
  regs_[MII_STAT1000] = 0x3c00;
  regs_[M88_PHY_SPEC_CTRL] = 0x0360;
  regs_[M88_PHY_SPEC_STATUS] = 0xa000;  // 1000 Mb/s, full duplex (link bit: the cable)
}

}  // namespace nooks
