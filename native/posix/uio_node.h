// UIO as uio_pci_generic serves it, for every device a POSIX driver holds:
// /dev/uio<N> (N the device's bus index, which is also an emulated device's
// IOMMU group) counts the device's interrupts, and /sys/class/uio/uio<N> and
// /sys/bus/pci/devices/<address>/uio/uio<N> name it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "view.h"

namespace nooks {

class BusDevice;

// An emulated device's INTx disable (command register bit 10) made what its
// open UIO node's mask is, as Linux's uio_pci_generic sets it when the
// interrupt fires: called with the bus lock held before the driver's config
// is read or written. A real device's is the host's (its own uio_pci_generic).
void uio_mask_to_command(BusDevice &dev);
// The driver wrote bytes [off, off + n) of dev's config: if INTx disable was
// among them, its value clear unmasks the interrupt of the device's open UIO
// node, if any, set masks it, as write(1) and write(0) do.
void uio_config_written(BusDevice &dev, uint32_t off, size_t n);
// /dev/uio<N> of a device d holds; -EACCES for any other N.
ViewEntry uio_node_entry(Domain *d, const std::string &path);
// /sys/class/uio and what is under it: uio<N> (a link to the device's uio/uio<N>) and its name, version and device.
ViewEntry uio_class_entry(Domain *d, const std::string &path);
// `rest` under a held device's sysfs directory, from "uio" on: uio, uio/uio<N>, uio/uio<N>/{name,version,device}.
ViewEntry uio_device_entry(const std::string &address, int index, const std::string &rest);
// The names in a uio<N> directory (uio_device_entry's), as readdir lists them.
const std::vector<std::string> &uio_node_files();

}  // namespace nooks
