// The kernel side of the POSIX personality (lib/wrappers/posix.ts): what the
// C library linked into a driver (native/driver-rt/posix/) cannot do inside
// the driver's domain. Checked and dispatched like every kernel call.
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "checks.h"
#include "log.h"
#include "subsystems.h"
#include "wait.h"

using namespace nooks;

extern "C" void *kapi_nooks_posix_malloc(size_t size, size_t align) {
  if (align < 16 || align > 4096 || (align & (align - 1))) return nullptr;
  Domain *d = calling_domain();
  if (size > d->mem_limit) return nullptr;  // malloc(huge) fails as malloc does
  return domain_alloc(d, d->heap, size ? size : 1, align, ObjectType::memory, 0, "malloc");
}

extern "C" void *kapi_nooks_posix_realloc(void *ptr, size_t size) {
  Domain *d = calling_domain();
  Object old;
  if (!d->objects.find(ObjectType::memory, (uintptr_t)ptr, &old)) kernel_bug(d, "realloc(%p): not allocated", ptr);
  if (size > d->mem_limit) return nullptr;
  void *p = domain_alloc(d, d->heap, size ? size : 1, 16, ObjectType::memory, 0, "malloc");
  if (!p) return nullptr;
  memcpy(p, ptr, std::min(old.size, size));
  domain_free_block(d, d->heap, (uintptr_t)ptr, ObjectType::memory);
  return p;
}

// The CPU clocks are the host's: the thread running this call (the driver's
// own thread under mprotect, pkey and none) and the process the kernel is.
extern "C" long long kapi_nooks_posix_clock_ns(int clock) {
  if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC && clock != CLOCK_MONOTONIC_RAW && clock != CLOCK_BOOTTIME &&
      clock != CLOCK_THREAD_CPUTIME_ID && clock != CLOCK_PROCESS_CPUTIME_ID)
    return -EINVAL;
  return clock_now_ns(clock);
}

extern "C" long long kapi_nooks_posix_sleep_ns(unsigned long long ns) {
  Domain *d = calling_domain();
  Deadline until = Deadline::after_ns(ns);
  InterruptibleWait signals;
  wait_until(d, until, [] { return false; });
  if (!signals.interrupted()) return 0;
  return until.ns < 0 ? LLONG_MAX : std::max(until.ns - clock_now_ns(CLOCK_MONOTONIC), 1LL);
}

extern "C" void kapi_nooks_posix_sched_yield() {
  UnlockedYield y;
  sched_yield();
}

extern "C" long kapi_nooks_posix_getenv(const char *name, char *buf, size_t size) {
  Domain *d = calling_domain();
  auto it = d->env.find(name);
  if (it == d->env.end()) return -1;
  if (buf && size) {
    size_t n = std::min(it->second.size(), size - 1);
    memcpy(buf, it->second.data(), n);
    buf[n] = 0;
  }
  return (long)it->second.size();
}

extern "C" long kapi_nooks_posix_program_strings(int which, char *buf, size_t size) {
  Domain *d = calling_domain();
  std::string all;
  if (which == 0)
    for (const std::string &a : d->argv) all += a + '\0';
  else if (which == 1)
    for (const auto &[name, value] : d->env) all += name + "=" + value + '\0';
  else
    return -EINVAL;
  if (buf) memcpy(buf, all.data(), std::min(size, all.size()));
  return (long)all.size();
}

extern "C" long kapi_nooks_posix_host_sysconf(int name) {
  if (name != _SC_PHYS_PAGES && name != _SC_AVPHYS_PAGES && name != _SC_LEVEL1_DCACHE_LINESIZE) return -EINVAL;
  return sysconf(name);
}

extern "C" int kapi_nooks_posix_gettid() { return gettid(); }
extern "C" int kapi_nooks_posix_getpid() { return getpid(); }
extern "C" unsigned int kapi_nooks_posix_getuid() { return getuid(); }
extern "C" unsigned int kapi_nooks_posix_geteuid() { return geteuid(); }

namespace {

// A driver that ends itself (exit, a signal's default action) fails as it
// would by a fault: contained, its fault saying how (lib/kernel.ts: a
// program's 0 is its end, any other end is recovered). Without isolation
// nothing can contain it: the process ends, as the driver would have ended
// it without nooks.
[[noreturn]] void end_driver(Domain *d, Fault f, const char *how, int process_status) {
  f.kind = FaultKind::exit;
  if (g_backend.contains_faults) xpc_leave_with(d, f);
  klog_write_out(d->name);
  fprintf(stderr, "nooks: driver %s %s%s\n", d->name.c_str(), how, f.message);
  _exit(process_status);
}

}  // namespace

extern "C" void kapi_nooks_posix_exit(int status) {
  Fault f;
  f.exit_status = status & 0xff;  // what wait() would give a parent
  snprintf(f.message, sizeof f.message, "exit(%d)", status);
  end_driver(calling_domain(), f, "called ", status);
}

// A program killed by a signal it left to its default action: its `signal` says by which (no status).
extern "C" void kapi_nooks_posix_killed(int sig) {
  const char *name = sig >= 1 && sig <= 64 ? sigabbrev_np(sig) : nullptr;
  Fault f;
  f.signo = sig;
  snprintf(f.message, sizeof f.message, "killed by %s%s", name ? "SIG" : "signal ", name ? name : std::to_string(sig).c_str());
  end_driver(calling_domain(), f, "", 128 + (sig & 0x7f));
}

extern "C" void kapi_nooks_posix_abort(const char *message) {
  Domain *d = calling_domain();
  if (g_backend.contains_faults) xpc_fail_current(d, FaultKind::abort, "%s", message);
  fprintf(stderr, "nooks: driver %s: %s\n", d->name.c_str(), message);
  abort();
}
