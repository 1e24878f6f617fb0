#include "none.h"

#include "../../kapi/checks.h"
#include "../../xpc/crossing.h"

extern "C" int nooks_xpc_enter_plain(nooks::EntryFrame *f, nooks::XpcCall *c, uintptr_t stack);
extern "C" void nooks_upcall_direct();
extern "C" void nooks_xpc_landing_plain();

// Back from a kernel call whose thread was asked to leave a domain
// (none_x86_64.S): leaves the calling domain if it is that one.
extern "C" void nooks_none_after_call() { nooks::after_call(nooks::calling_domain()); }

namespace nooks {
namespace {

// On the thread's domain stack, as in every mode: driver code finds its
// thread's area from there (<nooks/thread_area.h>).
int enter(ThreadCtx *, DomainThread *dt, EntryFrame *f, XpcCall *c, bool) { return nooks_xpc_enter_plain(f, c, dt->sp & ~(uintptr_t)15); }

}  // namespace

const IsolationBackend kNoneBackend = {
    .mode = Isolation::none,
    .call = xpc_cross<nullptr, nullptr, enter>,
    .upcall = (const void *)nooks_upcall_direct,
    .landing = (const void *)nooks_xpc_landing_plain,
    .contains_faults = false,
};

}  // namespace nooks
