#include "borrowed_stack.h"

#include <utility>

#include "../kapi/log.h"
#include "../xpc/xpc.h"

namespace nooks {

bool borrow_stack(Domain *d, uintptr_t p, size_t n) {
  ThreadCtx *t = nooks_tls_ctx;
  // Borrowed already, by this call (a string, checked byte by byte) or by a call it runs inside, which returns it later.
  for (uint32_t i = 0; i < t->borrowed_n; i++) {
    const DomainThread *dt = t->borrowed[i].dt;
    if (dt->domain == d && Range{dt->stack_lo, dt->stack_hi}.contains(p, n)) return true;
  }
  std::lock_guard<std::mutex> g(d->threads_lock);
  for (DomainThread *dt : d->threads)
    if (Range{dt->stack_lo, dt->stack_hi}.contains(p, n)) {
      // Under none nothing is contained (a stack gone mid-call faults the host, as any driver bug there), and its
      // kernel calls are bare, with no after_call to return a borrow: none is made.
      if (g_backend.mode == Isolation::none) return true;
      if (t->borrowed_n == kMaxBorrowedStacks) return false;
      dt->borrowers++;
      t->borrowed[t->borrowed_n++] = {dt, t->depth};
      return true;
    }
  return false;
}

void return_stacks(ThreadCtx *t, uint32_t depth) {
  uint32_t kept = 0;  // those kept moved first, whatever order the table has
  for (uint32_t i = 0; i < t->borrowed_n; i++)
    if (t->borrowed[i].depth < depth) std::swap(t->borrowed[kept++], t->borrowed[i]);
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
