#include "recovery.h"

#include <dlfcn.h>
#include <time.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <thread>

#include "../dev/bus.h"
#include "../dev/iomem.h"
#include "../kapi/kthread.h"
#include "../kapi/log.h"
#include "../kapi/subsystems.h"
#include "../loader/params.h"
#include "../loader/text_patch.h"
#include "../trap/mmio.h"
#include "../trap/trap.h"

namespace nooks {

void release_object(Domain *d, const Object &o);

static bool threads_inside(Domain *d, bool abort) {
  bool any = false;
  std::lock_guard<std::mutex> g(d->threads_lock);
  for (DomainThread *dt : d->threads) {
    if (__atomic_load_n(&dt->depth, __ATOMIC_ACQUIRE) == 0 || dt->thread == nooks_tls_ctx) continue;
    any = true;
    if (abort) trap_abort_thread(dt->thread, d->id, (int)FaultKind::aborted, false);
  }
  return any;
}

void recovery_teardown(Domain *d, uint64_t generation) {
  std::lock_guard<std::mutex> g(d->recovery_lock);
  if (generation != d->failure_gen.load() || d->torn_down_gen >= generation) return;
  irq_mask_domain(d, true);
  // Unwind every other thread inside the domain: driver code is unwound by the
  // abort signal, kernel calls notice when they return or their wait wakes.
  for (int round = 0; threads_inside(d, round % 20 == 0); round++) {
    if (round == 1000) {  // 5 s
      klog(2, "%s: a thread did not leave the failed domain; its objects are released anyway", d->name.c_str());
      break;
    }
    timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
  g_backend.stop(d);  // its driver code may still run (a livelock)
  for (const Object &o : d->objects.take_all()) release_object(d, o);
  d->posix.reset();  // the POSIX personality's tables (hugetlbfs names too) go with its objects
  {
    std::lock_guard<std::mutex> mg(d->mem_lock);
    d->heap.reset();
    d->dma.reset();
  }
  {
    std::lock_guard<std::mutex> tg(g_threads_lock);
    for (ThreadCtx *t = threads_head(); t; t = t->next) {
      int id = d->id;
      t->abort_domain.compare_exchange_strong(id, -1);
    }
  }
  d->torn_down_gen = generation;
}

bool recovery_restart(Domain *d, std::string *why) {
  recovery_teardown(d, d->failure_gen.load());
  std::unique_lock<std::mutex> g(d->recovery_lock);
  {
    DomainMemoryAccess access;
    for (const Segment &s : d->segments) s.reset();
  }
  if (!params_apply(d, why)) return false;  // the domain stays failed
  std::string code;
  if (*why = bus_hold_devices(d, &code); !why->empty()) return false;
  text_revert_transient(d);
  if (!g_backend.start(d, why)) return false;  // the domain stays failed
  d->state.store(DomainState::recovering);
  irq_mask_domain(d, false);
  g.unlock();
  XpcCall c{(const void *)d->init, {}, 0};
  Fault f;
  EnterResult r = xpc_call(d, &c, &f);
  if (r == EnterResult::ok && (int)c.ret == 0) {
    d->state.store(DomainState::running);
    d->recoveries++;
    return true;
  }
  if (r == EnterResult::fault) {
    fault_describe(&f);
    *why = std::string("module_init faulted: ") + f.message;
  } else {
    *why = r == EnterResult::ok ? "module_init returned " + std::to_string((int)c.ret) : "domain unavailable";
    mark_failed(d);
  }
  recovery_teardown(d, d->failure_gen.load());
  return false;
}

void release_object(Domain *d, const Object &o) {
  switch (o.type) {
    case ObjectType::irq: irq_release(d, (unsigned)o.key); break;
    case ObjectType::timer: timer_release(d, o.key); break;
    case ObjectType::work: work_release(d, o.key); break;
    case ObjectType::blkdev:  // class registrations: their classes release them
    case ObjectType::uart_port:
    case ObjectType::pcm:
    case ObjectType::netdev:
    case ObjectType::mapping:  // the POSIX personality's (native/posix/)
    case ObjectType::file:
      if (ReleaseFn fn = class_release_fn(o.type)) fn(d, o);
      break;
    case ObjectType::pci_driver: bus_release_driver(d, o.key); break;  // its devices are reset
    case ObjectType::device: bus_release_held(d, (int)o.key); break;  // held by the load option devices: reset
    case ObjectType::iomap: bus_release_iomap(d, o.key); break;
    case ObjectType::pci_dev:  // unbound with its driver
    // Locks live in driver memory, which is reset; memory goes with the arenas.
    case ObjectType::lock:
    case ObjectType::mutex:
    case ObjectType::dma:
    case ObjectType::hugepage:
    case ObjectType::memory:
    case ObjectType::count: break;
  }
}

void fault_describe(Fault *f) {
  if (f->message[0]) return;
  Dl_info info{};
  char where[120] = "";
  if (f->ip && dladdr((void *)f->ip, &info) && info.dli_fname) {
    const char *base = strrchr(info.dli_fname, '/');
    snprintf(where, sizeof where, " in %s%s%s+0x%lx", base ? base + 1 : info.dli_fname, info.dli_sname ? ":" : "",
             info.dli_sname ? info.dli_sname : "",
             (unsigned long)(f->ip - (uintptr_t)(info.dli_sname ? info.dli_saddr : info.dli_fbase)));
  }
  switch (f->kind) {
    case FaultKind::segv:
      if (iomem_trapped(f->addr)) {
        Domain *d = f->domain >= 0 ? g_domains[f->domain] : nullptr;
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
    case FaultKind::ill: snprintf(f->message, sizeof f->message, "illegal instruction%s", where); break;
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
// The recovery thread and its queue.
// The recovery thread and its queue (never destroyed: see kthread.h).
struct Recoverer : KernelThread {
  std::deque<std::pair<int, Fault>> queue;
  std::function<void(int, const Fault &)> listener;
};
Recoverer &recoverer = *new Recoverer;

void recovery_loop() {
  std::unique_lock<std::mutex> g(recoverer.lock);
  while (!recoverer.stop) {
    if (recoverer.queue.empty()) {
      recoverer.cv.wait(g);
      continue;
    }
    auto [id, fault] = recoverer.queue.front();
    recoverer.queue.pop_front();
    Domain *d = g_domains[id];
    g.unlock();
    if (d) {
      recovery_teardown(d, fault.generation);
      fault_describe(&fault);
      if (fault.primary && recoverer.listener) recoverer.listener(id, fault);
    }
    g.lock();
  }
}
}  // namespace

void recovery_notify(Domain *d, const Fault &f) {
  std::lock_guard<std::mutex> g(recoverer.lock);
  recoverer.queue.emplace_back(d->id, f);
  recoverer.cv.notify_all();
}

void recovery_fail(Domain *d, FaultKind kind, const std::string &message) {
  Fault f;
  f.kind = kind;
  f.domain = d->id;
  snprintf(f.message, sizeof f.message, "%s", message.c_str());
  f.primary = mark_failed(d);
  f.generation = d->failure_gen.load();
  if (!f.primary) return;  // failed already: that failure is being dealt with
  record_primary_fault(f);
  recovery_notify(d, f);
}

void recovery_set_listener(std::function<void(int, const Fault &)> fn) {
  std::lock_guard<std::mutex> g(recoverer.lock);
  recoverer.listener = std::move(fn);
}

void recovery_thread_start() { recoverer.start(recovery_loop); }
void recovery_thread_stop() { recoverer.join(); }

}  // namespace nooks
