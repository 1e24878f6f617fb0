// eventfd and epoll: the files a POSIX driver waits on (VFIO signals its
// interrupts through an eventfd). A wait (a read that finds nothing, a write
// that would overflow, epoll_wait) sleeps on the file's wait queue
// (wait_queue.h): a change to another file does not wake it.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <sys/epoll.h>

#include "fd_table.h"
#include "wait_queue.h"

namespace nooks {

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
  Positioning positioning() const override { return Positioning::anonymous; }
  // Adds n (saturating, never waiting): a device's interrupt, from any thread.
  void signal(uint64_t n);
  // How many reads and writes (signals too) changed the count.
  uint64_t changes() override;
  std::shared_ptr<WaitQueue> waits() override { return waits_; }

 private:
  const std::shared_ptr<WaitQueue> waits_ = std::make_shared<WaitQueue>();
  std::mutex lock_;
  uint64_t count_;
  uint64_t changes_ = 0;
  const bool semaphore_;
};

// An epoll instance: the descriptors it watches and what for: level-triggered,
// or EPOLLET (reported once per change of the count, as Linux wakes its
// watchers on each write), EPOLLONESHOT (reported once, until EPOLL_CTL_MOD).
// Each watch is an entry on the watched file's wait queue that wakes the
// epoll's own (what epoll_wait sleeps on), as Linux's ep_poll_callback.
class Epoll : public File {
 public:
  Epoll() : File("anon_inode:[eventpoll]") {}
  // EPOLL_CTL_ADD, MOD, DEL of `of` (descriptor fd); 0 or -errno.
  long ctl(int op, int fd, const std::shared_ptr<OpenFile> &of, uint32_t events, uint64_t data);
  // At most `max` of the watched descriptors that are ready now.
  std::vector<epoll_event> ready(size_t max);
  // epoll_wait's: woken by a change to a watched file, and by a watch added or armed again.
  std::shared_ptr<WaitQueue> waits() override { return waits_; }
  FileStat fstat() override { return {0600, 0}; }
  static constexpr FileKind kKind = FileKind::epoll;
  FileKind kind() const override { return kKind; }
  Positioning positioning() const override { return Positioning::anonymous; }

 private:
  // On the watched file's queue while the watch lasts: a change wakes the epoll's waits.
  class Watch : public WaitEntry {
   public:
    Watch(std::shared_ptr<WaitQueue> file, std::shared_ptr<WaitQueue> epoll);
    ~Watch();
    void wake() override { epoll_->wake_all(); }

   private:
    const std::shared_ptr<WaitQueue> file_, epoll_;  // the file's queue outlives the file while watched
  };
  struct Interest {
    uint32_t events;
    uint64_t data;
    std::weak_ptr<OpenFile> file;  // a descriptor closed is no longer watched
    std::unique_ptr<Watch> watch;
    uint64_t reported_at = kNever;  // EPOLLET: the file's changes() when last reported
    bool spent = false;             // EPOLLONESHOT: reported, disabled until EPOLL_CTL_MOD
  };
  static constexpr uint64_t kNever = ~0ull;
  const std::shared_ptr<WaitQueue> waits_ = std::make_shared<WaitQueue>();
  std::mutex lock_;
  std::map<int, Interest> interests_;
};

}  // namespace nooks
