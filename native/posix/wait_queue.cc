// Wait queues and the waits on them (wait_queue.h).
#include "wait_queue.h"

#include <errno.h>
#include <fcntl.h>

#include <algorithm>

#include "../kapi/wait.h"

namespace nooks {

namespace {

// One wait's entry on the queues of its files: each change wakes the waiting thread.
class Sleeper : public WaitEntry {
 public:
  explicit Sleeper(ThreadCtx *t) : t_(t) {}
  void wake() override { thread_wake(t_); }  // safe: the sleeper leaves no queue while a wake is running on it

 private:
  ThreadCtx *t_;
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
  Sleeper s(thread_ctx());
  Registered registered(&s, on);  // before the first check: no change is missed
  return wait_until(d, Deadline::after_ms(timeout_ms), ready);
}

long file_block(Domain *d, int flags, const std::shared_ptr<WaitQueue> &on, const std::function<bool()> &ready) {
  if (ready()) return 0;
  if (flags & O_NONBLOCK) return -EAGAIN;
  return files_wait(d, -1, {on}, ready) ? 0 : -EINTR;
}

long file_step(Domain *d, int flags, std::mutex &lock, const std::shared_ptr<WaitQueue> &waits, const std::function<bool()> &step,
               const std::shared_ptr<WaitQueue> &wakes) {
  long r = file_block(d, flags, waits, [&] {
    std::lock_guard<std::mutex> g(lock);
    return step();
  });
  if (!r) wakes->wake_all();
  return r;
}

}  // namespace nooks
