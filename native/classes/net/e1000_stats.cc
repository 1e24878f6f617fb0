#include "e1000_stats.h"

#include <cstring>

#include <nooks/kapi.h>
#include <nooks/hw/e1000_regs.h>

namespace nooks {

namespace {
bool high_half(unsigned reg) { return reg == E1000_GORCH || reg == E1000_GOTCH || reg == E1000_TORH || reg == E1000_TOTH; }
bool low_half(unsigned reg) { return high_half(reg + 4); }
}  // namespace

uint32_t &E1000Stats::stat(unsigned reg) { return stats_[(reg - E1000_CRCERRS) / 4]; }

void E1000Stats::power_on() { memset(stats_, 0, sizeof stats_); }

uint32_t E1000Stats::read(unsigned reg) {
  uint32_t v = stat(reg);
  if (low_half(reg)) return v;
  stat(reg) = 0;
  if (high_half(reg)) stat(reg - 4) = 0;
  return v;
}

void E1000Stats::count(unsigned reg) {
  if (stat(reg) != UINT32_MAX) stat(reg)++;
}

void E1000Stats::count64(unsigned lo_reg, uint64_t add) {
  uint64_t v = stat(lo_reg) | ((uint64_t)stat(lo_reg + 4) << 32);
  v = v + add < v ? UINT64_MAX : v + add;
  stat(lo_reg) = (uint32_t)v;
  stat(lo_reg + 4) = (uint32_t)(v >> 32);
}

void E1000Stats::count_size(unsigned first, size_t len) {
  static const size_t upper[] = {64, 127, 255, 511, 1023};
  unsigned bin = 0;
  while (bin < 5 && len > upper[bin]) bin++;
  count(first + 4 * bin);
}

}  // namespace nooks
