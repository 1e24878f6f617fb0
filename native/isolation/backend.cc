#include "backend.h"

#include <sys/mman.h>

#include "mprotect/mprotect.h"
#include "none/none.h"
#include "pkey/pkey.h"
#include "process/process.h"

// The stubs of gen/kapi_stubs.S jump through this: the backend's upcall.
extern "C" {
__attribute__((visibility("hidden"))) const void *nooks_upcall_entry = nullptr;
}

namespace nooks {

IsolationBackend g_backend = kNoneBackend;

bool stack_writable(Domain *, void *stack, size_t n) { return mprotect(stack, n, PROT_READ | PROT_WRITE) == 0; }
void stack_unreachable(Domain *, void *stack, size_t n) { mprotect(stack, n, PROT_NONE); }

const IsolationBackend *isolation_backend(const std::string &mode) {
  for (const IsolationBackend *b : {&kNoneBackend, &kPkeyBackend, &kMprotectBackend, &kProcessBackend})
    if (mode == isolation_name(b->mode)) return b;
  return nullptr;
}

void isolation_select(const IsolationBackend &b) {
  g_backend = b;
  nooks_upcall_entry = b.upcall;
}

}  // namespace nooks
