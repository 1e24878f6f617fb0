// signalfd: a descriptor a program reads its pending signals from, as Linux's
// (man 2 signalfd): readable while a signal of its mask is pending, i.e.
// sent and blocked by every thread of the program (program_signals.h); a
// read takes the lowest such signals, one struct signalfd_siginfo each. Its
// waits sleep on the program's queue of signals becoming pending, so poll,
// select and epoll watch it as any file. Daemons block SIGTERM and SIGHUP
// and read them in their event loop this way.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <vector>

#include "fd_table.h"
#include "program_signals.h"

namespace nooks {

namespace {

const uint64_t kNeverRead = signal_bit(SIGKILL) | signal_bit(SIGSTOP);  // as Linux, silently left out of the mask

class SignalFd : public File {
 public:
  SignalFd(Domain *d, uint64_t mask) : File("anon_inode:[signalfd]"), d_(d), mask_(mask & ~kNeverRead) {}
  // As many struct signalfd_siginfo as fit in n (at least one: else -EINVAL), one per pending signal taken.
  long pread(Domain *d, uint8_t *buf, size_t n, uint64_t, int flags) override;
  int poll_events() override { return signals_pending(d_) & mask_.load() ? (int)EPOLLIN : 0; }
  uint64_t changes() override { return signals_pending_changes(d_); }
  std::shared_ptr<WaitQueue> waits() override { return signals_pending_waits(d_); }
  FileStat fstat() override { return {0600, 0}; }
  static constexpr FileKind kKind = FileKind::signalfd;
  FileKind kind() const override { return kKind; }
  Positioning positioning() const override { return Positioning::anonymous; }
  // signalfd on this descriptor again: what it reads from now on.
  void set_mask(uint64_t mask) {
    mask_.store(mask & ~kNeverRead);
    signals_pending_waits(d_)->wake_all();  // a wait on it may find a pending signal readable now
  }

 private:
  Domain *const d_;  // the program whose signals it reads: its descriptor table holds it
  std::atomic<uint64_t> mask_;
};

long SignalFd::pread(Domain *d, uint8_t *buf, size_t n, uint64_t, int flags) {
  size_t most = n / sizeof(signalfd_siginfo);
  if (!most) return -EINVAL;
  std::vector<int> sigs;
  auto take = [&] {
    while (sigs.size() < most)
      if (int sig = signals_take(d, mask_.load())) sigs.push_back(sig);
      else break;
    return !sigs.empty();
  };
  if (long r = file_block(d, flags, waits(), take)) return r;
  for (size_t i = 0; i < sigs.size(); i++) {
    signalfd_siginfo info{};
    info.ssi_signo = (uint32_t)sigs[i];
    info.ssi_code = SI_USER;            // Driver.kill's, as a handler's siginfo says
    info.ssi_pid = (uint32_t)getpid();  // the kernel's: the process whose application called kill
    info.ssi_uid = getuid();
    memcpy(buf + i * sizeof info, &info, sizeof info);
  }
  return (long)(sigs.size() * sizeof(signalfd_siginfo));
}

}  // namespace

}  // namespace nooks

using namespace nooks;

static_assert(sizeof(signalfd_siginfo) == 128, "struct signalfd_siginfo as Linux's");

extern "C" int kapi_nooks_posix_signalfd(int fd, unsigned long mask, int flags) {
  Domain *d = calling_domain();
  if (flags & ~(SFD_CLOEXEC | SFD_NONBLOCK)) return -EINVAL;
  if (fd == -1) return fd_install(d, std::make_shared<SignalFd>(d, mask), O_RDWR | flags);
  std::shared_ptr<OpenFile> of = fd_get(d, fd);
  if (!of) return -EBADF;
  std::shared_ptr<SignalFd> s = file_as<SignalFd>(of->file);
  if (!s) return -EINVAL;
  s->set_mask(mask);
  return fd;
}
