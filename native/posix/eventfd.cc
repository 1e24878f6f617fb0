// eventfd (events.h).
#include <fcntl.h>
#include <sys/eventfd.h>

#include <cstring>

#include "../kapi/checks.h"
#include "events.h"

namespace nooks {

constexpr uint64_t kMaxCount = 0xfffffffffffffffe;  // as Linux: a write past it waits

long EventFd::pread(Domain *d, uint8_t *buf, size_t n, uint64_t, int flags) {
  if (n < 8) return -EINVAL;
  uint64_t v = 0;
  auto take = [&] {
    if (!count_) return false;
    v = semaphore_ ? 1 : count_;
    count_ -= v;
    changes_++;
    return true;
  };
  if (long r = file_step(d, flags, lock_, waits_, take, waits_)) return r;  // wakes writers: writable again
  memcpy(buf, &v, 8);
  return 8;
}

long EventFd::pwrite(Domain *d, const uint8_t *buf, size_t n, uint64_t, int flags) {
  if (n < 8) return -EINVAL;
  uint64_t v;
  memcpy(&v, buf, 8);
  if (v > kMaxCount) return -EINVAL;
  auto add = [&] {
    if (count_ > kMaxCount - v) return false;
    count_ += v;
    changes_++;
    return true;
  };
  if (long r = file_step(d, flags, lock_, waits_, add, waits_)) return r;
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
  waits_->wake_all();
}

}  // namespace nooks

using namespace nooks;

extern "C" int kapi_nooks_posix_eventfd(unsigned int count, int flags) {
  if (flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE)) return -EINVAL;
  return fd_install(calling_domain(), std::make_shared<EventFd>(count, flags & EFD_SEMAPHORE),
                    O_RDWR | (flags & (EFD_CLOEXEC | EFD_NONBLOCK)));
}
