// A POSIX driver's file descriptors and mappings (one table per domain,
// Domain::posix): each descriptor a tracked object of type `file`, each
// mapping of type `mapping`, released at recovery with the table.
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <mutex>

#include "file.h"

namespace nooks {

// An open file description: one per open() (no dup).
// Threads of the driver may share one: its fields change one at a time.
struct OpenFile {
  std::shared_ptr<File> file;
  std::atomic<uint64_t> pos{0};
  std::atomic<int> flags{0};         // O_ACCMODE and the status flags fcntl(F_SETFL) sets
  std::atomic<bool> cloexec{false};  // FD_CLOEXEC
  int lock = 0;                      // flock: 0, LOCK_SH or LOCK_EX (under PosixFiles::lock)
};

// A mapping mmap handed out: anonymous memory of an arena, or a file's.
struct Mapping {
  std::shared_ptr<File> file;  // null: anonymous, a block of `arena`
  Arena *arena = nullptr;
  size_t size = 0;
  int refs = 1;  // a file mapped twice at one address (a hugetlbfs file's memory)
};

struct PosixFiles {
  std::mutex lock;  // never held across a bus call or a file's operation
  std::map<int, std::shared_ptr<OpenFile>> fds;
  std::map<uintptr_t, Mapping> mappings;
  std::map<std::string, std::shared_ptr<File>> hugetlbfs;  // by path: /mnt/huge/x, /dev/hugepages/x
};

// d's tables (found without a lock: made with the domain).
PosixFiles &posix_files(Domain *d);
// Empty tables for d: when the domain is made, and at recovery once its
// objects are released (no thread of the driver runs then).
void posix_files_renew(Domain *d);
// The lowest free descriptor (from 3: 0-2 are the standard streams) for f; -EMFILE when all are used.
int fd_install(Domain *d, std::shared_ptr<File> f, int flags);
// The open file behind fd, or null.
std::shared_ptr<OpenFile> fd_get(Domain *d, int fd);
// 0, or -EBADF.
int fd_close(Domain *d, int fd);

}  // namespace nooks
