#include "stalls.h"

namespace nooks {

bool Stalls::overdue(ThreadKey t, uint64_t entries, bool waiting, uint64_t now, uint64_t budget_ms) {
  Seen &s = seen_[t.ctx];
  if (s.serial != t.serial || s.entries != entries || waiting) s = {t.serial, entries, now, 0};  // progress, or a new thread where a gone one was
  if (now - s.since <= budget_ms) return false;
  if (s.asked && now - s.asked < 100) return false;  // asked again while it stays stuck
  s.asked = now;
  return true;
}

}  // namespace nooks
