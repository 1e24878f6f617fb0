// The POSIX personality's file and mapping calls (lib/wrappers/posix.ts):
// descriptors over the driver's view (view.h), mappings (mappings.h).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/ioctl.h>

#include <cstring>
#include <vector>

#include "../kapi/checks.h"
#include "../kapi/wait.h"
#include "fd_table.h"
#include "hugepages.h"
#include "mappings.h"
#include "view.h"

using namespace nooks;

namespace {

// Whether `mode` (owner permission bits) grants what the access mode (O_ACCMODE) wants.
bool grants(uint32_t mode, int accmode) {
  bool r = accmode != O_WRONLY, w = accmode != O_RDONLY;
  return (!r || (mode & S_IRUSR)) && (!w || (mode & S_IWUSR));
}

ViewEntry lookup(Domain *d, const char *path, const char *op) { return view_lookup(d, view_normalize(path), op); }

}  // namespace

extern "C" int kapi_nooks_posix_open(int dirfd, const char *path, int flags, unsigned int) {
  Domain *d = calling_domain();
  std::string from;  // a relative path's directory: / (the driver's working directory), or dirfd's
  if (path[0] != '/' && dirfd != AT_FDCWD) {
    std::shared_ptr<OpenFile> dir = fd_get(d, dirfd);
    if (!dir) return -EBADF;
    if (dir->file->kind() != FileKind::directory) return -ENOTDIR;
    from = dir->file->path + "/";
  }
  std::string norm = view_normalize(from + path);
  ViewEntry e = hugetlbfs_file(norm) ? hugetlbfs_entry(d, norm, flags) : view_lookup(d, norm, "open");
  if (e.error == -ENOENT && (flags & O_CREAT)) return -EACCES;  // files are created in hugetlbfs only
  if (e.error) return e.error;
  if (S_ISDIR(e.mode)) return (flags & O_ACCMODE) != O_RDONLY ? -EISDIR : fd_install(d, directory_file(norm), flags);  // listed by readdir
  if ((flags & O_DIRECTORY)) return -ENOTDIR;
  if ((flags & O_CREAT) && (flags & O_EXCL) && !hugetlbfs_file(norm)) return -EEXIST;
  if (!grants(e.mode, flags & O_ACCMODE)) return -EACCES;
  std::shared_ptr<File> f = e.open();
  if (!f) return -EBUSY;  // a UIO node whose interrupt VFIO signals (uio_node.cc)
  return fd_install(d, f, flags);
}

extern "C" int kapi_nooks_posix_close(int fd) { return fd_close(calling_domain(), fd); }

extern "C" long kapi_nooks_posix_read(int fd, void *buf, size_t n, long long offset) {
  Domain *d = calling_domain();
  std::shared_ptr<OpenFile> of = fd_get(d, fd);
  if (!of || (of->flags & O_ACCMODE) == O_WRONLY) return -EBADF;
  if (offset < -1) return -EINVAL;
  if (offset >= 0 && of->file->positioning() != Positioning::seekable) return -ESPIPE;
  std::vector<uint8_t> bytes(n);
  InterruptibleWait signals;  // a read that blocks (an eventfd, a timerfd, a UIO node, a pipe) ends when a handler runs: -EINTR
  long r = of->file->pread(d, bytes.data(), n, offset < 0 ? of->pos.load() : (uint64_t)offset, of->flags);
  if (r <= 0) return r;
  if (int e = write_back(d, "read", [&] { memcpy(buf, bytes.data(), (size_t)r); })) return e;  // its wait may have outlasted the driver, or its buffer
  if (offset < 0) of->pos += (uint64_t)r;
  return r;
}

extern "C" long kapi_nooks_posix_write(int fd, const void *buf, size_t n, long long offset) {
  Domain *d = calling_domain();
  std::shared_ptr<OpenFile> of = fd_get(d, fd);
  if (!of || (of->flags & O_ACCMODE) == O_RDONLY) return -EBADF;
  if (offset < -1) return -EINVAL;
  if (offset >= 0 && of->file->positioning() != Positioning::seekable) return -ESPIPE;
  std::vector<uint8_t> bytes((const uint8_t *)buf, (const uint8_t *)buf + n);
  uint64_t at = offset >= 0 ? (uint64_t)offset : (of->flags & O_APPEND) ? of->file->fstat().size : of->pos.load();
  long r = of->file->pwrite(d, bytes.data(), n, at, of->flags);
  if (r > 0 && offset < 0) of->pos = at + (uint64_t)r;
  return r;
}

extern "C" long long kapi_nooks_posix_lseek(int fd, long long offset, int whence) {
  std::shared_ptr<OpenFile> of = fd_get(calling_domain(), fd);
  if (!of) return -EBADF;
  if (whence < SEEK_SET || whence > SEEK_HOLE) return -EINVAL;  // Linux's SEEK_MAX check comes before the file's own
  Positioning positioning = of->file->positioning();
  if (positioning == Positioning::stream) return -ESPIPE;
  if (positioning == Positioning::anonymous) return 0;  // noop_llseek, SEEK_DATA and SEEK_HOLE too
  if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) return -EINVAL;
  long long base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (long long)of->pos : (long long)of->file->fstat().size;
  if (base + offset < 0) return -EINVAL;
  of->pos = (uint64_t)(base + offset);
  return (long long)of->pos;
}

