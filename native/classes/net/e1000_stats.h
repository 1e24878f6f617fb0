// The emulated e1000's statistics counters (e1000_model.cc), as the 8254x
// manual says: they stop at their maximum rather than wrap; a read clears
// them, and the read of a 64-bit counter's high half clears both halves (the
// low half is read first). Registers from E1000_CRCERRS to E1000_STATS_END.
#pragma once
#include <cstddef>
#include <cstdint>

namespace nooks {

class E1000Stats {
 public:
  void power_on();
  // A driver's read of counter register `reg`.
  uint32_t read(unsigned reg);
  void count(unsigned reg);
  // Adds to the 64-bit counter whose low half is `lo_reg`.
  void count64(unsigned lo_reg, uint64_t add);
  // A frame of `len` bytes (FCS included) into the size bins from `first` (PRC64 or PTC64).
  void count_size(unsigned first, size_t len);

 private:
  uint32_t &stat(unsigned reg);
  uint32_t stats_[64] = {};
};

}  // namespace nooks
