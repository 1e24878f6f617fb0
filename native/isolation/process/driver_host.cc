// Isolation 'process', the kernel's side: the host process's life and the
// crossing. The host process's own side is helper.cc.
#include "driver_host.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>

#include "../kapi/checks.h"
#include "../trap/trap.h"
#include "../xpc/xpc.h"
#include "channel.h"

extern "C" const void *const nooks_kapi_checked[];

namespace nooks {

extern const int kKapiCount;

static DriverHost g_hosts[kMaxDomains];
std::atomic<uint64_t> g_kernel_spins_run_out{0};

uint64_t driver_host_spins_run_out() { return g_kernel_spins_run_out.load(std::memory_order_relaxed); }

DriverHost &driver_host_of(const Domain *d) { return g_hosts[d->id]; }

bool driver_host_create(Domain *d) {
  void *p = mmap(nullptr, sizeof(DriverHostShared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return false;
  driver_host_of(d).shared = static_cast<DriverHostShared *>(p);  // zeroed: every channel idle
  return true;
}

void driver_host_destroy(Domain *d) {
  DriverHost &h = driver_host_of(d);
  if (!h.shared) return;
  driver_host_stop(d);
  munmap(h.shared, sizeof(DriverHostShared));
  h.shared = nullptr;
}

// The host process died without saying why over this thread's channel (its
// handler could not run, or another thread's fault took it down): false if it lives.
static bool host_died(DriverHost *h, Fault *f) {
  siginfo_t si{};
  const pid_t pid = h->pid;
  if (pid <= 0 || waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid != pid) return false;
  bool signalled = si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED;
  f->kind = signalled ? fault_kind_of(si.si_status, 0, 0, 0) : FaultKind::aborted;
  f->signo = signalled ? si.si_status : 0;
  if (signalled)
    snprintf(f->message, sizeof f->message, "the driver's host process (pid %d) was killed by signal %d (%s)", (int)pid,
             si.si_status, strsignal(si.si_status));
  else
    snprintf(f->message, sizeof f->message, "the driver's host process (pid %d) exited with status %d", (int)pid, si.si_status);
  return true;
}

// Waits while *word holds `value`: the host process's start (its set-up, the
// twins of the threads it knows), before any driver code runs in it. false if
// the host process dies first, or after about limit_ms.
static bool wait_for_host(DriverHost *h, std::atomic<uint32_t> *word, uint32_t value, uint64_t limit_ms) {
  static const timespec tick = {0, 10 * 1000 * 1000};
  for (uint64_t waited = 0; word->load() == value; waited += 10) {
    Fault f;
    if (waited >= limit_ms || host_died(h, &f)) return false;
    futex(word, FUTEX_WAIT, value, &tick);
  }
  return true;
}

void driver_host_thread_added(Domain *d, DomainThread *dt) {
  DriverHostShared *s = driver_host_of(d).shared;
  Channel &ch = s->channels[dt->slot];
  ch.stack_lo = dt->stack_lo;
  ch.stack_hi = dt->stack_hi;
  if (channel_active(s, dt->slot)) return;  // a slot used before: its twin still serves it
  ch.state.store(kStarting);
  s->active[dt->slot / 64].fetch_or(1ull << (dt->slot % 64));
  s->started.fetch_add(1);
  futex(&s->started, FUTEX_WAKE, 1, nullptr);
}

bool driver_host_start(Domain *d, std::string *why) {
  DriverHost *h = &driver_host_of(d);
  h->shared->ready.store(0);
  for (int slot = 0; slot < kMaxDomainThreads; slot++) {
    Channel &ch = h->shared->channels[slot];
    ch.state.store(channel_active(h->shared, slot) ? kStarting : kIdle);
    ch.sleeping[kKernelSide].store(0);
    ch.sleeping[kHostSide].store(0);
    ch.cpu[kKernelSide].store(-1);
    ch.cpu[kHostSide].store(-1);
  }
  pid_t kernel = getpid();
  pid_t pid = fork();
  if (pid == 0) driver_host_main(d, kernel);
  if (pid < 0) {
    *why = std::string("cannot fork the driver's host process: ") + strerror(errno);
    return false;
  }
  h->pid = pid;
  // No driver code runs in it before this returns: its start is the kernel's
  // alone, bounded only for a host process that never gets there.
  const uint64_t kStartLimitMs = 10 * 1000;  // the message below says it
  bool up = wait_for_host(h, &h->shared->ready, 0, kStartLimitMs);
  for (int slot = 0; up && slot < kMaxDomainThreads; slot++)
    up = !channel_active(h->shared, slot) || wait_for_host(h, &h->shared->channels[slot].state, kStarting, kStartLimitMs);
  if (up) return true;
  Fault f;
  *why = host_died(h, &f) ? std::string(f.message) + " in its start" : "the driver's host process did not start within 10 s";
  driver_host_stop(d);
  return false;
}

void driver_host_stop(Domain *d) {
  DriverHost *h = &driver_host_of(d);
  const pid_t pid = h->pid;
  if (pid <= 0) return;  // idempotent: teardown and unload both stop it
  kill(pid, SIGKILL);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  h->pid = -1;
}

// Stops the twin running driver code for a thread asked to leave, and
// returns where it was (0 if it does not say within 100 ms).
static uintptr_t where_twin_is(DriverHost *h, Channel *ch) {
  if (!among(ch->state.load(), bit(kCall) | bit(kKreturn)) || ch->tid <= 0 || syscall(SYS_tgkill, h->pid.load(), ch->tid, kStopSignal) != 0) return 0;
  static const timespec wait = {0, 100 * 1000 * 1000};
  return channel_wait(ch, kKernelSide, bit(kFault), &wait) == kFault && ch->signo == 0 ? ch->ip : 0;
}

// One kernel call of the driver, on this thread, as an upcall would run it.
static void serve_kcall(Domain *d, Channel *ch) {
  uint32_t index = ch->kcall;
  uint64_t a[6];
  memcpy(a, ch->args, sizeof a);  // once: the host process may change them meanwhile
  if (index >= (uint32_t)kKapiCount)
    xpc_fail_current(d, FaultKind::bad_call, "the driver's host process asked for kernel call %u, which does not exist", index);
  using Fn = uint64_t (*)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
  ch->ret = ((Fn)nooks_kapi_checked[index])(a[0], a[1], a[2], a[3], a[4], a[5]);
  channel_post(ch, kKernelSide, kKreturn);
}

// Leaves the crossing if the thread was asked to (the watchdog, recovery) or
// the host process is gone; returns otherwise.
static void leave_if_asked_or_gone(Domain *d, DriverHost *h, Channel *ch) {
  if (should_abort(d)) xpc_abort_current(d, where_twin_is(h, ch));
  Fault f;
  if (host_died(h, &f)) xpc_leave_with(d, f);
}

uint64_t driver_host_cross(Domain *d, XpcCall *c, DomainThread *dt) {
  DriverHost *h = &driver_host_of(d);
  Channel *ch = &h->shared->channels[dt->slot];
  // Wakes now and then to notice an abort request or a host process that is gone.
  static const timespec tick = {0, 10 * 1000 * 1000};
  // A thread's first crossing waits for its twin (driver_host_thread_added
  // asked for it) here, inside the crossing: the watchdog times the wait, and
  // a teardown sees the thread and unwinds it before the domain goes.
  while (ch->state.load() == kStarting) {
    leave_if_asked_or_gone(d, h, ch);
    futex(&ch->state, FUTEX_WAIT, kStarting, &tick);
  }
  ch->fn = (uint64_t)c->fn;
  memcpy(ch->args, c->args, sizeof c->args);
  ch->sp = dt->sp & ~(uintptr_t)15;
  channel_post(ch, kKernelSide, kCall);
  for (;;) {
    switch (channel_wait(ch, kKernelSide, bit(kReturn) | bit(kKcall) | bit(kFault), &tick)) {
      case kReturn: c->ret = ch->ret; return 0;
      case kKcall: serve_kcall(d, ch); continue;
      case kFault: {
        if (ch->signo == 0 && should_abort(d)) break;  // a stop's answer that came late: the abort below
        // The twin stops only when the kernel asks (helper.cc): else the channel, which lies in memory the
        // driver can write, says what nobody sent, and waiting on would spin on it.
        if (ch->signo == 0) xpc_fail_current(d, FaultKind::bad_call, "the driver's host process reported a stop the kernel did not ask for");
        Fault f;
        f.signo = ch->signo;
        f.code = ch->code;
        f.addr = ch->addr;
        f.ip = ch->ip;
        f.kind = fault_kind_of(f.signo, f.code, f.addr, dt->stack_lo);
        xpc_leave_with(d, f);
      }
    }
    leave_if_asked_or_gone(d, h, ch);
  }
}

}  // namespace nooks
