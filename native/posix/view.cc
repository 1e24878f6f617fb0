#include "view.h"

#include <cstring>
#include <vector>

#include "../kapi/log.h"
#include "hugepages.h"
#include "uio_node.h"

namespace nooks {

namespace {

constexpr char kDevices[] = "/sys/bus/pci/devices/", kDrivers[] = "/sys/bus/pci/drivers/";

// Not the driver's: EACCES, and a line saying so in the kernel log.
ViewEntry outside(Domain *d, const std::string &path, const char *op, const char *why) {
  klog_line(4, d->name, std::string(op) + " " + path + ": " + why + " (EACCES)",
            {"view-denied", {{"driver", d->name}, {"op", op}, {"path", path}}});
  return view_error(-EACCES);
}

}  // namespace

std::string view_normalize(const std::string &path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string part = path.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (const std::string &p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

ViewEntry view_lookup(Domain *d, const std::string &path, const char *op) {
  if (path + "/" == kDevices) return view_dir();  // listed: the devices the driver holds (listing.cc)
  if (starts_with(path, kDevices)) {
    std::string rest = path.substr(strlen(kDevices));
    size_t slash = rest.find('/');
    std::string address = rest.substr(0, slash), attr = slash == std::string::npos ? "" : rest.substr(slash + 1);
    ViewEntry e = sysfs_device_entry(d, address, attr);
    return e.error == -EACCES ? outside(d, path, op, "not a device the driver holds (load option devices)") : e;
  }
  if (starts_with(path, kDrivers) && path.size() > strlen(kDrivers) + strlen("/unbind") &&
      path.compare(path.size() - 7, 7, "/unbind") == 0 && path.find('/', strlen(kDrivers)) == path.size() - 7)
    return sysfs_unbind_entry(d, path);
  if (path == kHugepagesSysfs || starts_with(path, (std::string(kHugepagesSysfs) + "/").c_str())) return hugepages_sysfs_entry(d, path);
  if (hugetlbfs_dir(path)) return view_dir();
  if (hugetlbfs_file(path)) return hugetlbfs_entry(d, path, 0);
  if (path == "/proc/self/pagemap") return ViewEntry{0, S_IFREG | 0444, 0, "", [] { return pagemap_file(); }};
  if (path == "/dev/vfio" || starts_with(path, "/dev/vfio/")) {
    ViewEntry e = vfio_entry(d, path);
    return e.error == -EACCES ? outside(d, path, op, "not the IOMMU group of a device the driver holds (load option devices)") : e;
  }
  if (starts_with(path, "/dev/uio")) {
    ViewEntry e = uio_node_entry(d, path);
    return e.error == -EACCES ? outside(d, path, op, "not the UIO node of a device the driver holds (load option devices)") : e;
  }
  if (path == "/sys/class/uio" || starts_with(path, "/sys/class/uio/")) {
    ViewEntry e = uio_class_entry(d, path);
    return e.error == -EACCES ? outside(d, path, op, "not the UIO device of a device the driver holds (load option devices)") : e;
  }
  return outside(d, path, op, "outside the driver's view");
}

}  // namespace nooks
