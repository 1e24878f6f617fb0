// UIO as uio_pci_generic serves it, for every device a POSIX driver holds:
// /dev/uio<N> (N the device's bus index, which is also an emulated device's
// IOMMU group) counts the device's interrupts, and /sys/class/uio/uio<N> and
// /sys/bus/pci/devices/<address>/uio/uio<N> name it.
#pragma once
#include <string>
#include <vector>

#include "view.h"

namespace nooks {

// /dev/uio<N> of a device d holds; -EACCES for any other N.
ViewEntry uio_node_entry(Domain *d, const std::string &path);
// /sys/class/uio and what is under it: uio<N> (a link to the device's uio/uio<N>) and its name, version and device.
ViewEntry uio_class_entry(Domain *d, const std::string &path);
// `rest` under a held device's sysfs directory, from "uio" on: uio, uio/uio<N>, uio/uio<N>/{name,version,device}.
ViewEntry uio_device_entry(const std::string &address, int index, const std::string &rest);
// The names in a uio<N> directory (uio_device_entry's), as readdir lists them.
const std::vector<std::string> &uio_node_files();

}  // namespace nooks
