// Interrupt lines. Each requested line has a kernel irq thread; raising the
// line wakes it, and it crosses into the driver's handler. Raises that arrive
// while the handler runs or the line is masked coalesce, as a level line does.
// Freeing a line (free_irq, or its driver's teardown) stops its thread, which
// ends once its handler returns; one whose handler does not return in time
// (a kernel call that does not) is left running (left_running.h).
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../dev/bus.h"
#include "../recovery/left_running.h"
#include "../recovery/recovery.h"
#include "../trap/host_signals.h"
#include "checks.h"
#include "log.h"
#include "subsystems.h"
#include "wait.h"

using namespace nooks;

namespace {
// The thread of one request of a line: it serves the line for the domain that
// requested it until the line is freed. Then the line is no longer its own,
// and may be requested again, and served by a new thread, before it has ended.
struct IrqThread {
  IrqThread(unsigned irq, Domain *domain) : irq(irq), domain(domain), label("irq " + std::to_string(irq) + " handler") {}
  const unsigned irq;
  Domain *const domain;
  const std::string label;  // as the log names it
  std::atomic<const ThreadCtx *> ctx{nullptr};  // its own, once it runs: what a free_irq that gives up on it asks to leave
  bool stop = false;  // under its line's lock: the line was freed
  ThreadCtx *freer = nullptr;  // under stopped.lock: the thread in free_irq waiting for its end, which it wakes
  uint64_t left_running = 0;  // under stopped.lock: the wait for its end gave up (its ticket, left_running.h)
};

struct Line {
  std::mutex lock;
  std::condition_variable cv;
  irq_handler_t handler = nullptr;
  void *dev_id = nullptr;
  int masked = 0;        // disable_irq nesting
  bool domain_masked = false;  // recovery masks every line of a failed driver
  bool pending = false;
  std::shared_ptr<IrqThread> thread;  // while requested (by its domain)
  // A real device's end of interrupt (unmask INTx): after each handler run,
  // and when a handler is attached. Set by the device, not the driver.
  std::function<void()> ack;
  // A POSIX driver's VFIO eventfd or UIO node: raised instead of a handler (irq_set_signal).
  // Shared, so that an interrupt takes it out of the lock without copying (allocating) the function.
  std::shared_ptr<const std::function<void()>> signal;
  const void *signal_owner = nullptr;
  // The signal's driver ends each interrupt itself (irq_unmask), once it has
  // cleared its cause: no ack when it is signalled.
  bool driver_unmasks = false;
};
// Every interrupt line.
// Never destroyed: kernel threads may still run while the process exits.
struct Lines {
  Line lines[kIrqLines];
};
Lines &irqs = *new Lines;

// Filled by static constructors before main, read after: no lock needed. Never
// destroyed: irq threads run them while the process exits.
std::vector<void (*)(Domain *)> &after_interrupt() {
  static std::vector<void (*)(Domain *)> &v = *new std::vector<void (*)(Domain *)>;
  return v;
}
thread_local const IrqThread *tl_irq_thread = nullptr;  // the calling thread's, if it is an irq thread

// The threads of freed lines, until they end, each of which may still use its
// domain: whoever freed the line waits for its thread, or, a handler that
// freed its own line or a free_irq whose caller had to leave the domain, its
// domain's teardown does (irq_wait_freed_lines).
struct Stopped {
  std::mutex lock;
  std::condition_variable ended;
  std::vector<std::shared_ptr<IrqThread>> threads;
};
Stopped &stopped = *new Stopped;

// The end of an irq thread, its line freed and its handler's run done: it
// forgets its stack in its domain, then lets its waiter go on or, left
// running, lets go of the domain kept for it.
void end_irq_thread(const std::shared_ptr<IrqThread> &self) {
  Domain *d = self->domain;
  domain_thread_forget(d);  // from here on nothing of d's is touched: d may go
  uint64_t ticket;
  {
    std::lock_guard<std::mutex> g(stopped.lock);
    ticket = self->left_running;
    stopped.threads.erase(std::find(stopped.threads.begin(), stopped.threads.end(), self));
    stopped.ended.notify_all();
    if (self->freer) thread_wake(self->freer);
  }
  if (ticket) left_running_ended(d, ticket);
}

// Test hook (holdNewIrqThreads, test/irq-unstarted.test.ts): a new line's
// thread waits, before its first line, until free_irq has given up on it
// (10 s at most): a thread the scheduler is slow to start.
static void hold_for_test(const IrqThread &self) {
  if (!self.domain->hold_new_irq_threads.load(std::memory_order_relaxed)) return;
  for (int ms = 0; ms < 10'000; ms++) {
    {
      std::lock_guard<std::mutex> g(stopped.lock);
      if (self.left_running) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void irq_loop(std::shared_ptr<IrqThread> self) {
  hold_for_test(*self);
  tl_irq_thread = self.get();
  self->ctx.store(thread_ctx());
  Line &l = irqs.lines[self->irq];
  Domain *d = self->domain;
  std::unique_lock<std::mutex> g(l.lock);
  for (;;) {
    l.cv.wait(g, [&] { return self->stop || (l.pending && !l.masked && !l.domain_masked); });
    if (self->stop) break;
    l.pending = false;
    XpcCall c{(const void *)l.handler, {self->irq, (uint64_t)l.dev_id}, 0};
    g.unlock();
    Fault f;
    d->interrupts.fetch_add(1, std::memory_order_relaxed);
    if (xpc_call(d, &c, &f) == EnterResult::fault) recovery_notify(d, f);
    for (auto run : after_interrupt()) run(d);
    g.lock();
    // Freed meanwhile (by the handler itself, or by a teardown that may have
    // left this thread running): the line, and its device's end of interrupt,
    // may be another thread's by now.
    if (self->stop) break;
    if (l.ack) {
      auto ack = l.ack;
      g.unlock();
      ack();
      g.lock();
    }
  }
  g.unlock();
  end_irq_thread(self);
}

// Under stopped.lock: t has ended.
bool ended(const std::shared_ptr<IrqThread> &t) { return std::find(stopped.threads.begin(), stopped.threads.end(), t) == stopped.threads.end(); }

// free_irq's wait for t, the thread of the line d freed, to end: as Linux's
// free_irq waits for a running handler (synchronize_irq), but
// recovery_teardown_wait() at most. Then its handler is in a kernel call that
// does not return: t is left running, and asked to leave d as a teardown
// leaves a thread behind, so that when that call returns it runs no more of
// the driver's code (which may have freed what the handler uses by then).
// Asked only then, not at once: a handler merely slow (a sleep, a device's
// answer) returns by itself and finishes its work (ends the device's
// interrupt, lets go of its locks), which a request to leave would cut short.
// The wait ends early when the calling thread must leave d (the watchdog, a
// failure), as other kernel waits do: the teardown that follows waits for t
// then, as for the thread of a handler that freed its own line. Where none
// follows (the caller, a handler, was left behind by another free_irq that
// gave up on it), t is left running at once.
void wait_for_freed_line(Domain *d, const std::shared_ptr<IrqThread> &t) {
  {
    std::lock_guard<std::mutex> g(stopped.lock);
    t->freer = thread_ctx();
  }
  const Deadline deadline = Deadline::after_ms((long)recovery_teardown_wait().count());
  bool done = wait_until(d, deadline, [&] {
    std::lock_guard<std::mutex> g(stopped.lock);
    return ended(t);
  });
  if (!done && deadline.passed()) recovery_wait_ran_out();
  // The caller must leave d, and a teardown follows: d failed, or the
  // caller's leaving fails it (the watchdog's request).
  bool teardown_follows = !done && should_abort(d) && (d->state.load() == DomainState::failed || thread_ctx()->abort_fails.load());
  std::lock_guard<std::mutex> g(stopped.lock);
  t->freer = nullptr;
  // Left running meanwhile by a teardown's wait (irq_wait_freed_lines): once is all.
  if (done || teardown_follows || ended(t) || t->left_running) return;
  t->left_running = leave_running(d, t->label);
  // t, listed, has not exited: that ThreadCtx is its own still. None: t has
  // not run its first line, so it is not inside d (and, the line freed, it
  // ends without entering it).
  if (const ThreadCtx *ctx = t->ctx.load()) recovery_leave_behind(d, *ctx);
}

// Frees l, if d's, and tells its thread to stop: listed among the stopped,
// until it ends, for whoever freed the line to wait for. That thread, or nullptr.
std::shared_ptr<IrqThread> stop_line(Line &l, const Domain *d) {
  std::lock_guard<std::mutex> g(l.lock);
  if (!l.thread || l.thread->domain != d) return nullptr;
  std::shared_ptr<IrqThread> t = std::move(l.thread);
  t->stop = true;
  l.cv.notify_all();
  std::lock_guard<std::mutex> sg(stopped.lock);  // listed before it can end
  stopped.threads.push_back(t);
  return t;
}
}  // namespace

extern "C" int kapi_request_irq(unsigned int irq, irq_handler_t handler, unsigned long, const char *name, void *dev_id) {
  Domain *d = calling_domain();
  if (irq >= kIrqLines) return -EINVAL;
  if (!bus_line_requestable(d, irq)) {
    klog_line(4, d->name, "request_irq(" + std::to_string(irq) + "): not the line of a device the driver holds (EINVAL)");
    return -EINVAL;
  }
  Line &l = irqs.lines[irq];
  std::function<void()> ack;
  {
    std::lock_guard<std::mutex> g(l.lock);
    if (l.thread) return -EBUSY;  // requested
    l.handler = handler;
    l.dev_id = dev_id;
    l.masked = 0;
    l.domain_masked = false;
    l.pending = false;
    l.thread = std::make_shared<IrqThread>(irq, d);
    kernel_thread(irq_loop, l.thread).detach();  // waited for by its end (stop_line), not joined
    ack = l.ack;
  }
  d->objects.add({ObjectType::irq, irq, 0, (uint64_t)handler, name});
  if (ack) ack();  // an interrupt that came while no handler was attached is delivered now
  return 0;
}

extern "C" void kapi_free_irq(unsigned int irq, void *dev_id) {
  Domain *d = calling_domain();
  Line &l = irqs.lines[irq];
  void *requested;
  {
    std::lock_guard<std::mutex> g(l.lock);
    requested = l.dev_id;
  }
  // Outside the lock: a rejected call leaves the domain at once.
  if (requested != dev_id) kernel_bug(d, "free_irq(%u): dev_id %p does not match the one requested", irq, dev_id);
  d->objects.remove(ObjectType::irq, irq);
  // A handler that freed its own line runs on to its end; then its thread
  // ends, and its domain's teardown waits for that.
  std::shared_ptr<IrqThread> t = stop_line(l, d);
  if (t && t.get() != tl_irq_thread) wait_for_freed_line(d, t);
}

extern "C" void kapi_disable_irq(unsigned int irq) {
  std::lock_guard<std::mutex> g(irqs.lines[irq].lock);
  irqs.lines[irq].masked++;
}

extern "C" void kapi_enable_irq(unsigned int irq) {
  Line &l = irqs.lines[irq];
  std::lock_guard<std::mutex> g(l.lock);
  if (l.masked > 0) l.masked--;
  l.cv.notify_all();
}

namespace nooks {

AfterInterrupt::AfterInterrupt(void (*run)(Domain *d)) { after_interrupt().push_back(run); }

bool on_irq_thread() { return tl_irq_thread != nullptr; }

bool irq_raise(unsigned irq) {
  if (irq >= kIrqLines) return false;
  Line &l = irqs.lines[irq];
  std::unique_lock<std::mutex> g(l.lock);
  if (l.signal) {
    // Signalled at once. Unmasked at once only where its reader cannot end
    // the interrupt itself: else the line of a real device still asserting
    // it (its cause not cleared yet) would fire again at once, a storm.
    std::shared_ptr<const std::function<void()>> signal = l.signal;
    std::function<void()> ack = l.driver_unmasks ? nullptr : l.ack;
    g.unlock();
    (*signal)();
    if (ack) ack();
    return true;
  }
  if (!l.thread) return false;
  l.pending = true;
  l.cv.notify_all();
  return true;
}

void irq_set_ack(unsigned irq, std::function<void()> ack) {
  std::lock_guard<std::mutex> g(irqs.lines[irq].lock);
  irqs.lines[irq].ack = std::move(ack);
}

bool irq_set_signal(unsigned irq, const void *owner, std::function<void()> signal, bool driver_unmasks) {
  auto shared = signal ? std::make_shared<const std::function<void()>>(std::move(signal)) : nullptr;
  Line &l = irqs.lines[irq];
  {
    std::lock_guard<std::mutex> g(l.lock);
    if (l.signal_owner && l.signal_owner != owner) return false;
    l.signal = std::move(shared);
    l.signal_owner = l.signal ? owner : nullptr;
    l.driver_unmasks = driver_unmasks;
  }
  // As request_irq: an interrupt that came while nothing was attached (one a
  // failed driver left masked) is delivered now.
  irq_unmask(irq, owner);
  return true;
}

void irq_unmask(unsigned irq, const void *owner) {
  Line &l = irqs.lines[irq];
  std::function<void()> ack;
  {
    std::lock_guard<std::mutex> g(l.lock);
    if (l.signal_owner == owner) ack = l.ack;
  }
  if (ack) ack();
}

void irq_mask_domain(Domain *d, bool masked) {
  for (Line &l : irqs.lines) {
    std::lock_guard<std::mutex> g(l.lock);
    if (!l.thread || l.thread->domain != d) continue;
    l.domain_masked = masked;
    l.cv.notify_all();
  }
}

void irq_release(Domain *d, unsigned irq) {
  if (irq < kIrqLines) stop_line(irqs.lines[irq], d);
}

void irq_wait_freed_lines(Domain *d) {
  UnlockedWait w;  // under mprotect an irq thread may need to enter the driver to finish
  std::unique_lock<std::mutex> g(stopped.lock);
  // One the teardown gave up on and left behind, its handler in a kernel call
  // that has not returned, has been waited for once: left running at once
  // (listed, it has not exited: its ThreadCtx is its own still).
  for (auto &t : stopped.threads)
    if (t->domain == d && !t->left_running && left_behind(t->ctx.load(), d)) t->left_running = leave_running(d, t->label);
  auto waited_for = [d](const std::shared_ptr<IrqThread> &t) { return t->domain == d && !t->left_running; };
  if (stopped.ended.wait_for(g, recovery_teardown_wait(), [&] { return std::none_of(stopped.threads.begin(), stopped.threads.end(), waited_for); }))
    return;
  recovery_wait_ran_out();
  for (auto &t : stopped.threads)
    if (waited_for(t)) t->left_running = leave_running(d, t->label);
}

}  // namespace nooks
