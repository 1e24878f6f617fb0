// Teardown: the one place a failed domain's objects, memory and threads are
// let go of (docs/recovery.md, "Recovery"). Every site that needs a failure
// torn down (the recovery thread, a caller whose crossing faulted, restart,
// fail, disable, the loader) asks recovery_ensure_torn_down; none does it itself.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "../dev/bus.h"
#include "../kapi/log.h"
#include "../kapi/subsystems.h"
#include "../posix/fd_table.h"
#include "../shadow/shadow.h"
#include "../trap/trap.h"
#include "../xpc/entry_barrier.h"
#include "recovery.h"

namespace nooks {

namespace {

void release_object(Domain *d, const Object &o) {
  switch (o.type) {
    case ObjectType::irq: irq_release(d, (unsigned)o.key); break;
    case ObjectType::blkdev:  // class registrations: their classes release them
    case ObjectType::uart_port:
    case ObjectType::pcm:
    case ObjectType::netdev:
    case ObjectType::thread:  // the POSIX personality's (native/posix/): its threads (stopped by now), mappings, files, IOMMU maps
    case ObjectType::mapping:
    case ObjectType::file:
    case ObjectType::iova:
      if (ReleaseFn fn = class_release_fn(o.type)) fn(d, o);
      break;
    case ObjectType::pci_driver: bus_release_driver(d, o.key); break;  // its devices are reset
    case ObjectType::device: bus_release_held(d, (int)o.key); break;  // held by the load option devices: reset
    case ObjectType::iomap: bus_release_iomap(d, o.key); break;
    case ObjectType::timer:  // all of d's at once (recovery_release_objects)
    case ObjectType::work:
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

// What threads_inside does to each thread it finds (under d's threads_lock,
// which keeps the thread from exiting, and under which a kernel call's
// write_back looks for a request to leave: native/kapi/wait.h).
enum class Inside { look, ask_to_leave, leave_behind, ask_and_leave_behind };

// The threads (other than this one; only `only`, if given) inside d now.
std::vector<ThreadCtx *> threads_inside(Domain *d, Inside what, const ThreadCtx *only = nullptr) {
  std::vector<ThreadCtx *> inside;
  std::lock_guard<std::mutex> g(d->threads_lock);
  for (DomainThread *dt : d->threads) {
    if (__atomic_load_n(&dt->depth, __ATOMIC_ACQUIRE) == 0 || dt->thread == nooks_tls_ctx) continue;
    if (only && dt->thread != only) continue;
    // Left behind already (by an earlier teardown, this one's wait, a free_irq): its request stands, and it is not waited for again.
    if (what != Inside::leave_behind && dt->thread->left_behind.load() == d->id) continue;
    // A request that stands (the watchdog's, for a handler past its time
    // budget: its leaving fails d; a teardown's) a free_irq leaves as it is:
    // that failure, and its teardown, deal with the thread.
    if (what == Inside::ask_and_leave_behind && !trap_abort_thread(dt->thread, d->id, (int)FaultKind::aborted, false, true)) continue;
    inside.push_back(dt->thread);
    if (what == Inside::ask_to_leave) trap_abort_thread(dt->thread, d->id, (int)FaultKind::aborted, false);
    if (what == Inside::leave_behind || what == Inside::ask_and_leave_behind) {
      dt->thread->left_behind.store(d->id);  // its leaving fails nothing (ThreadCtx)
      // It left on its request meanwhile (crossing_failed clears the request, then this mark, before it is
      // counted out): a mark stored after that clear must not stay, or its later teardowns would skip it.
      int id = d->id;
      if (dt->thread->abort_domain.load() != d->id) dt->thread->left_behind.compare_exchange_strong(id, -1);
    }
  }
  return inside;
}

std::atomic<uint64_t> teardown_hold_releases{0};

// The test hook holdTeardown: a teardown the test asked to hold at `at` waits there until releaseTeardown
// (10 s at most), the domain failed, its class registrations in place (before_release) or parked (after_release).
void hold_for_test(Domain *d, Domain::TeardownHold at) {
  Domain::TeardownHold want = at;
  if (!d->hold_teardown.compare_exchange_strong(want, Domain::TeardownHold::none)) return;
  uint64_t released = teardown_hold_releases.load();
  klog(6, "nooks: %s: test hold: its teardown waits %s releasing its objects", d->name.c_str(),
       at == Domain::TeardownHold::before_release ? "before" : "after");
  for (int ms = 0; ms < 10000 && teardown_hold_releases.load() == released; ms++) usleep(1000);
}

}  // namespace

void recovery_release_held_teardown_for_test() { teardown_hold_releases.fetch_add(1); }

void recovery_release_objects(Domain *d) {
  std::vector<Object> objects = d->objects.take_all();
  // Every interrupt line first, then one wait for all their threads, before
  // anything a handler may use goes: N stuck handlers cost one wait, not N.
  for (const Object &o : objects)
    if (o.type == ObjectType::irq) release_object(d, o);
  irq_wait_freed_lines(d);  // and a handler's that freed its own line: it has left the domain by now, its thread not yet
  // Then the timer and worker threads, done with d, and every timer and work
  // item of d's, also those forgotten with a thread's stack.
  timers_release(d);
  work_release(d);
  for (const Object &o : objects)
    if (o.type != ObjectType::irq) release_object(d, o);
}

void recovery_tear_down_locked(Domain *d) {
  // A failure moves failure_gen on once, and nothing fails a failed domain
  // again: a teardown per generation is a teardown per failure.
  uint64_t generation = failure_generation(d);
  if (d->torn_down_gen == generation) return;
  shadow_failed(*d);  // what its classes keep for it without an object: settled before anything waits
  irq_mask_domain(d, true);
  // A crossing that read the state before it was marked is counted by now,
  // or reads it again and withdraws (native/xpc/entry_barrier.h).
  entry_barrier_teardown();
  // Unwind every other thread inside the domain: driver code is unwound by the
  // abort signal, kernel calls notice when they return or their wait wakes.
  // Timed by the clock, not by counting its 5 ms sleeps, which a loaded machine stretches.
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + recovery_teardown_wait();
  Clock::time_point next_ask = Clock::now();
  for (;;) {
    Clock::time_point now = Clock::now();
    bool ask = now >= next_ask;  // again every 100 ms: a thread that entered since, or one the signal found where it cannot be unwound
    if (ask) next_ask = now + std::chrono::milliseconds(100);
    if (threads_inside(d, ask ? Inside::ask_to_leave : Inside::look).empty()) break;
    if (now >= deadline) {  // recovery_teardown_wait(): 5 s
      recovery_wait_ran_out();
      klog(2, "%s: a thread did not leave the failed domain; its objects are released anyway", d->name.c_str());
      // Each is in a kernel call that has not returned (driver code is
      // unwound by the request): left behind now, it is not waited for
      // again as its objects go (irq_wait_freed_lines).
      threads_inside(d, Inside::leave_behind);
      break;
    }
    timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
  g_backend.stop(d);  // its driver code may still run (a livelock)
  hold_for_test(d, Domain::TeardownHold::before_release);
  recovery_release_objects(d);
  // Again, now that its threads have left: one may have been inside an unregistration when the first look was
  // taken, which it finished since (settling is idempotent).
  shadow_failed(*d);
  hold_for_test(d, Domain::TeardownHold::after_release);
  posix_files_renew(d);  // the POSIX personality's tables (hugetlbfs names too) go with its objects
  {
    std::lock_guard<std::mutex> mg(d->mem_lock);
    d->heap.reset();
    d->dma.reset();
  }
  {
    // A thread still inside (left running: a kernel call that has not
    // returned) keeps its request: when the call returns, it leaves.
    std::vector<ThreadCtx *> inside = threads_inside(d, Inside::leave_behind);
    std::lock_guard<std::mutex> tg(g_threads_lock);
    for (ThreadCtx *t = threads_head(); t; t = t->next) {
      int id = d->id;
      if (std::find(inside.begin(), inside.end(), t) == inside.end()) t->abort_domain.compare_exchange_strong(id, -1);
    }
  }
  d->torn_down_gen = generation;
}

void recovery_leave_behind(Domain *d, const ThreadCtx &t) { threads_inside(d, Inside::ask_and_leave_behind, &t); }

void recovery_ensure_torn_down(Domain *d) {
  std::lock_guard<std::mutex> g(d->recovery_lock);
  recovery_tear_down_locked(d);
}

}  // namespace nooks
