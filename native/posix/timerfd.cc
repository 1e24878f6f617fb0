// timerfd (timerfd.h): the file and the calls timerfd_create, timerfd_settime, timerfd_gettime.
#include "timerfd.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

#include <climits>
#include <cstring>

#include "../kapi/checks.h"
#include "../kapi/wait.h"

namespace nooks {

namespace {

long long add_saturating(long long a, long long b) { return a > LLONG_MAX - b ? LLONG_MAX : a + b; }

}  // namespace

uint64_t TimerFd::expiries(long long now) const {
  if (first_ < 0 || now < first_) return 0;
  return interval_ ? 1 + (uint64_t)((now - first_) / interval_) : 1;
}

long long TimerFd::until_next(long long now) const {
  if (first_ < 0) return -1;
  if (now < first_) return first_ - now;
  return interval_ ? interval_ - (now - first_) % interval_ : -1;
}

long long TimerFd::next_visit(long long now) const {
  long long left = until_next(now);
  return left < 0 ? -1 : add_saturating(clock_now_ns(CLOCK_MONOTONIC), left);
}

long TimerFd::pread(Domain *d, uint8_t *buf, size_t n, uint64_t, int flags) {
  if (n < 8) return -EINVAL;
  uint64_t v = 0;
  long long next = -1;
  auto take = [&] {
    std::lock_guard<std::mutex> g(lock_);
    long long now = clock_now_ns(clock_);
    uint64_t due = expiries(now);
    if (due <= read_) return false;  // none since the last read, or the clock set back before expiries read
    v = due - read_;
    read_ = due;
    batches_++;
    next = next_visit(now);
    return true;
  };
  if (long r = file_block(d, flags, waits_, take)) return r;
  if (next >= 0) expiry_visit_by(this, next);  // the next batch's first expiry wakes the waits
  memcpy(buf, &v, 8);
  return 8;
}

int TimerFd::poll_events() {
  std::lock_guard<std::mutex> g(lock_);
  return unread(clock_now_ns(clock_)) ? (int)EPOLLIN : 0;
}

uint64_t TimerFd::changes() {
  std::lock_guard<std::mutex> g(lock_);
  return earlier_ + batches_ + unread(clock_now_ns(clock_));
}

TimerFd::Setting TimerFd::set(bool absolute, long long value_ns, long long interval_ns) {
  Setting was;
  {
    std::lock_guard<std::mutex> g(lock_);
    long long now = clock_now_ns(clock_);
    long long left = until_next(now);
    was = {left < 0 ? 0 : left, interval_};
    earlier_ += batches_ + unread(now) + 1;
    first_ = !value_ns ? -1 : absolute ? value_ns : add_saturating(now, value_ns);
    interval_ = interval_ns;
    read_ = batches_ = 0;
  }
  expiry_visit_by(this, 0);
  return was;
}

TimerFd::Setting TimerFd::get() {
  std::lock_guard<std::mutex> g(lock_);
  long long left = until_next(clock_now_ns(clock_));
  return {left < 0 ? 0 : left, interval_};
}

long long TimerFd::visit() {
  long long next;
  bool batch;
  {
    std::lock_guard<std::mutex> g(lock_);
    long long now = clock_now_ns(clock_);
    batch = unread(now);
    next = batch ? -1 : next_visit(now);  // a batch begun: the read that takes it asks for the next visit
  }
  if (batch) waits_->wake_all();
  return next;
}

}  // namespace nooks

using namespace nooks;

static_assert(TFD_CLOEXEC == O_CLOEXEC && TFD_NONBLOCK == O_NONBLOCK, "timerfd's flags are the descriptor's");

namespace {

// The timerfd behind fd: -EBADF (not open), -EINVAL (another file), as Linux.
std::shared_ptr<TimerFd> timerfd_at(int fd, int *error) {
  std::shared_ptr<OpenFile> of = fd_get(calling_domain(), fd);
  std::shared_ptr<TimerFd> t = of ? file_as<TimerFd>(of->file) : nullptr;
  *error = !of ? -EBADF : !t ? -EINVAL : 0;
  return t;
}

}  // namespace

extern "C" int kapi_nooks_posix_timerfd_create(int clock, int flags) {
  if (clock != CLOCK_MONOTONIC && clock != CLOCK_REALTIME && clock != CLOCK_BOOTTIME) return -EINVAL;
  if (flags & ~(TFD_CLOEXEC | TFD_NONBLOCK)) return -EINVAL;
  return fd_install(calling_domain(), std::make_shared<TimerFd>(clock), O_RDWR | flags);
}

extern "C" int kapi_nooks_posix_timerfd_settime(int fd, int flags, long long value_ns, long long interval_ns, unsigned long long *old) {
  if ((flags & ~TFD_TIMER_ABSTIME) || value_ns < 0 || interval_ns < 0) return -EINVAL;
  int error;
  std::shared_ptr<TimerFd> t = timerfd_at(fd, &error);
  if (!t) return error;
  TimerFd::Setting was = t->set(flags & TFD_TIMER_ABSTIME, value_ns, interval_ns);
  if (old) old[0] = (unsigned long long)was.value_ns, old[1] = (unsigned long long)was.interval_ns;
  return 0;
}

extern "C" int kapi_nooks_posix_timerfd_gettime(int fd, unsigned long long *now) {
  int error;
  std::shared_ptr<TimerFd> t = timerfd_at(fd, &error);
  if (!t) return error;
  TimerFd::Setting s = t->get();
  now[0] = (unsigned long long)s.value_ns, now[1] = (unsigned long long)s.interval_ns;
  return 0;
}
