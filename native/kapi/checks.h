// Parameter checks used by the generated wrappers (gen/kapi_wrappers.inc).
// A failed check ends the calling driver's crossing with a `bad-call` fault.
#pragma once
#include <cstddef>
#include <cstdint>

#include <nooks/kapi.h>

#include "../domain/borrowed_stack.h"
#include "../xpc/xpc.h"
#include "objects.h"

namespace nooks {

void check_writable(Domain *d, const volatile void *p, size_t n, bool nullable, const char *fn, const char *param);
// The driver may write [p, p+n), and it stays so until the calling kernel call is over or waits: memory that
// outlives every thread, the caller's own stack, or another thread's, borrowed (native/domain/borrowed_stack.h).
bool writable_in_call(Domain *d, uintptr_t p, size_t n);
// A class object the kernel keeps and reads at any time (a disk, an interface, a port, a pcm): writable memory
// that outlives every thread (heap, DMA, data, bss), never a stack, which goes when its thread ends.
void check_lasting(Domain *d, const volatile void *p, size_t n, const char *fn, const char *param);
void check_readable(Domain *d, const volatile void *p, size_t n, bool nullable, const char *fn, const char *param);
// Checks the string s (at most max bytes with its NUL) and copies it into copy
// (max bytes): the call's body works on the copy, which the driver cannot change.
void copy_string(Domain *d, const char *s, size_t max, char *copy, const char *fn, const char *param);
void check_size(size_t n, size_t max, const char *fn, const char *param);
void check_driver_fn(Domain *d, const void *fn_ptr, bool nullable, const char *fn, const char *param);
void check_object(Domain *d, uintptr_t key, ObjectType type, bool nullable, const char *fn, const char *param);

// After every kernel call: the stacks it borrowed returned (borrowed_stack.h),
// and leave at once if the domain failed meanwhile or recovery (or the
// watchdog) asked this thread to leave it.
inline void after_call(Domain *d) {
  ThreadCtx *t = nooks_tls_ctx;
  if (t->borrowed_n) return_stacks(t, t->depth);
  if (t->abort_domain.load(std::memory_order_relaxed) == d->id || d->state.load(std::memory_order_relaxed) == DomainState::failed)
    xpc_abort_current(d);
}

// The calling thread, inside d, which has failed, asks itself to leave d, if
// nothing has asked it yet: what a teardown would ask it (checks.cc).
void ask_to_leave_failed(ThreadCtx *t, Domain *d);

// True when a waiting kernel call should stop waiting (see after_call).
// Stopping because d failed, the thread asks itself to leave: `none`'s return
// path (none_x86_64.S) looks only at requests, and must not go back into the
// driver code that the failure cut short (a wait ended only by the failure:
// -EINTR), whose teardown's request may not have come yet.
inline bool should_abort(Domain *d) {
  ThreadCtx *t = nooks_tls_ctx;
  if (t && t->abort_domain.load(std::memory_order_relaxed) == d->id) return true;
  if (d->state.load(std::memory_order_relaxed) != DomainState::failed) return false;
  if (t) ask_to_leave_failed(t, d);
  return true;
}

// A kernel call found the driver's request impossible: with isolation this is
// a bad-call fault; without (`none`) it is what it would be in a real kernel, a BUG.
// It leaves the domain at once, skipping destructors: never call it (or a
// check) while holding a lock.
[[noreturn]] void kernel_bug(Domain *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace nooks
