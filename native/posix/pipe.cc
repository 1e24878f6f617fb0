// pipe and pipe2 (pipe.h).
#include "pipe.h"

#include <fcntl.h>
#include <sys/epoll.h>

#include <algorithm>
#include <cstring>

#include "../kapi/checks.h"

namespace nooks {

long Pipe::read(Domain *d, uint8_t *buf, size_t n, int flags) {
  if (!n) return 0;
  size_t got = 0;
  auto take = [&] {
    if (!used_) return !writer_open_;  // empty: the end once the writer is gone, else wait
    got = std::min(n, used_);
    size_t first = std::min(got, kCapacity - head_);  // the ring wraps
    memcpy(buf, &ring_[head_], first);
    memcpy(buf + first, ring_.get(), got - first);
    used_ -= got;
    head_ = used_ ? (head_ + got) % kCapacity : 0;  // drained: the next bytes go to the pages already touched
    write_end_changes_++;
    return true;
  };
  if (long r = file_step(d, flags, lock_, read_waits_, take, write_waits_)) return r;
  return (long)got;
}

long Pipe::write(Domain *d, const uint8_t *buf, size_t n, int flags) {
  if (!n) return 0;
  const size_t room_wanted = n <= PIPE_BUF ? n : 1;  // PIPE_BUF or less: all at once, never split
  size_t done = 0;
  bool broken = false;
  auto put = [&] {
    if (!reader_open_) {
      broken = true;
      return true;
    }
    if (kCapacity - used_ < room_wanted) return false;
    if (!ring_) ring_.reset(new uint8_t[kCapacity]);  // not zeroed: a page is resident once written
    size_t k = std::min(n - done, kCapacity - used_), tail = (head_ + used_) % kCapacity;
    size_t first = std::min(k, kCapacity - tail);  // the ring wraps
    memcpy(&ring_[tail], buf + done, first);
    memcpy(ring_.get(), buf + done + first, k - first);
    used_ += k;
    done += k;
    read_end_changes_++;
    return true;
  };
  // Blocking: until all is written; O_NONBLOCK: once, what fits.
  while (done < n && !broken && !(done && (flags & O_NONBLOCK)))
    if (long r = file_step(d, flags, lock_, write_waits_, put, read_waits_)) return done ? (long)done : r;
  return done ? (long)done : -EPIPE;
}

int Pipe::events(End end) {
  std::lock_guard<std::mutex> g(lock_);
  if (end == End::read) return (used_ ? (int)EPOLLIN : 0) | (writer_open_ ? 0 : (int)EPOLLHUP);
  return (kCapacity - used_ >= PIPE_BUF ? (int)EPOLLOUT : 0) | (reader_open_ ? 0 : (int)EPOLLERR);
}

size_t Pipe::unread() {
  std::lock_guard<std::mutex> g(lock_);
  return used_;
}

uint64_t Pipe::changes(End end) {
  std::lock_guard<std::mutex> g(lock_);
  return end == End::read ? read_end_changes_ : write_end_changes_;
}

void Pipe::close(End end) {
  {
    std::lock_guard<std::mutex> g(lock_);
    if (end == End::read) {
      reader_open_ = false;
      write_end_changes_++;
    } else {
      writer_open_ = false;
      read_end_changes_++;
    }
  }
  waits(end == End::read ? End::write : End::read)->wake_all();  // writers to fail with -EPIPE, readers to find the end
}

}  // namespace nooks

using namespace nooks;

extern "C" int kapi_nooks_posix_pipe(int *fds, int flags) {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK)) return -EINVAL;  // O_DIRECT (packet mode) too
  Domain *d = calling_domain();
  auto pipe = std::make_shared<Pipe>();
  int read_fd = fd_install(d, std::make_shared<PipeEnd>(pipe, Pipe::End::read), O_RDONLY | flags);
  if (read_fd < 0) return read_fd;
  int write_fd = fd_install(d, std::make_shared<PipeEnd>(pipe, Pipe::End::write), O_WRONLY | flags);
  if (write_fd < 0) {
    fd_close(d, read_fd);
    return write_fd;
  }
  fds[0] = read_fd, fds[1] = write_fd;
  return 0;
}
