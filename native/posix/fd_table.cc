#include "fd_table.h"

#include <fcntl.h>

#include "../kapi/objects.h"

namespace nooks {

namespace {

constexpr int kMaxFds = 1024;

// Recovery (or unload): the descriptor goes; its file when nothing else refers to it.
void release_fd(Domain *d, const Object &o) {
  std::shared_ptr<OpenFile> of;
  {
    PosixFiles &p = posix_files(d);
    std::lock_guard<std::mutex> g(p.lock);
    auto it = p.fds.find((int)o.key);
    if (it == p.fds.end()) return;
    of = it->second;
    p.fds.erase(it);
  }
  of->file->close(d);
}
ObjectRelease fd_release(ObjectType::file, release_fd);

}  // namespace

PosixFiles &posix_files(Domain *d) { return *d->posix; }

void posix_files_renew(Domain *d) { d->posix = std::make_shared<PosixFiles>(); }

int fd_install(Domain *d, std::shared_ptr<File> f, int flags) {
  PosixFiles &p = posix_files(d);
  auto of = std::make_shared<OpenFile>();
  of->file = f;
  of->flags = flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC);
  of->cloexec = flags & O_CLOEXEC;
  std::lock_guard<std::mutex> g(p.lock);
  int fd = 3;
  for (auto it = p.fds.lower_bound(fd); it != p.fds.end() && it->first == fd; ++it) fd++;
  if (fd >= kMaxFds) return -EMFILE;
  p.fds[fd] = of;
  d->objects.add({ObjectType::file, (uintptr_t)fd, 0, 0, f->path});
  return fd;
}

std::shared_ptr<OpenFile> fd_get(Domain *d, int fd) {
  PosixFiles &p = posix_files(d);
  std::lock_guard<std::mutex> g(p.lock);
  auto it = p.fds.find(fd);
  return it == p.fds.end() ? nullptr : it->second;
}

int fd_close(Domain *d, int fd) {
  if (!d->objects.remove(ObjectType::file, (uintptr_t)fd)) return -EBADF;
  release_fd(d, {ObjectType::file, (uintptr_t)fd});
  return 0;
}

}  // namespace nooks
