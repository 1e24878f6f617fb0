// The thread that wakes the waits on timerfds at their expiries (expiry_thread.h).
#include "expiry_thread.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "../kapi/kthread.h"
#include "../kapi/wait.h"

namespace nooks {

namespace {

// The thread and its queue (never destroyed: see kthread.h).
struct ExpiryThread : KernelThread {
  using Queue = std::multimap<long long, Expiring *>;  // when (CLOCK_MONOTONIC ns) -> what to visit then
  Queue due;
  std::map<Expiring *, Queue::iterator> queued;  // each one's single entry in `due`
};
ExpiryThread &expiry = *new ExpiryThread;

// A sleep's longest: a timer set years ahead would overflow the condition variable's clock.
constexpr long long kLongestSleepNs = 3600ll * 1000000000;

void unqueue_locked(Expiring *x) {
  auto it = expiry.queued.find(x);
  if (it == expiry.queued.end()) return;
  expiry.due.erase(it->second);
  expiry.queued.erase(it);
}

void queue_locked(Expiring *x, long long at) {
  unqueue_locked(x);
  expiry.queued[x] = expiry.due.emplace(at, x);
}

void expiry_loop() {
  std::unique_lock<std::mutex> g(expiry.lock);
  while (!expiry.stop) {
    auto first = expiry.due.begin();
    long long now = clock_now_ns(CLOCK_MONOTONIC);
    if (first == expiry.due.end()) {
      expiry.cv.wait(g);
    } else if (first->first > now) {
      expiry.cv.wait_for(g, std::chrono::nanoseconds(std::min(first->first - now, kLongestSleepNs)));
    } else {
      Expiring *x = first->second;
      unqueue_locked(x);
      long long next = x->visit();
      if (next >= 0) queue_locked(x, next);
    }
  }
}

}  // namespace

void expiry_visit_by(Expiring *x, long long at) {
  std::lock_guard<std::mutex> g(expiry.lock);
  auto it = expiry.queued.find(x);
  if (it != expiry.queued.end() && it->second->first <= at) return;
  queue_locked(x, at);
  expiry.cv.notify_all();
}

void expiry_forget(Expiring *x) {
  std::lock_guard<std::mutex> g(expiry.lock);  // a visit runs under it
  unqueue_locked(x);
}

void expiry_thread_start() { expiry.start(expiry_loop); }
void expiry_thread_stop() { expiry.join(); }

}  // namespace nooks
