// Directories of the view as readdir lists them (opendir & co. in the
// personality, native/driver-rt/posix/dirent.c): a directory opens as a
// descriptor (read-only), and nooks_posix_getdents lists it: "." and "..",
// then each name the view has there, with its type as Linux's d_type says it.
// The names come from what the driver holds; each is looked up in the view,
// so a listing shows exactly what open and stat find.
#include <dirent.h>
#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "../dev/bus.h"
#include "../kapi/checks.h"
#include "fd_table.h"
#include "hugepages.h"
#include "uio_node.h"
#include "view.h"

namespace nooks {

namespace {

constexpr char kDevices[] = "/sys/bus/pci/devices", kClassUio[] = "/sys/class/uio";

// A directory's descriptor: it only lists (getdents) and stats.
class DirFile : public File {
 public:
  explicit DirFile(std::string path) : File(std::move(path)) {}
  long pread(Domain *, uint8_t *, size_t, uint64_t, int) override { return -EISDIR; }
  long pwrite(Domain *, const uint8_t *, size_t, uint64_t, int) override { return -EISDIR; }
  FileStat fstat() override { return {S_IFDIR | 0755, 0}; }
  static constexpr FileKind kKind = FileKind::directory;
  FileKind kind() const override { return kKind; }
};

// The names that may be in directory `dir` of d's view (each is looked up before it is listed).
std::vector<std::string> candidates(Domain *d, const std::string &dir) {
  std::vector<std::string> uio_nodes, groups = {"vfio"};  // of the held devices
  for (const std::string &address : d->devices)
    bus_with_held(d, address, [&](BusDevice &dev) {
      uio_nodes.push_back("uio" + std::to_string(dev.index));
      std::string g = iommu_group_of(dev);
      if (!g.empty()) groups.push_back(g);
    });
  std::string under_device = starts_with(dir, std::string(kDevices) + "/") ? dir.substr(strlen(kDevices) + 1) : "";
  size_t depth = under_device.empty() ? std::string::npos : std::count(under_device.begin(), under_device.end(), '/');
  if (dir == kDevices) return d->devices;
  if (depth == 0) return sysfs_device_files();
  if (dir == kClassUio || (depth == 1 && dir.compare(dir.size() - 4, 4, "/uio") == 0)) return uio_nodes;
  if (depth == 2 && dir.find("/uio/uio") != std::string::npos) return uio_node_files();
  if (depth == 3 && dir.find("/uio/uio") != std::string::npos) return sysfs_device_files();  // uio<N>/device: the device's
  if (starts_with(dir, std::string(kClassUio) + "/")) {  // uio<N>, or its device (through the link)
    std::string rest = dir.substr(strlen(kClassUio) + 1);
    if (rest.find('/') == std::string::npos) return uio_node_files();
    return rest.compare(rest.find('/'), std::string::npos, "/device") == 0 ? sysfs_device_files() : std::vector<std::string>{};
  }
  if (dir == "/dev/vfio") return groups;
  if (dir == kHugepagesSysfs) return {"hugepages-2048kB"};
  if (starts_with(dir, std::string(kHugepagesSysfs) + "/")) return {"nr_hugepages", "free_hugepages"};
  std::vector<std::string> files;
  PosixFiles &p = posix_files(d);
  std::lock_guard<std::mutex> g(p.lock);
  for (const auto &f : p.hugetlbfs)
    if (starts_with(f.first, dir + "/")) files.push_back(f.first.substr(dir.size() + 1));
  return files;
}

unsigned char type_of(const ViewEntry &e) {
  if (!e.link.empty()) return DT_LNK;
  return S_ISDIR(e.mode) ? DT_DIR : S_ISCHR(e.mode) ? DT_CHR : DT_REG;
}

}  // namespace

std::shared_ptr<File> directory_file(const std::string &path) { return std::make_shared<DirFile>(path); }

}  // namespace nooks

using namespace nooks;

extern "C" long kapi_nooks_posix_getdents(int fd, char *buf, size_t size) {
  Domain *d = calling_domain();
  std::shared_ptr<OpenFile> of = fd_get(d, fd);
  if (!of) return -EBADF;
  if (!file_as<DirFile>(of->file)) return -ENOTDIR;
  const std::string &dir = of->file->path;
  std::string records = std::string(1, (char)DT_DIR) + "." + '\0' + (char)DT_DIR + ".." + '\0';
  for (const std::string &name : candidates(d, dir)) {
    ViewEntry e = view_lookup(d, dir + "/" + name, "readdir");
    if (!e.error) records += std::string(1, (char)type_of(e)) + name + '\0';
  }
  if (records.size() <= size) memcpy(buf, records.data(), records.size());
  return (long)records.size();
}
