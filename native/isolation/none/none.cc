#include "none.h"

#include "../../xpc/crossing.h"

extern "C" int nooks_xpc_enter_plain(nooks::EntryFrame *f, nooks::XpcCall *c, uintptr_t stack);
extern "C" void nooks_upcall_direct();
extern "C" void nooks_xpc_landing_plain();

namespace nooks {
namespace {

// On the thread's domain stack, as in every mode: driver code finds its
// thread's area from there (<nooks/thread_area.h>).
int enter(ThreadCtx *, DomainThread *dt, EntryFrame *f, XpcCall *c, bool) { return nooks_xpc_enter_plain(f, c, dt->sp & ~(uintptr_t)15); }

}  // namespace

const IsolationBackend kNoneBackend = {
    .mode = Isolation::none,
    .call = xpc_cross<nullptr, enter>,
    .upcall = (const void *)nooks_upcall_direct,
    .landing = (const void *)nooks_xpc_landing_plain,
    .contains_faults = false,
};

}  // namespace nooks
