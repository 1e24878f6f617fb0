#include "none.h"

#include "../../xpc/crossing.h"

extern "C" void nooks_upcall_direct();
extern "C" void nooks_xpc_landing_plain();

namespace nooks {
namespace {

int enter(ThreadCtx *, DomainThread *, EntryFrame *, XpcCall *c, bool) {
  using Fn = uint64_t (*)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
  c->ret = ((Fn)c->fn)(c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5]);
  return 0;
}

}  // namespace

const IsolationBackend kNoneBackend = {
    Isolation::none,
    /*contains_faults=*/false,
    /*shares_memory=*/false,
    /*flips_page_protection=*/false,
    /*no_real_devices=*/nullptr,
    backend_nothing::unusable_reason,
    /*unusable_code=*/nullptr,
    xpc_cross<nullptr, enter>,
    (const void *)nooks_upcall_direct,
    (const void *)nooks_xpc_landing_plain,
    backend_nothing::thread,
    backend_nothing::held,
    backend_nothing::none,
    backend_nothing::held,
    backend_nothing::none,
    backend_nothing::domain,
    backend_nothing::domain,
    backend_nothing::none,
    backend_nothing::thread_added,
    backend_nothing::adopt,
    backend_nothing::start,
    backend_nothing::domain,
};

}  // namespace nooks
