#include "recovery.h"

#include <dlfcn.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <thread>

#include "../dev/bus.h"
#include "../dev/iomem.h"
#include "../kapi/kthread.h"
#include "../kapi/log.h"
#include "../kapi/subsystems.h"
#include "../loader/loader.h"
#include "../loader/params.h"
#include "../loader/symtab.h"
#include "../loader/text_patch.h"
#include "../posix/program.h"
#include "../posix/program_signals.h"
#include "../trap/mmio.h"

namespace nooks {

namespace {
std::atomic<std::chrono::milliseconds::rep> teardown_wait_ms{kTeardownWait.count()};
std::atomic<uint64_t> waits_run_out{0};
}  // namespace

std::chrono::milliseconds recovery_teardown_wait() { return std::chrono::milliseconds(teardown_wait_ms.load()); }

void recovery_set_teardown_wait_for_test(std::chrono::milliseconds wait) { teardown_wait_ms.store(wait.count()); }

void recovery_wait_ran_out() { waits_run_out.fetch_add(1); }

uint64_t recovery_waits_run_out() { return waits_run_out.load(); }

namespace {
// A restart that fails before module_init runs (the domain stays failed) lets go itself of what it took since
// the teardown (the devices it holds again, its params' heap blocks): the failure it began from is torn down
// already, so no later teardown (disable, unload) would, and a device would stay bound to a freed domain id.
bool not_started(Domain *d) {
  recovery_release_objects(d);
  std::lock_guard<std::mutex> mg(d->mem_lock);
  d->heap.reset();
  return false;
}
}  // namespace

bool recovery_restart(Domain *d, std::string *why) {
  std::unique_lock<std::mutex> g(d->recovery_lock);
  // The agent gave up on it (a late report of the failure that cut its last restart short asks again), or it
  // is being unloaded: it runs no more.
  if (d->state.load() == DomainState::disabled || d->unloading.load()) {
    *why = d->name + (d->unloading.load() ? " is being unloaded" : " is disabled");
    return false;
  }
  recovery_tear_down_locked(d);
  {
    DomainMemoryAccess access;
    for (const Segment &s : d->segments) s.reset();
    domain_reset_thread_areas(d);
  }
  signals_reset(d);  // what was pending is forgotten, and the dispositions are SIG_DFL again, as the data
  if (!params_apply(d, why)) return not_started(d);
  std::string code;
  if (*why = bus_hold_devices(d, &code); !why->empty()) return not_started(d);
  text_revert_transient(d);
  if (!g_backend.start(d, why)) return not_started(d);
  d->state.store(DomainState::recovering);
  irq_mask_domain(d, false);
  g.unlock();
  XpcCall c{(const void *)d->init, {}, 0};
  Fault f;
  EnterResult r = xpc_call(d, &c, &f);
  if (r == EnterResult::ok && (int)c.ret == 0) {
    d->state.store(DomainState::running);
    d->recoveries++;
    posix_program_start(d);
    return true;
  }
  if (r == EnterResult::fault) {
    fault_describe(&f);
    *why = std::string(driver_part_that_faulted(d, true)) + " faulted: " + f.message;
  } else {
    *why = r == EnterResult::ok ? "module_init returned " + errno_named((int)c.ret) : "domain unavailable";
    mark_failed(d);
  }
  recovery_ensure_torn_down(d);
  return false;
}

void fault_describe(Fault *f) {
  if (f->message[0]) return;
  Dl_info info{};
  char where[120] = "";
  Domain *d = f->domain >= 0 ? g_domains[f->domain].load() : nullptr;
  if (f->ip && dladdr((void *)f->ip, &info) && info.dli_fname) {
    const char *base = strrchr(info.dli_fname, '/');
    uintptr_t from = (uintptr_t)info.dli_fbase;
    uint64_t start = 0;
    // dladdr names exported functions only; a static one comes from the loaded image's .symtab (read at load).
    // Under isolation 'process' too: the host process is forked from this one, the driver at the same addresses.
    std::string name = readable_name(info.dli_sname ? info.dli_sname : d && d->in_text(f->ip) ? d->functions.at(f->ip - from, &start) : "");
    from = info.dli_sname ? (uintptr_t)info.dli_saddr : name.empty() ? from : from + start;
    snprintf(where, sizeof where, " in %s%s%s+0x%lx", base ? base + 1 : info.dli_fname, name.empty() ? "" : ":",
             name.c_str(), (unsigned long)(f->ip - from));
  }
  switch (f->kind) {
    case FaultKind::segv:
      if (iomem_trapped(f->addr)) {
        snprintf(f->message, sizeof f->message, "access to an emulated BAR at 0x%lx that cannot be emulated: instruction %s%s",
                 (unsigned long)f->addr, mmio_instruction(d, f->ip).c_str(), where);
        break;
      }
      snprintf(f->message, sizeof f->message, "segmentation fault at address 0x%lx%s", (unsigned long)f->addr, where);
      break;
    case FaultKind::pkey:
      snprintf(f->message, sizeof f->message, "protection-key fault: write or access to 0x%lx outside the driver's domain%s",
               (unsigned long)f->addr, where);
      break;
    case FaultKind::stack_overflow:
      snprintf(f->message, sizeof f->message, "stack overflow (guard page hit at 0x%lx)%s", (unsigned long)f->addr, where);
      break;
    case FaultKind::bus: snprintf(f->message, sizeof f->message, "bus error at 0x%lx%s", (unsigned long)f->addr, where); break;
    case FaultKind::ill:
      snprintf(f->message, sizeof f->message, "%s%s", f->signo == SIGTRAP ? "breakpoint or single-step trap (SIGTRAP)" : "illegal instruction", where);
      break;
    case FaultKind::fpe: snprintf(f->message, sizeof f->message, "arithmetic fault (divide by zero)%s", where); break;
    case FaultKind::timeout:
      snprintf(f->message, sizeof f->message, "driver exceeded its time budget (watchdog)%s", where);
      break;
    case FaultKind::aborted:
      snprintf(f->message, sizeof f->message, "thread aborted: the domain failed on another thread%s", where);
      break;
    default: snprintf(f->message, sizeof f->message, "%s%s", fault_kind_name(f->kind), where); break;
  }
}

// ---- the recovery thread ----------------------------------------------------
namespace {
// The recovery thread and its queue (never destroyed: see kthread.h).
struct Recoverer : KernelThread {
  std::deque<std::pair<Domain *, Fault>> queue;
  Domain *busy = nullptr;  // the domain the thread is dealing with now (recovery_forget waits for it)
  std::function<void(Domain *, const Fault &)> listener;
};
Recoverer &recoverer = *new Recoverer;

void recovery_loop() {
  std::unique_lock<std::mutex> g(recoverer.lock);
  while (!recoverer.stop) {
    if (recoverer.queue.empty()) {
      recoverer.cv.wait(g);
      continue;
    }
    auto [d, fault] = recoverer.queue.front();
    recoverer.queue.pop_front();
    recoverer.busy = d;
    auto listener = recoverer.listener;
    g.unlock();
    recovery_ensure_torn_down(d);
    fault_describe(&fault);
    if (fault.primary && listener) listener(d, fault);
    g.lock();
    recoverer.busy = nullptr;
    recoverer.cv.notify_all();
  }
}
}  // namespace

void recovery_notify(Domain *d, const Fault &f) {
  std::lock_guard<std::mutex> g(recoverer.lock);
  // A thread that found d before its unload began (a DomainUse) may report a
  // fault after recovery_forget: queued then, d would be freed under it.
  if (d->forgotten) return;
  recoverer.queue.emplace_back(d, f);
  recoverer.cv.notify_all();
}

void recovery_forget(Domain *d) {
  recovery_ensure_torn_down(d);
  std::unique_lock<std::mutex> g(recoverer.lock);
  d->forgotten = true;
  auto &q = recoverer.queue;
  q.erase(std::remove_if(q.begin(), q.end(), [d](const std::pair<Domain *, Fault> &e) { return e.first == d; }), q.end());
  recoverer.cv.wait(g, [d] { return recoverer.busy != d; });
}

bool recovery_idle() {
  std::lock_guard<std::mutex> g(recoverer.lock);
  return recoverer.queue.empty() && !recoverer.busy;
}

void recovery_fail(Domain *d, FaultKind kind, const std::string &message) {
  Fault f;
  f.kind = kind;
  snprintf(f.message, sizeof f.message, "%s", message.c_str());
  if (!fail_with(d, f)) return;  // failed already: that failure is being dealt with
  recovery_notify(d, f);
}

void recovery_set_listener(std::function<void(Domain *, const Fault &)> fn) {
  std::lock_guard<std::mutex> g(recoverer.lock);
  recoverer.listener = std::move(fn);
}

void recovery_thread_start() { recoverer.start(recovery_loop); }
void recovery_thread_stop() { recoverer.join(); }

}  // namespace nooks
