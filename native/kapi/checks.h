// Parameter checks used by the generated wrappers (gen/kapi_wrappers.inc).
// A failed check ends the calling driver's crossing with a `bad-call` fault.
#pragma once
#include <cstddef>
#include <cstdint>

#include <nooks/kapi.h>

#include "../xpc/xpc.h"
#include "objects.h"

namespace nooks {

void check_writable(Domain *d, const volatile void *p, size_t n, bool nullable, const char *fn, const char *param);
void check_readable(Domain *d, const volatile void *p, size_t n, bool nullable, const char *fn, const char *param);
void check_string(Domain *d, const char *s, size_t max, const char *fn, const char *param);
void check_size(size_t n, size_t max, const char *fn, const char *param);
void check_driver_fn(Domain *d, const void *fn_ptr, bool nullable, const char *fn, const char *param);
void check_object(Domain *d, uintptr_t key, ObjectType type, bool nullable, const char *fn, const char *param);

// After every kernel call: leave at once if the domain failed meanwhile or
// recovery (or the watchdog) asked this thread to leave it.
inline void after_call(Domain *d) {
  ThreadCtx *t = nooks_tls_ctx;
  if (t->abort_domain.load(std::memory_order_relaxed) == d->id || d->state.load(std::memory_order_relaxed) == DomainState::failed)
    xpc_abort_current(d);
}

// True when a waiting kernel call should stop waiting (see after_call).
inline bool should_abort(Domain *d) {
  ThreadCtx *t = nooks_tls_ctx;
  return (t && t->abort_domain.load(std::memory_order_relaxed) == d->id) ||
         d->state.load(std::memory_order_relaxed) == DomainState::failed;
}

// A kernel call found the driver's request impossible: with isolation this is
// a bad-call fault; without (`none`) it is what it would be in a real kernel, a BUG.
// It leaves the domain at once, skipping destructors: never call it (or a
// check) while holding a lock.
[[noreturn]] void kernel_bug(Domain *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace nooks
