// Accesses to driver memory whose fault ends the access (guarded.h).
#include "guarded.h"

#include <atomic>

#include "../isolation/pkey/pkru.h"

namespace nooks {

bool guarded_access(GuardedAccess **mark, bool pkey, const std::function<void()> &access, uintptr_t *fault_addr) {
  GuardedAccess g;
  g.pkey = pkey;
  if (pkey) g.pkru = rdpkru();
  // No signal mask saved: the fault handler runs SA_NODEFER, so it blocks nothing to restore.
  if (sigsetjmp(g.landing, 0)) {
    *mark = nullptr;
    *fault_addr = g.fault_addr;
    return false;
  }
  *mark = &g;
  std::atomic_signal_fence(std::memory_order_seq_cst);  // set before the access (the handler reads it)
  access();
  std::atomic_signal_fence(std::memory_order_seq_cst);
  *mark = nullptr;
  return true;
}

void resume_guarded(GuardedAccess *g, uintptr_t fault_addr) {
  g->fault_addr = fault_addr;
  if (g->pkey) wrpkru(g->pkru);  // the handler ran with Linux's signal PKRU
  siglongjmp(g->landing, 1);
}

}  // namespace nooks
