// eventfd, and the waits of the personality's files (events.h).
#include <fcntl.h>
#include <sys/eventfd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>

#include "../kapi/checks.h"
#include "events.h"

namespace nooks {

namespace {

constexpr uint64_t kMaxCount = 0xfffffffffffffffe;  // as Linux: a write past it waits

// One change counter for every wait: a change is rare (an interrupt, a write), a wait re-checks its files.
struct Changes {
  std::mutex lock;
  std::condition_variable cv;
  uint64_t count = 0;
};
Changes &changes = *new Changes;  // never destroyed: device threads may signal while the process exits

}  // namespace

void files_changed() {
  std::lock_guard<std::mutex> g(changes.lock);
  changes.count++;
  changes.cv.notify_all();
}

bool files_wait(Domain *d, long timeout_ms, const std::function<bool()> &ready) {
  using clock = std::chrono::steady_clock;
  const clock::time_point deadline = clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
  for (;;) {
    uint64_t seen;
    {
      std::lock_guard<std::mutex> g(changes.lock);
      seen = changes.count;
    }
    if (ready()) return true;
    clock::time_point now = clock::now();
    if ((timeout_ms >= 0 && now >= deadline) || should_abort(d)) return false;
    clock::time_point until = now + std::chrono::milliseconds(10);  // wake every 10 ms to notice a failed domain
    if (timeout_ms >= 0) until = std::min(until, deadline);
    UnlockedWait w;
    std::unique_lock<std::mutex> g(changes.lock);
    changes.cv.wait_until(g, until, [&] { return changes.count != seen; });
  }
}

long EventFd::pread(Domain *d, uint8_t *buf, size_t n, uint64_t, int flags) {
  if (n < 8) return -EINVAL;
  uint64_t v = 0;
  auto take = [&] {
    std::lock_guard<std::mutex> g(lock_);
    if (!count_) return false;
    v = semaphore_ ? 1 : count_;
    count_ -= v;
    changes_++;
    return true;
  };
  if (!take() && ((flags & O_NONBLOCK) || !files_wait(d, -1, take))) return (flags & O_NONBLOCK) ? -EAGAIN : -EINTR;
  memcpy(buf, &v, 8);
  files_changed();  // writable again
  return 8;
}

long EventFd::pwrite(Domain *d, const uint8_t *buf, size_t n, uint64_t, int flags) {
  if (n < 8) return -EINVAL;
  uint64_t v;
  memcpy(&v, buf, 8);
  if (v > kMaxCount) return -EINVAL;
  auto add = [&] {
    std::lock_guard<std::mutex> g(lock_);
    if (count_ > kMaxCount - v) return false;
    count_ += v;
    changes_++;
    return true;
  };
  if (!add() && ((flags & O_NONBLOCK) || !files_wait(d, -1, add))) return (flags & O_NONBLOCK) ? -EAGAIN : -EINTR;
  files_changed();
  return 8;
}

uint64_t EventFd::changes() {
  std::lock_guard<std::mutex> g(lock_);
  return changes_;
}

int EventFd::poll_events() {
  std::lock_guard<std::mutex> g(lock_);
  return (count_ ? (int)EPOLLIN : 0) | (count_ < kMaxCount ? (int)EPOLLOUT : 0);
}

void EventFd::signal(uint64_t n) {
  {
    std::lock_guard<std::mutex> g(lock_);
    count_ = count_ > kMaxCount - n ? kMaxCount : count_ + n;
    changes_++;
  }
  files_changed();
}

}  // namespace nooks

using namespace nooks;

extern "C" int kapi_nooks_posix_eventfd(unsigned int count, int flags) {
  if (flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE)) return -EINVAL;
  return fd_install(calling_domain(), std::make_shared<EventFd>(count, flags & EFD_SEMAPHORE),
                    O_RDWR | (flags & (EFD_CLOEXEC | EFD_NONBLOCK)));
}
