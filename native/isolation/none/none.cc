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
    .mode = Isolation::none,
    .call = xpc_cross<nullptr, enter>,
    .upcall = (const void *)nooks_upcall_direct,
    .landing = (const void *)nooks_xpc_landing_plain,
    .contains_faults = false,
};

}  // namespace nooks
