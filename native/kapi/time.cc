// Time: jiffies, msleep and timers. Timers fire on one kernel timer thread,
// which crosses into the driver to run the callback.
#include <time.h>

#include <condition_variable>
#include <map>
#include <thread>

#include "../recovery/recovery.h"
#include "callback_thread.h"
#include "checks.h"
#include "subsystems.h"
#include "wait.h"

using namespace nooks;

static uint64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
static uint64_t mono_ms() { return mono_ns() / 1000000; }
static const uint64_t g_boot_ms = mono_ms();

namespace nooks {
uint64_t jiffies_now() { return mono_ms() - g_boot_ms; }

void driver_sleep_ns(Domain *d, uint64_t ns) {
  wait_until(d, Deadline::after_ns(ns), [] { return false; });
}
}  // namespace nooks

extern "C" unsigned long kapi_nooks_jiffies() { return jiffies_now(); }

extern "C" void kapi_msleep(unsigned int ms) { driver_sleep_ns(calling_domain(), (uint64_t)ms * 1000000); }

// ---- timers ---------------------------------------------------------------
namespace {
struct TimerKey {
  int domain;
  uintptr_t addr;
  bool operator<(const TimerKey &o) const { return domain != o.domain ? domain < o.domain : addr < o.addr; }
};
// The timer thread and its queue (never destroyed: see kthread.h).
struct Timers : CallbackThread<TimerKey> {
  Timers() : CallbackThread("timer thread") {}
  std::multimap<uint64_t, TimerKey> queue;  // expires -> timer
  std::map<TimerKey, uint64_t> armed;       // timer -> expires
};
Timers &timers = *new Timers;

void disarm_locked(const TimerKey &k) {
  auto it = timers.armed.find(k);
  if (it == timers.armed.end()) return;
  auto range = timers.queue.equal_range(it->second);
  for (auto q = range.first; q != range.second; ++q)
    if (!(q->second < k) && !(k < q->second)) {
      timers.queue.erase(q);
      break;
    }
  timers.armed.erase(it);
}

void timer_loop() {
  std::unique_lock<std::mutex> g(timers.lock);
  while (!timers.stop) {
    if (timers.queue.empty()) {
      timers.cv.wait(g);
      continue;
    }
    uint64_t now = jiffies_now();
    auto first = timers.queue.begin();
    if (first->first > now) {
      timers.cv.wait_for(g, std::chrono::milliseconds(first->first - now));
      continue;
    }
    TimerKey k = first->second;
    timers.queue.erase(first);
    timers.armed.erase(k);
    Domain *d = g_domains[k.domain];
    Object o;
    if (!d || !d->objects.find(ObjectType::timer, k.addr, &o)) continue;
    if (!timers.run_callback(g, d, k, (const void *)o.data)) return;  // left running
  }
}
}  // namespace

extern "C" void kapi_timer_setup(struct timer_list *t, void (*fn)(struct timer_list *), unsigned int flags) {
  Domain *d = calling_domain();
  t->function = fn;
  t->expires = 0;
  t->flags = flags;
  {
    std::lock_guard<std::mutex> g(timers.lock);
    disarm_locked({d->id, (uintptr_t)t});
  }
  // The kernel calls the function recorded here, not whatever the driver later writes into *t.
  d->objects.add({ObjectType::timer, (uintptr_t)t, sizeof *t, (uint64_t)fn, "timer"});
}

extern "C" int kapi_mod_timer(struct timer_list *t, unsigned long expires) {
  Domain *d = calling_domain();
  TimerKey k{d->id, (uintptr_t)t};
  std::lock_guard<std::mutex> g(timers.lock);
  bool pending = timers.armed.count(k);
  disarm_locked(k);
  t->expires = expires;
  timers.armed[k] = expires;
  timers.queue.emplace(expires, k);
  timers.cv.notify_all();
  return pending;
}

extern "C" int kapi_del_timer(struct timer_list *t) {
  Domain *d = calling_domain();
  TimerKey k{d->id, (uintptr_t)t};
  std::unique_lock<std::mutex> g(timers.lock);
  bool pending = timers.armed.count(k);
  disarm_locked(k);
  timers.wait_out(g, d, [&] { return !(timers.running < k) && !(k < timers.running); });
  return pending;
}

namespace nooks {

void timers_start() { timers.start(timer_loop); }
void timers_stop() { timers.join(); }

// Recovery or unload, the teardown's wait for threads inside the domain done
// (CallbackThread::release).
void timers_release(Domain *d) {
  std::unique_lock<std::mutex> g(timers.lock);
  timers.release(g, d);
  // After the wait: a callback may have re-armed its timer.
  while (true) {
    auto it = timers.armed.lower_bound({d->id, 0});
    if (it == timers.armed.end() || it->first.domain != d->id) break;
    disarm_locked(it->first);
  }
}

}  // namespace nooks