extern "C" int kapi_nooks_posix_fstat(int fd, unsigned long long *st) {
  std::shared_ptr<OpenFile> of = fd_get(calling_domain(), fd);
  if (!of) return -EBADF;
  FileStat s = of->file->fstat();
  st[0] = s.mode, st[1] = s.size;
  return 0;
}

extern "C" int kapi_nooks_posix_stat(const char *path, unsigned long long *st) {
  ViewEntry e = lookup(calling_domain(), path, "stat");
  if (e.error) return e.error;
  st[0] = e.mode, st[1] = e.size;
  return 0;
}

extern "C" int kapi_nooks_posix_access(const char *path, int mode) {
  if (mode & ~(R_OK | W_OK | X_OK)) return -EINVAL;
  ViewEntry e = lookup(calling_domain(), path, "access");
  if (e.error) return e.error;
  bool ok = (!(mode & R_OK) || (e.mode & S_IRUSR)) && (!(mode & W_OK) || (e.mode & S_IWUSR)) && (!(mode & X_OK) || (e.mode & S_IXUSR));
  return ok ? 0 : -EACCES;
}

extern "C" long kapi_nooks_posix_readlink(const char *path, char *buf, size_t size) {
  ViewEntry e = lookup(calling_domain(), path, "readlink");
  if (e.error) return e.error;
  if (e.link.empty()) return -EINVAL;
  size_t n = std::min(size, e.link.size());
  memcpy(buf, e.link.data(), n);
  return (long)n;
}

extern "C" int kapi_nooks_posix_unlink(const char *path) {
  Domain *d = calling_domain();
  std::string norm = view_normalize(path);
  if (hugetlbfs_file(norm)) return hugetlbfs_unlink(d, norm);
  ViewEntry e = view_lookup(d, norm, "unlink");
  return e.error ? e.error : -EACCES;  // sysfs files stay
}

extern "C" int kapi_nooks_posix_ftruncate(int fd, long long length) {
  Domain *d = calling_domain();
  std::shared_ptr<OpenFile> of = fd_get(d, fd);
  if (!of) return -EBADF;
  if (length < 0 || (of->flags & O_ACCMODE) == O_RDONLY) return -EINVAL;
  return (int)of->file->truncate(d, (uint64_t)length);
}

extern "C" int kapi_nooks_posix_ioctl(int fd, unsigned long request, unsigned long arg) {
  Domain *d = calling_domain();
  std::shared_ptr<OpenFile> of = fd_get(d, fd);
  if (!of) return -EBADF;
  // FIONREAD (TIOCINQ) of a regular file: its bytes past the position, as Linux's do_vfs_ioctl answers for every
  // regular file; other files answer it in their own ioctl (a pipe), or not (eventfd, timerfd: -ENOTTY, as Linux's).
  if (request == FIONREAD) {
    FileStat st = of->file->fstat();
    if (S_ISREG(st.mode)) return (int)ioctl_answer_int(d, arg, (int)(st.size - of->pos.load()), "FIONREAD");
  }
  return (int)of->file->ioctl(d, request, arg);
}

extern "C" int kapi_nooks_posix_fcntl(int fd, int cmd, long arg) {
  std::shared_ptr<OpenFile> of = fd_get(calling_domain(), fd);
  if (!of) return -EBADF;
  constexpr int settable = O_APPEND | O_NONBLOCK;
  switch (cmd) {
    case F_GETFL: return of->flags;
    case F_SETFL: of->flags = (of->flags & ~settable) | ((int)arg & settable); return 0;
    case F_GETFD: return of->cloexec ? FD_CLOEXEC : 0;
    case F_SETFD: of->cloexec = arg & FD_CLOEXEC; return 0;
    default: return -EINVAL;
  }
}

extern "C" int kapi_nooks_posix_flock(int fd, int operation) {
  Domain *d = calling_domain();
  int want = operation & ~LOCK_NB;
  if (want != LOCK_SH && want != LOCK_EX && want != LOCK_UN) return -EINVAL;
  PosixFiles &p = posix_files(d);
  std::lock_guard<std::mutex> g(p.lock);
  auto it = p.fds.find(fd);
  if (it == p.fds.end()) return -EBADF;
  OpenFile &of = *it->second;
  if (want != LOCK_UN)
    for (auto &[other, o] : p.fds)
      if (other != fd && o->file == of.file && o->lock && (want == LOCK_EX || o->lock == LOCK_EX)) return -EWOULDBLOCK;
  of.lock = want == LOCK_UN ? 0 : want;
  return 0;
}

extern "C" long kapi_nooks_posix_mmap(size_t length, int prot, int flags, int fd, long long offset) {
  return posix_mmap(calling_domain(), length, prot, flags, fd, offset);
}

extern "C" int kapi_nooks_posix_munmap(unsigned long addr, size_t length) { return posix_munmap(calling_domain(), addr, length); }

extern "C" int kapi_nooks_posix_mapped(unsigned long addr, size_t length) { return posix_mapped(calling_domain(), addr, length); }
