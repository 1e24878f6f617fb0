#include "checks.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

#include "log.h"

namespace nooks {

static void reject(Domain *d, const char *fn, const char *param, const char *why, const volatile void *p) {
  xpc_fail_current(d, FaultKind::bad_call, "%s(%s=%p): %s", fn, param, (const void *)p, why);
}

void check_writable(Domain *d, const volatile void *p, size_t n, bool nullable, const char *fn, const char *param) {
  if (!p && nullable) return;
  if (!d->writable((uintptr_t)p, n)) reject(d, fn, param, "pointer outside the driver's writable memory", p);
}

void check_lasting(Domain *d, const volatile void *p, size_t n, const char *fn, const char *param) {
  check_writable(d, p, n, false, fn, param);
  if (!d->lasting((uintptr_t)p, n)) reject(d, fn, param, "on a thread's stack: the kernel keeps this object, which must outlive its threads", p);
}

void check_readable(Domain *d, const volatile void *p, size_t n, bool nullable, const char *fn, const char *param) {
  if (!p && nullable) return;
  if (!d->readable_by_driver((uintptr_t)p, n)) reject(d, fn, param, "pointer outside the driver's memory", p);
}

void copy_string(Domain *d, const char *s, size_t max, char *copy, const char *fn, const char *param) {
  // Byte by byte: a string may end at the edge of the driver's memory. Each byte
  // is read once, into the copy: the driver's other threads may change the string meanwhile.
  for (size_t i = 0; i < max; i++) {
    if (!d->readable_by_driver((uintptr_t)s + i, 1)) reject(d, fn, param, "string outside the driver's memory", s);
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
  if (!d->objects.find(type, key)) {
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
