// What a POSIX driver's file descriptor refers to: one kind of file per class
// (sysfs attributes, a hugetlbfs file, pagemap; later VFIO's fds, eventfd,
// epoll), each answering the same few operations. Offsets and lengths are
// checked by the caller (native/posix/calls.cc); buffers are kernel memory.
// Every operation returns a count or 0, or -errno.
#pragma once
#include <errno.h>
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "../domain/domain.h"

namespace nooks {

struct FileStat {
  uint32_t mode;  // S_IF* | permission bits
  uint64_t size;
};

class File {
 public:
  explicit File(std::string path) : path(std::move(path)) {}
  virtual ~File() = default;
  virtual long pread(Domain *, uint8_t *, size_t, uint64_t) { return -EINVAL; }
  virtual long pwrite(Domain *, const uint8_t *, size_t, uint64_t) { return -EINVAL; }
  // `arg` comes unchecked: a kind whose requests take a pointer checks it
  // (check_readable/check_writable, native/kapi/checks.h) before use.
  virtual long ioctl(Domain *, unsigned long, unsigned long) { return -ENOTTY; }
  // The address in the driver's memory of `len` bytes at `off` (a multiple
  // of the page), or -errno; and its undoing (munmap, or recovery).
  virtual long mmap(Domain *, size_t, uint64_t) { return -ENODEV; }
  virtual void munmap(Domain *, uintptr_t, size_t) {}
  virtual long truncate(Domain *, uint64_t) { return -EINVAL; }
  virtual FileStat fstat() = 0;
  // A descriptor of it was closed (the file lives on while others refer to it).
  virtual void close(Domain *) {}
  const std::string path;
};

}  // namespace nooks
