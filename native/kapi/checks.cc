#include "checks.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

#include "../domain/borrowed_stack.h"
#include "log.h"

namespace nooks {

static void reject(Domain *d, const char *fn, const char *param, const char *why, const volatile void *p) {
  xpc_fail_current(d, FaultKind::bad_call, "%s(%s=%p): %s", fn, param, (const void *)p, why);
}

// [p, p+n) in a stack of d's that stays accessible until the calling kernel call is over: its own thread's, or
// another thread's, borrowed for the call (borrowed_stack.h).
static bool on_a_stack(Domain *d, uintptr_t p, size_t n) {
  const DomainThread *own = nooks_tls_ctx ? nooks_tls_ctx->cur : nullptr;
  return (own && own->domain == d && Range{own->stack_lo, own->stack_hi}.contains(p, n)) || borrow_stack(d, p, n);
}

void check_writable(Domain *d, const volatile void *p, size_t n, bool nullable, const char *fn, const char *param) {
  if (!p && nullable) return;
  if (!writable_in_call(d, (uintptr_t)p, n)) reject(d, fn, param, "pointer outside the driver's writable memory", p);
}

bool writable_in_call(Domain *d, uintptr_t p, size_t n) { return d->lasting(p, n) || on_a_stack(d, p, n); }

// The driver may read [p, p+n) until the calling kernel call is over.
static bool readable_in_call(Domain *d, uintptr_t p, size_t n) { return d->in_image(p, n) || writable_in_call(d, p, n); }

void check_lasting(Domain *d, const volatile void *p, size_t n, const char *fn, const char *param) {
  check_writable(d, p, n, false, fn, param);
  if (!d->lasting((uintptr_t)p, n)) reject(d, fn, param, "on a thread's stack: the kernel keeps this object, which must outlive its threads", p);
}

void check_readable(Domain *d, const volatile void *p, size_t n, bool nullable, const char *fn, const char *param) {
  if (!p && nullable) return;
  if (!readable_in_call(d, (uintptr_t)p, n)) reject(d, fn, param, "pointer outside the driver's memory", p);
}

void copy_string(Domain *d, const char *s, size_t max, char *copy, const char *fn, const char *param) {
  // Byte by byte: a string may end at the edge of the driver's memory. Each byte
  // is read once, into the copy: the driver's other threads may change the string meanwhile.
  for (size_t i = 0; i < max; i++) {
    if (!readable_in_call(d, (uintptr_t)s + i, 1)) reject(d, fn, param, "string outside the driver's memory", s);
    copy[i] = ((const volatile char *)s)[i];
    if (copy[i] == 0) return;
  }
  reject(d, fn, param, "string too long or not terminated", s);
}

void check_size(size_t n, size_t max, const char *fn, const char *param) {
  if (n > max) {
    Domain *d = calling_domain();
    xpc_fail_current(d, FaultKind::bad_call, "%s(%s=%zu): size above the limit of %zu", fn, param, n, max);
  }
}

void check_driver_fn(Domain *d, const void *fp, bool nullable, const char *fn, const char *param) {
  if (!fp && nullable) return;
  if (!d->in_text((uintptr_t)fp)) reject(d, fn, param, "callback is not a function of the driver", fp);
}

void check_object(Domain *d, uintptr_t key, ObjectType type, bool nullable, const char *fn, const char *param) {
  if (!key && nullable) return;
  // One on another thread's stack is the call's until it returns, as a buffer there (on_a_stack): found, then
  // borrowed, it was there still when borrowed (a stack's close forgets them under threads_lock, domain_stack_close).
  bool in_stacks = key - d->stacks < d->memory.hi - d->stacks;  // the stacks end the domain's reservation
  if (!d->objects.find(type, key) || (in_stacks && !on_a_stack(d, key, 1))) {
    char why[96];
    snprintf(why, sizeof why, "not a %s object the driver holds%s", object_type_name(type),
             type == ObjectType::memory ? " (double free, or not from kmalloc)" : "");
    reject(d, fn, param, why, (const void *)key);
  }
}

void kernel_bug(Domain *d, const char *fmt, ...) {
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (g_backend.contains_faults && d) xpc_fail_current(d, FaultKind::bad_call, "%s", msg);
  fprintf(stderr, "nooks: kernel BUG in driver %s: %s\n", d ? d->name.c_str() : "?", msg);
  abort();
}

void ask_to_leave_failed(ThreadCtx *t, Domain *d) {
  DomainThread *dt = t->dts[d->id];
  if (!dt || __atomic_load_n(&dt->depth, __ATOMIC_ACQUIRE) == 0) return;  // not inside d: nothing to leave
  int none = -1;
  if (t->abort_domain.load() != none) return;  // asked already (the teardown, the watchdog): that request stands
  // As trap_abort_thread's, without its signal and wake: this thread is not in driver code, nor asleep.
  t->abort_kind.store((int)FaultKind::aborted);
  t->abort_fails.store(false);  // d has failed already
  t->abort_domain.compare_exchange_strong(none, d->id);
}

}  // namespace nooks
