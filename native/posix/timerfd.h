// A timerfd: a timer on a clock whose expiries a read counts. The count is
// computed from the clock when the file is read or polled (1 + (now -
// first) / interval expiries since the first), not ticked. As on Linux, the
// expiries between two reads are one batch: its first expiry wakes the waits
// on the file (wait_queue.h; the expiry thread, expiry_thread.h, at its time)
// and is one edge for EPOLLET; the others join it unseen, and the read that
// takes the batch asks for a wake at the next expiry.
#pragma once
#include <time.h>

#include <memory>
#include <mutex>

#include "expiry_thread.h"
#include "fd_table.h"
#include "wait_queue.h"

namespace nooks {

class TimerFd : public File, public Expiring {
 public:
  // timerfd_gettime's answer: ns until the next expiry (0: none), and the period (0: one expiry).
  struct Setting {
    long long value_ns, interval_ns;
  };
  explicit TimerFd(clockid_t clock) : File("anon_inode:[timerfd]"), clock_(clock) {}
  ~TimerFd() override { expiry_forget(this); }
  // 8 bytes: the expiries since the last read; waits while there is none (-EAGAIN under O_NONBLOCK).
  long pread(Domain *d, uint8_t *buf, size_t n, uint64_t, int flags) override;
  int poll_events() override;
  // Each batch of expiries (and each arming) is a change: EPOLLET reports it once.
  uint64_t changes() override;
  std::shared_ptr<WaitQueue> waits() override { return waits_; }
  FileStat fstat() override { return {0600, 0}; }
  static constexpr FileKind kKind = FileKind::timerfd;
  FileKind kind() const override { return kKind; }
  Positioning positioning() const override { return Positioning::anonymous; }
  // timerfd_settime: the first expiry `value_ns` from now, or at that time of
  // the clock if `absolute` (at once if past), 0: disarmed; then one every
  // `interval_ns` (0: none). Expiries not read are forgotten. Returns the setting before.
  Setting set(bool absolute, long long value_ns, long long interval_ns);
  Setting get();
  long long visit() override;

 private:
  // Under lock_, at `now` on the clock: how many expiries since armed; whether
  // one is unread; ns until the next (-1: none), and when that is on
  // CLOCK_MONOTONIC (the expiry thread's time; -1: none).
  uint64_t expiries(long long now) const;
  bool unread(long long now) const { return expiries(now) > read_; }
  long long until_next(long long now) const;
  long long next_visit(long long now) const;
  const clockid_t clock_;
  const std::shared_ptr<WaitQueue> waits_ = std::make_shared<WaitQueue>();
  std::mutex lock_;
  long long first_ = -1;  // the first expiry, on clock_; -1: disarmed
  long long interval_ = 0;
  uint64_t read_ = 0;     // expiries since armed that reads took
  uint64_t batches_ = 0;  // reads since armed that took some
  uint64_t earlier_ = 0;  // changes() up to the last arming: it never goes back
};

}  // namespace nooks
