// PKRU access (Intel protection keys). Two bits per key: AD (access disable)
// and WD (write disable), key k at bits 2k and 2k+1.
#pragma once
#include <cstdint>

namespace nooks {

inline uint32_t rdpkru() {
  uint32_t eax, edx;
  asm volatile("rdpkru" : "=a"(eax), "=d"(edx) : "c"(0));
  return eax;
}

inline void wrpkru(uint32_t v) { asm volatile("wrpkru" : : "a"(v), "c"(0), "d"(0) : "memory"); }

constexpr uint32_t pkru_ad(int key) { return 1u << (2 * key); }
constexpr uint32_t pkru_wd(int key) { return 2u << (2 * key); }
constexpr uint32_t pkru_both(int key) { return 3u << (2 * key); }

}  // namespace nooks
