// Wait queues (Linux's wait_queue_head): each object a POSIX driver waits on
// (an eventfd, a UIO node's interrupt line, a timerfd, each end of a pipe, an
// epoll) keeps the waits on it, and a change to it wakes those only, not
// every wait of every driver. A wait registers on the queues of all its
// files before it first checks them, so a change between its check and its
// sleep is never lost. A wait is a kernel
// call that waits inside the driver's crossing: it counts against the
// driver's time budget, as msleep, lets other threads run the driver
// meanwhile (UnlockedWait), and ends at once when the domain fails
// (native/kapi/wait.h): nothing wakes it but a change or that.
#pragma once
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "../domain/domain.h"

namespace nooks {

// What a change wakes: a wait, or an epoll watching the file (which wakes its own waits).
class WaitEntry {
 public:
  // Runs under the queue's lock. Lock order: a file's queue, then an epoll's
  // queue (its watch wakes it); none is held while waiting.
  virtual void wake() = 0;

 protected:
  ~WaitEntry() = default;
};

class WaitQueue {
 public:
  // e is woken by every change until it is removed (as often as it was added).
  void add(WaitEntry *e);
  void remove(WaitEntry *e);
  // A change: wakes every entry. Any thread (a device's interrupt too); takes no lock the entries' owners hold.
  void wake_all();

 private:
  std::mutex lock_;
  std::vector<WaitEntry *> entries_;
};

// Waits until ready() is true (true), timeout_ms passes (-1: never) or d fails (false),
// waking for a change to one of `on` (null entries: files that never change).
// ready() runs with no driver memory open: it may touch kernel memory only.
bool files_wait(Domain *d, long timeout_ms, const std::vector<std::shared_ptr<WaitQueue>> &on, const std::function<bool()> &ready);
// A read or write of one file that may block: 0 once ready() is true; under
// O_NONBLOCK in `flags` -EAGAIN at once, else -EINTR when d fails first.
long file_block(Domain *d, int flags, const std::shared_ptr<WaitQueue> &on, const std::function<bool()> &ready);
// One read or write of a file whose state `lock` guards: file_block on
// `waits` until step() (run under the lock) is done, then wakes `wakes`, the
// waits on what the step changed (an eventfd's own queue; a pipe's other end).
long file_step(Domain *d, int flags, std::mutex &lock, const std::shared_ptr<WaitQueue> &waits, const std::function<bool()> &step,
               const std::shared_ptr<WaitQueue> &wakes);

}  // namespace nooks
