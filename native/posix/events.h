// eventfd and epoll: the files a POSIX driver waits on (VFIO signals its
// interrupts through an eventfd). A wait (a read that finds nothing, a write
// that would overflow, epoll_wait) is a kernel call that waits inside the
// driver's crossing: it counts against the driver's time budget, as msleep,
// lets other threads run the driver meanwhile (UnlockedWait), and ends early
// when the domain fails.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <sys/epoll.h>

#include "fd_table.h"

namespace nooks {

// A file became readable or writable: wakes every wait.
void files_changed();
// Waits until ready() is true (true), timeout_ms passes (-1: never) or d fails (false).
// ready() runs with no driver memory open: it may touch kernel memory only.
bool files_wait(Domain *d, long timeout_ms, const std::function<bool()> &ready);

// An eventfd: an 8-byte counter that writes add to and reads take (all, or one under EFD_SEMAPHORE).
class EventFd : public File {
 public:
  EventFd(uint64_t count, bool semaphore) : File("anon_inode:[eventfd]"), count_(count), semaphore_(semaphore) {}
  long pread(Domain *d, uint8_t *buf, size_t n, uint64_t, int flags) override;
  long pwrite(Domain *d, const uint8_t *buf, size_t n, uint64_t, int flags) override;
  int poll_events() override;
  FileStat fstat() override { return {0600, 0}; }
  static constexpr FileKind kKind = FileKind::eventfd;
  FileKind kind() const override { return kKind; }
  // Adds n (saturating, never waiting): a device's interrupt, from any thread.
  void signal(uint64_t n);
  // How many reads and writes (signals too) changed the count.
  uint64_t changes() override;

 private:
  std::mutex lock_;
  uint64_t count_;
  uint64_t changes_ = 0;
  const bool semaphore_;
};

// An epoll instance: the descriptors it watches and what for: level-triggered,
// or EPOLLET (reported once per change of the count, as Linux wakes its
// watchers on each write), EPOLLONESHOT (reported once, until EPOLL_CTL_MOD).
class Epoll : public File {
 public:
  Epoll() : File("anon_inode:[eventpoll]") {}
  // EPOLL_CTL_ADD, MOD, DEL of `of` (descriptor fd); 0 or -errno.
  long ctl(int op, int fd, const std::shared_ptr<OpenFile> &of, uint32_t events, uint64_t data);
  // At most `max` of the watched descriptors that are ready now.
  std::vector<epoll_event> ready(size_t max);
  FileStat fstat() override { return {0600, 0}; }
  static constexpr FileKind kKind = FileKind::epoll;
  FileKind kind() const override { return kKind; }

 private:
  struct Interest {
    uint32_t events;
    uint64_t data;
    std::weak_ptr<OpenFile> file;  // a descriptor closed is no longer watched
    uint64_t reported_at = kNever;  // EPOLLET: the file's changes() when last reported
    bool spent = false;             // EPOLLONESHOT: reported, disabled until EPOLL_CTL_MOD
  };
  static constexpr uint64_t kNever = ~0ull;
  std::mutex lock_;
  std::map<int, Interest> interests_;
};

}  // namespace nooks
