// Interrupt lines. Each requested line has a kernel irq thread; raising the
// line wakes it, and it crosses into the driver's handler. Raises that arrive
// while the handler runs or the line is masked coalesce, as a level line does.
#include <condition_variable>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "../recovery/recovery.h"
#include "checks.h"
#include "subsystems.h"

using namespace nooks;

namespace {
struct Line {
  std::mutex lock;
  std::condition_variable cv;
  int domain = -1;
  irq_handler_t handler = nullptr;
  void *dev_id = nullptr;
  int masked = 0;        // disable_irq nesting
  bool domain_masked = false;  // recovery masks every line of a failed driver
  bool pending = false;
  bool stop = false;
  std::thread thread;
  // A real device's end of interrupt (unmask INTx): after each handler run,
  // and when a handler is attached. Set by the device, not the driver.
  std::function<void()> ack;
  // A POSIX driver's VFIO eventfd or UIO node: raised instead of a handler (irq_set_signal).
  // Shared, so that an interrupt takes it out of the lock without copying (allocating) the function.
  std::shared_ptr<const std::function<void()>> signal;
  const void *signal_owner = nullptr;
};
// Every interrupt line.
// Never destroyed: kernel threads may still run while the process exits.
struct Lines {
  Line lines[kIrqLines];
};
Lines &irqs = *new Lines;

// Filled by static constructors before main, read after: no lock needed.
std::vector<void (*)(Domain *)> &after_interrupt() {
  static std::vector<void (*)(Domain *)> v;
  return v;
}
thread_local bool tl_irq_thread = false;
// Set on an irq thread whose handler freed its own line (stop_line): the line
// is no longer this thread's, and may already have a thread of its own again.
thread_local bool tl_line_freed = false;

// Per domain, the irq threads whose handler freed their own line and which
// still use the domain: nothing joins them, so its teardown waits for them
// (irq_wait_freed_lines) before the domain may be reset or freed.
struct FreedLines {
  std::mutex lock;
  std::condition_variable cv;
  int threads[kMaxDomains] = {};
};
FreedLines &freed_lines = *new FreedLines;

// The end of an irq thread whose handler freed its line, its handler's run
// done: it forgets its stack in d, then lets d's teardown go on.
void end_freed_line_thread(Domain *d) {
  domain_thread_forget(d);  // from here on nothing of d's is touched: d may go
  std::lock_guard<std::mutex> g(freed_lines.lock);
  freed_lines.threads[d->id]--;
  freed_lines.cv.notify_all();
}

void irq_loop(unsigned irq) {
  tl_irq_thread = true;
  Line &l = irqs.lines[irq];
  std::unique_lock<std::mutex> g(l.lock);
  for (;;) {
    l.cv.wait(g, [&] { return l.stop || (l.pending && !l.masked && !l.domain_masked); });
    if (l.stop) return;
    l.pending = false;
    Domain *d = g_domains[l.domain];
    XpcCall c{(const void *)l.handler, {irq, (uint64_t)l.dev_id}, 0};
    g.unlock();
    Fault f;
    if (d) d->interrupts.fetch_add(1, std::memory_order_relaxed);
    if (d && xpc_call(d, &c, &f) == EnterResult::fault) recovery_notify(d, f);
    if (d)
      for (auto run : after_interrupt()) run(d);
    if (tl_line_freed) {  // its last run: the line, freed, is not touched again
      end_freed_line_thread(d);
      return;
    }
    g.lock();
    if (l.ack) {
      auto ack = l.ack;
      g.unlock();
      ack();
      g.lock();
    }
  }
}

void stop_line(Line &l) {
  std::thread t;
  int domain;
  {
    std::lock_guard<std::mutex> g(l.lock);
    domain = l.domain;
    l.stop = true;
    l.domain = -1;
    l.cv.notify_all();
    t = std::move(l.thread);
  }
  if (t.get_id() == std::this_thread::get_id()) {
    // Freed from its own handler: the thread ends once the handler returns
    // (irq_loop), and the domain's teardown waits for that.
    t.detach();
    tl_line_freed = true;
    std::lock_guard<std::mutex> g(freed_lines.lock);
    freed_lines.threads[domain]++;
  } else if (t.joinable()) {
    UnlockedWait w;  // under mprotect the irq thread may need to enter the driver to finish
    t.join();
  }
}
}  // namespace

extern "C" int kapi_request_irq(unsigned int irq, irq_handler_t handler, unsigned long, const char *name, void *dev_id) {
  Domain *d = calling_domain();
  if (irq >= kIrqLines) return -EINVAL;
  Line &l = irqs.lines[irq];
  std::function<void()> ack;
  {
    std::lock_guard<std::mutex> g(l.lock);
    if (l.domain >= 0 || l.thread.joinable()) return -EBUSY;
    l.domain = d->id;
    l.handler = handler;
    l.dev_id = dev_id;
    l.masked = 0;
    l.domain_masked = false;
    l.pending = l.stop = false;
    l.thread = std::thread(irq_loop, irq);
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
  stop_line(l);
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

bool on_irq_thread() { return tl_irq_thread; }

bool irq_raise(unsigned irq) {
  if (irq >= kIrqLines) return false;
  Line &l = irqs.lines[irq];
  std::unique_lock<std::mutex> g(l.lock);
  if (l.signal) {  // signalled at once, and unmasked: the eventfd's reader cannot end the interrupt itself
    std::shared_ptr<const std::function<void()>> signal = l.signal;
    std::function<void()> ack = l.ack;
    g.unlock();
    (*signal)();
    if (ack) ack();
    return true;
  }
  if (l.domain < 0) return false;
  l.pending = true;
  l.cv.notify_all();
  return true;
}

void irq_set_ack(unsigned irq, std::function<void()> ack) {
  std::lock_guard<std::mutex> g(irqs.lines[irq].lock);
  irqs.lines[irq].ack = std::move(ack);
}

bool irq_set_signal(unsigned irq, const void *owner, std::function<void()> signal) {
  auto shared = signal ? std::make_shared<const std::function<void()>>(std::move(signal)) : nullptr;
  Line &l = irqs.lines[irq];
  std::lock_guard<std::mutex> g(l.lock);
  if (l.signal_owner && l.signal_owner != owner) return false;
  l.signal = std::move(shared);
  l.signal_owner = l.signal ? owner : nullptr;
  return true;
}

void irq_mask_domain(Domain *d, bool masked) {
  for (Line &l : irqs.lines) {
    std::lock_guard<std::mutex> g(l.lock);
    if (l.domain != d->id) continue;
    l.domain_masked = masked;
    l.cv.notify_all();
  }
}

void irq_release(Domain *d, unsigned irq) {
  if (irq < kIrqLines && irqs.lines[irq].domain == d->id) stop_line(irqs.lines[irq]);
}

void irq_wait_freed_lines(Domain *d) {
  UnlockedWait w;  // under mprotect such a thread may need to enter the driver to finish
  std::unique_lock<std::mutex> g(freed_lines.lock);
  freed_lines.cv.wait(g, [&] { return freed_lines.threads[d->id] == 0; });
}

}  // namespace nooks
