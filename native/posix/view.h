// What a POSIX driver sees of the file system: its devices' sysfs
// directories, their UIO nodes and VFIO groups, hugetlbfs and the hugepage pool's size, /proc/self/pagemap, and nothing else (any other
// path: EACCES and a kernel-log line naming it). Paths are resolved here.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "file.h"

namespace nooks {

class BusDevice;

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
// A text file: `text` as read when opened; writes go to `store` (none: read-only).
ViewEntry view_text(const std::string &path, std::string text, uint32_t mode = 0444,
                    std::function<long(Domain *, const std::string &)> store = nullptr);

// The path as the view names it: absolute (relative paths start at /), no
// "." or ".." or empty parts.
std::string view_normalize(const std::string &path);
// Looks a normalized path up for d; `op` names the call for the log line an
// outside path gets.
ViewEntry view_lookup(Domain *d, const std::string &path, const char *op);

// The names in a held device's sysfs directory (those a device lacks, such as a missing BAR's resource<N>, included).
const std::vector<std::string> &sysfs_device_files();
// A descriptor of the view's directory `path` (listing.cc): it lists (nooks_posix_getdents) and stats.
std::shared_ptr<File> directory_file(const std::string &path);
// The sysfs directory of a device d holds (`attr` "" is the directory itself).
ViewEntry sysfs_device_entry(Domain *d, const std::string &address, const std::string &attr);
// /sys/bus/pci/drivers/<x>/unbind: writing an address d holds is accepted.
ViewEntry sysfs_unbind_entry(Domain *d, const std::string &path);
// /dev/vfio/vfio and the IOMMU groups of the devices d holds (vfio_device.cc); -EACCES for another group.
ViewEntry vfio_entry(Domain *d, const std::string &path);

// What sysfs and VFIO share of a held device (sysfs.cc):
// its IOMMU group's number ("" if it has none);
std::string iommu_group_of(BusDevice &dev);
// the part of [off, off+n) inside its configuration space, moved through the
// bus's checks: bytes moved, 0 past the end, -ENODEV when d no longer holds it;
long device_config_io(Domain *d, const std::string &address, uint8_t *buf, size_t n, uint64_t off, bool write);
// the first `len` bytes of BAR `bar` (`size` bytes) mapped for d (BusDevice::map_bar): the address, or -errno.
long device_map_bar(Domain *d, const std::string &address, int bar, uint64_t size, size_t len);

// Whether path s begins with prefix (view.cc and listing.cc match paths by prefix).
inline bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

}  // namespace nooks
