// What a POSIX driver sees of the file system: its devices' sysfs
// directories, hugetlbfs, /proc/self/pagemap, and nothing else (any other
// path: EACCES and a kernel-log line naming it). Paths are resolved here.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "file.h"

namespace nooks {

// One path of the view.
struct ViewEntry {
  int error = 0;      // -errno: not there (ENOENT), or not the driver's (EACCES)
  uint32_t mode = 0;  // S_IF* | permission bits (a symlink: what it points to)
  uint64_t size = 0;
  std::string link;   // a symlink's target (readlink)
  std::function<std::shared_ptr<File>()> open;  // a regular file: a new open of it
};
inline ViewEntry view_error(int e) { return ViewEntry{e}; }
inline ViewEntry view_dir() { return ViewEntry{0, S_IFDIR | 0755}; }

// The path as the view names it: absolute (relative paths start at /), no
// "." or ".." or empty parts.
std::string view_normalize(const std::string &path);
// Looks a normalized path up for d; `op` names the call for the log line an
// outside path gets.
ViewEntry view_lookup(Domain *d, const std::string &path, const char *op);

// The sysfs directory of a device d holds (`attr` "" is the directory itself).
ViewEntry sysfs_device_entry(Domain *d, const std::string &address, const std::string &attr);
// /sys/bus/pci/drivers/<x>/unbind: writing an address d holds is accepted.
ViewEntry sysfs_unbind_entry(Domain *d, const std::string &path);

}  // namespace nooks
