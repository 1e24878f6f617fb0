// What a POSIX driver's file descriptor refers to: one kind of file per class
// (sysfs attributes, a hugetlbfs file, pagemap, VFIO's container, groups and
// devices, UIO nodes, eventfd, epoll, timerfd, signalfd, a directory), each answering the same few operations. Offsets
// and lengths are checked by the caller (native/posix/calls.cc); buffers are
// kernel memory. Every operation returns a count or 0, or -errno.
#pragma once
#include <errno.h>
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "../domain/domain.h"
#include "../kapi/checks.h"

namespace nooks {

class WaitQueue;

struct FileStat {
  uint32_t mode;  // S_IF* | permission bits
  uint64_t size;
};

// How a file answers an offset, as Linux's kinds of file do.
enum class Positioning {
  seekable,   // a regular file's, a device's: read and write at an offset, lseek moves the position
  stream,     // a pipe's: an offset given to read, write or lseek is -ESPIPE
  anonymous,  // an anon inode's (eventfd, timerfd, signalfd, epoll): pread and pwrite -ESPIPE; lseek answers 0 and moves nothing (Linux's noop_llseek)
};

// The kinds another file's operation needs to tell apart (no RTTI in the addon).
enum class FileKind { other, eventfd, epoll, vfio_container, directory, timerfd, signalfd };

class File {
 public:
  explicit File(std::string path) : path(std::move(path)) {}
  virtual ~File() = default;
  // `flags`: the descriptor's status flags (O_NONBLOCK: a read that would wait is -EAGAIN).
  virtual long pread(Domain *, uint8_t *, size_t, uint64_t, int) { return -EINVAL; }
  virtual long pwrite(Domain *, const uint8_t *, size_t, uint64_t, int) { return -EINVAL; }
  // What a read or write would find now (EPOLLIN | EPOLLOUT), for epoll; -EPERM: not pollable (a regular file).
  virtual int poll_events() { return -EPERM; }
  // How often what poll_events reports changed: an edge-triggered watch reports each new one.
  virtual uint64_t changes() { return 0; }
  // The queue a change of what poll_events reports wakes (wait_queue.h); null: it never changes.
  virtual std::shared_ptr<WaitQueue> waits() { return nullptr; }
  // `arg` comes unchecked: a kind whose requests take a pointer checks it
  // (check_ioctl_arg, native/posix/vfio.h) before use.
  virtual long ioctl(Domain *, unsigned long, unsigned long) { return -ENOTTY; }
  // The address in the driver's memory of `len` bytes at `off` (a multiple
  // of the page), or -errno; and its undoing (munmap, or recovery).
  virtual long mmap(Domain *, size_t, uint64_t) { return -ENODEV; }
  virtual void munmap(Domain *, uintptr_t, size_t) {}
  virtual long truncate(Domain *, uint64_t) { return -EINVAL; }
  virtual FileStat fstat() = 0;
  virtual Positioning positioning() const { return Positioning::seekable; }
  // A descriptor of it was closed (the file lives on while others refer to it).
  virtual void close(Domain *) {}
  virtual FileKind kind() const { return FileKind::other; }
  const std::string path;
};

// The driver's memory an ioctl's `arg` points to, checked as the generated
// wrappers check pointers (a bad one is a bad-call fault); under isolation
// none, as there, not at all (none checks no kernel call).
inline void check_ioctl_arg(Domain *d, unsigned long arg, size_t n, const char *request, bool written = true) {
  if (g_backend.mode == Isolation::none) return;
  if (written) check_writable(d, (const void *)arg, n, false, "ioctl", request);
  else check_readable(d, (const void *)arg, n, false, "ioctl", request);
}

// An ioctl that answers an int at `arg` (FIONREAD): written there, checked; 0.
inline long ioctl_answer_int(Domain *d, unsigned long arg, int v, const char *request) {
  check_ioctl_arg(d, arg, sizeof v, request);
  memcpy((void *)arg, &v, sizeof v);
  return 0;
}

// f as the class T (which names its FileKind kKind), or null when it is another kind.
template <class T>
std::shared_ptr<T> file_as(const std::shared_ptr<File> &f) {
  return f && f->kind() == T::kKind ? std::static_pointer_cast<T>(f) : nullptr;
}

}  // namespace nooks
