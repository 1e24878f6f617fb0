#include "borrowed_stack.h"

#include "../kapi/log.h"
#include "../xpc/xpc.h"

namespace nooks {

bool borrow_stack(Domain *d, uintptr_t p, size_t n) {
  ThreadCtx *t = nooks_tls_ctx;
  for (uint32_t i = 0; i < t->borrowed_n; i++) {  // this call's already (a string, checked byte by byte)
    const BorrowedStack &b = t->borrowed[i];
    if (b.depth == t->depth && Range{b.dt->stack_lo, b.dt->stack_hi}.contains(p, n)) return true;
  }
  std::lock_guard<std::mutex> g(d->threads_lock);
  for (DomainThread *dt : d->threads)
    if (Range{dt->stack_lo, dt->stack_hi}.contains(p, n)) {
      if (t->borrowed_n == kMaxBorrowedStacks) return false;
      dt->borrowers++;
      t->borrowed[t->borrowed_n++] = {dt, t->depth};
      return true;
    }
  return false;
}

void return_stacks(ThreadCtx *t, uint32_t depth) {
  uint32_t kept = t->borrowed_n;
  while (kept && t->borrowed[kept - 1].depth >= depth) kept--;
  if (kept == t->borrowed_n) return;
  DomainMemoryAccess access;  // a stack closed here closes as domain_thread_release's would
  for (uint32_t i = kept; i < t->borrowed_n; i++) {
    DomainThread *dt = t->borrowed[i].dt;
    Domain *d = dt->domain;
    bool last = false;
    {
      std::lock_guard<std::mutex> g(d->threads_lock);
      if ((last = --dt->borrowers == 0 && dt->ended)) domain_stack_close(dt);
    }
    if (last) klog(6, "nooks: %s: a kernel call returned the stack of a thread that ended meanwhile: it closes now", d->name.c_str());
  }
  t->borrowed_n = kept;
}

}  // namespace nooks
