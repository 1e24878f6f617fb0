#include "text_patch.h"

#include <dlfcn.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <vector>

namespace nooks {

long pkru_sequence_at(const uint8_t *t, size_t n) {
  for (size_t k = 0; k + 2 < n; k++) {
    if (t[k] != 0x0f) continue;
    bool wrpkru = t[k + 1] == 0x01 && t[k + 2] == 0xef;
    bool xrstor = t[k + 1] == 0xae && ((t[k + 2] >> 3) & 7) == 5 && (t[k + 2] >> 6) != 3;
    // without its f3 prefix the register form of /2 and /3 is undefined: refusing it costs nothing
    bool wrbase = t[k + 1] == 0xae && (t[k + 2] & 0xf0) == 0xd0;  // mod 3, reg 2 or 3
    if (wrpkru || xrstor || wrbase) return (long)k;
  }
  return -1;
}

const char *pkru_sequence_name(const uint8_t *t) {
  if (t[1] == 0x01) return "WRPKRU";
  if (((t[2] >> 3) & 7) == 5) return "XRSTOR";
  return ((t[2] >> 3) & 7) == 2 ? "WRFSBASE" : "WRGSBASE";
}

namespace {

// Whether the byte at a is executable as mapped: dlopen maps a text
// segment's whole pages, so the bytes of its first and last pages outside it
// too, and the load's scan read those pages (loader.cc scan_text).
bool executable(const Domain *d, uintptr_t a) {
  for (const Range &r : d->text)
    if (Range{page_down(r.lo), page_up(r.hi)}.contains(a, 1)) return true;
  return false;
}

// Text is mapped read+execute: open it for writing around the copy. Other
// threads may be executing it meanwhile, so it stays executable throughout.
bool write_text(uintptr_t addr, const uint8_t *bytes, size_t n) {
  uintptr_t lo = page_down(addr), hi = page_up(addr + n);
  if (mprotect((void *)lo, hi - lo, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) return false;
  memcpy((void *)addr, bytes, n);
  __builtin___clear_cache((char *)addr, (char *)addr + n);
  return mprotect((void *)lo, hi - lo, PROT_READ | PROT_EXEC) == 0;
}

}  // namespace

bool text_patch(Domain *d, uint64_t offset, const uint8_t *bytes, size_t n, bool transient, std::string *why) {
  link_map *lm = nullptr;
  if (!d->handle || dlinfo(d->handle, RTLD_DI_LINKMAP, &lm) != 0 || !lm) {
    *why = "the driver is not loaded";
    return false;
  }
  uintptr_t addr = lm->l_addr + offset;
  bool inside = false;
  for (const Range &r : d->text) inside = inside || r.contains(addr, n);
  if (n == 0 || !inside) {
    *why = "the patch is not inside the driver's text";
    return false;
  }
  // The patched bytes with two on each side, as executable as they are: a
  // sequence may straddle the edge, into a page's bytes past the segment.
  uintptr_t lo = addr, hi = addr + n;
  for (int k = 0; k < 2; k++) {
    if (executable(d, lo - 1)) lo--;
    if (executable(d, hi)) hi++;
  }
  std::vector<uint8_t> window((const uint8_t *)lo, (const uint8_t *)hi);
  memcpy(window.data() + (addr - lo), bytes, n);
  if (pkru_sequence_at(window.data(), window.size()) >= 0) {
    *why = "the patch would create a WRPKRU, XRSTOR, WRFSBASE or WRGSBASE instruction sequence";
    return false;
  }
  TextPatch p{addr, std::vector<uint8_t>((const uint8_t *)addr, (const uint8_t *)addr + n), transient};
  if (!write_text(addr, bytes, n)) {
    *why = std::string("mprotect: ") + strerror(errno);
    return false;
  }
  std::lock_guard<std::mutex> g(d->patches_lock);
  d->patches.push_back(std::move(p));
  return true;
}

void text_revert_transient(Domain *d) {
  std::lock_guard<std::mutex> g(d->patches_lock);
  // Newest first: a later patch's original bytes may include an earlier patch.
  for (auto p = d->patches.rbegin(); p != d->patches.rend(); ++p)
    if (p->transient) write_text(p->addr, p->original.data(), p->original.size());
  std::vector<TextPatch> kept;
  for (TextPatch &p : d->patches)
    if (!p.transient) kept.push_back(std::move(p));
  d->patches = std::move(kept);
}

}  // namespace nooks
