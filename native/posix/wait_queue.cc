// Wait queues and the waits on them (wait_queue.h).
#include "wait_queue.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>

#include "../kapi/checks.h"

namespace nooks {

namespace {

// One wait's entry on the queues of its files: each change counted, the wait woken.
class Sleeper : public WaitEntry {
 public:
  void wake() override {
    {
      std::lock_guard<std::mutex> g(lock);
      changes++;
    }
    cv.notify_one();  // safe unlocked: the sleeper leaves no queue while a wake is running on it
  }
  std::mutex lock;
  std::condition_variable cv;
  uint64_t changes = 0;
};

// A Sleeper on each of a wait's queues for the wait's life.
class Registered {
 public:
  Registered(Sleeper *s, const std::vector<std::shared_ptr<WaitQueue>> &on) : s_(s), on_(on) {
    for (const auto &q : on_)
      if (q) q->add(s_);
  }
  ~Registered() {
    for (const auto &q : on_)
      if (q) q->remove(s_);
  }

 private:
  Sleeper *s_;
  const std::vector<std::shared_ptr<WaitQueue>> &on_;
};

}  // namespace

void WaitQueue::add(WaitEntry *e) {
  std::lock_guard<std::mutex> g(lock_);
  entries_.push_back(e);
}

void WaitQueue::remove(WaitEntry *e) {
  std::lock_guard<std::mutex> g(lock_);
  auto it = std::find(entries_.begin(), entries_.end(), e);
  if (it != entries_.end()) entries_.erase(it);
}

void WaitQueue::wake_all() {
  std::lock_guard<std::mutex> g(lock_);
  for (WaitEntry *e : entries_) e->wake();
}

bool files_wait(Domain *d, long timeout_ms, const std::vector<std::shared_ptr<WaitQueue>> &on, const std::function<bool()> &ready) {
  using clock = std::chrono::steady_clock;
  const clock::time_point deadline = clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
  Sleeper s;
  Registered registered(&s, on);  // before the first check: no change is missed
  for (;;) {
    uint64_t seen;
    {
      std::lock_guard<std::mutex> g(s.lock);
      seen = s.changes;
    }
    if (ready()) return true;
    clock::time_point now = clock::now();
    if ((timeout_ms >= 0 && now >= deadline) || should_abort(d)) return false;
    clock::time_point until = now + std::chrono::milliseconds(10);  // wake every 10 ms to notice a failed domain
    if (timeout_ms >= 0) until = std::min(until, deadline);
    UnlockedWait w;
    std::unique_lock<std::mutex> g(s.lock);  // let go of before ~UnlockedWait takes the driver back
    s.cv.wait_until(g, until, [&] { return s.changes != seen; });
  }
}

}  // namespace nooks
