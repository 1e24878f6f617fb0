// VFIO as a userspace driver drives it (<linux/vfio.h>), served over the
// devices the driver holds, emulated or real: /dev/vfio/vfio (a container
// with a type-1 IOMMU whose maps accept only the driver's own DMA memory),
// /dev/vfio/<group> (a held device's IOMMU group, vfio_device.cc) and the
// device's descriptor (its regions as vfio-pci lays them out, its interrupt
// signalled on an eventfd).
#pragma once
#include <algorithm>
#include <cstring>
#include <mutex>

#include "file.h"

namespace nooks {

// The string at `arg`, checked and copied into copy (max bytes) as the wrappers
// copy a string argument; under isolation none, `arg` itself.
inline const char *copy_ioctl_string(Domain *d, unsigned long arg, size_t max, char *copy, const char *request) {
  if (g_backend.mode == Isolation::none) return (const char *)arg;
  copy_string(d, (const char *)arg, max, copy, "ioctl", request);
  return copy;
}

// An ioctl's struct at `arg` in the driver's memory, read in (checked) and
// written back (at most its argsz bytes).
template <class T>
T ioctl_in(Domain *d, unsigned long arg, const char *request) {
  T v;
  check_ioctl_arg(d, arg, sizeof v, request);
  memcpy(&v, (const void *)arg, sizeof v);
  return v;
}
template <class T>
long ioctl_out(unsigned long arg, const T &v) {
  memcpy((void *)arg, &v, std::min<size_t>(v.argsz, sizeof v));
  return 0;
}

class VfioContainer : public File {
 public:
  VfioContainer() : File("/dev/vfio/vfio") {}
  long ioctl(Domain *d, unsigned long request, unsigned long arg) override;
  FileStat fstat() override { return {S_IFCHR | 0666, 0}; }
  static constexpr FileKind kKind = FileKind::vfio_container;
  FileKind kind() const override { return kKind; }
  // A group joined it (VFIO_GROUP_SET_CONTAINER), or left; `real`: the group's device is the host's.
  void join(bool real);
  void leave(bool real);
  // VFIO_SET_IOMMU was done: its groups may give device descriptors.
  bool iommu_set();

 private:
  std::mutex lock_;
  int groups_ = 0, real_groups_ = 0;
  bool iommu_set_ = false;
};

}  // namespace nooks
