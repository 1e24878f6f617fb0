// pipe and pipe2: a bounded buffer between the driver's own threads (an
// event loop's self-pipe, DPDK's interrupt thread), as Linux's pipe: 64 KiB,
// a write of PIPE_BUF bytes or less all or nothing, a read short when less is
// there. Each end has its own wait queue, as Linux's rd_wait and wr_wait: a
// write wakes the waits on the read end, a read those on the write end.
// A driver may hold hundreds of pipes, most of them idle: the buffer is
// allocated at the first write (an idle pipe has none), not zeroed, and a
// drained pipe starts again at its start, so that the bytes of a self-pipe,
// a few at a time, stay in the pages they first touched.
#pragma once
#include <limits.h>
#include <sys/ioctl.h>

#include <memory>
#include <mutex>

#include "fd_table.h"
#include "wait_queue.h"

namespace nooks {

class Pipe {
 public:
  enum class End { read, write };
  static constexpr size_t kCapacity = 64 * 1024;  // Linux's default (16 pages)

  // Bytes read (at most n, what is there); 0 at the end (empty, the write
  // end closed); waits while empty (-EAGAIN under O_NONBLOCK in `flags`).
  long read(Domain *d, uint8_t *buf, size_t n, int flags);
  // Bytes written; waits for room (all n when n <= PIPE_BUF, else any) until
  // all are written, or under O_NONBLOCK writes what fits (-EAGAIN: nothing
  // fits). -EPIPE when the read end is closed (a driver gets no SIGPIPE).
  long write(Domain *d, const uint8_t *buf, size_t n, int flags);
  // What `end` reports (poll_events): the read end EPOLLIN while bytes are
  // there, EPOLLHUP once the write end is closed; the write end EPOLLOUT while
  // PIPE_BUF bytes fit, EPOLLERR once the read end is closed.
  int events(End end);
  // The changes an EPOLLET watch of `end` reports: each write and the write
  // end's close for the read end, each read and the read end's close for the write end.
  uint64_t changes(End end);
  const std::shared_ptr<WaitQueue> &waits(End end) const { return end == End::read ? read_waits_ : write_waits_; }
  // The descriptor of `end` closed (each end has one: no dup).
  void close(End end);
  // The bytes written and not yet read (FIONREAD, of either end, as Linux's pipe_ioctl).
  size_t unread();

 private:
  std::mutex lock_;
  std::unique_ptr<uint8_t[]> ring_;  // kCapacity bytes from the first write on
  size_t head_ = 0, used_ = 0;  // the oldest byte's index, and how many are there
  bool reader_open_ = true, writer_open_ = true;
  uint64_t read_end_changes_ = 0, write_end_changes_ = 0;
  const std::shared_ptr<WaitQueue> read_waits_ = std::make_shared<WaitQueue>(), write_waits_ = std::make_shared<WaitQueue>();
};

// One end of a pipe: a descriptor's file, open for reading or for writing
// only (its access mode refuses the other with -EBADF). The object's label is `pipe`.
class PipeEnd : public File {
 public:
  PipeEnd(std::shared_ptr<Pipe> pipe, Pipe::End end) : File("pipe"), pipe_(std::move(pipe)), end_(end) {}
  long pread(Domain *d, uint8_t *buf, size_t n, uint64_t, int flags) override { return pipe_->read(d, buf, n, flags); }
  long pwrite(Domain *d, const uint8_t *buf, size_t n, uint64_t, int flags) override { return pipe_->write(d, buf, n, flags); }
  int poll_events() override { return pipe_->events(end_); }
  uint64_t changes() override { return pipe_->changes(end_); }
  std::shared_ptr<WaitQueue> waits() override { return pipe_->waits(end_); }
  FileStat fstat() override { return {S_IFIFO | 0600, 0}; }
  Positioning positioning() const override { return Positioning::stream; }
  void close(Domain *) override { pipe_->close(end_); }
  long ioctl(Domain *d, unsigned long request, unsigned long arg) override {
    return request == FIONREAD ? ioctl_answer_int(d, arg, (int)pipe_->unread(), "FIONREAD") : -ENOTTY;
  }

 private:
  const std::shared_ptr<Pipe> pipe_;
  const Pipe::End end_;
};

}  // namespace nooks
