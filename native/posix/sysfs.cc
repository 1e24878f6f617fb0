// The sysfs files of the devices a driver holds, as Linux prints them:
// /sys/bus/pci/devices/<address>/{config, resource, resource0..5, vendor,
// device, class, subsystem_vendor, subsystem_device, irq, numa_node, enable,
// iommu_group, driver, driver/unbind, uio/uio<N> (uio_node.cc)}.
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "../dev/bus.h"
#include "../dev/config_space.h"
#include "../dev/host_pci.h"
#include "../kapi/log.h"
#include "uio_node.h"
#include "view.h"

namespace nooks {

namespace {

constexpr uint16_t kCommandEnable = 0x3;  // I/O and memory space

// A text attribute: what it read when opened; writes go to `store` (none: read-only).
class TextFile : public File {
 public:
  TextFile(std::string path, std::string text, uint32_t mode, std::function<long(Domain *, const std::string &)> store)
      : File(std::move(path)), text_(std::move(text)), mode_(mode), store_(std::move(store)) {}
  long pread(Domain *, uint8_t *buf, size_t n, uint64_t off, int) override {
    if (!(mode_ & 0444)) return -EIO;
    if (off >= text_.size()) return 0;
    n = std::min(n, text_.size() - off);
    memcpy(buf, text_.data() + off, n);
    return (long)n;
  }
  long pwrite(Domain *d, const uint8_t *buf, size_t n, uint64_t, int) override {
    if (!store_) return -EIO;
    std::string value((const char *)buf, n);
    while (!value.empty() && (value.back() == '\n' || value.back() == '\0')) value.pop_back();
    long r = store_(d, value);
    return r < 0 ? r : (long)n;
  }
  FileStat fstat() override { return {S_IFREG | mode_, 4096}; }

 private:
  std::string text_;
  uint32_t mode_;
  std::function<long(Domain *, const std::string &)> store_;
};

// config: the device's configuration space, through the bus's checks.
class ConfigFile : public File {
 public:
  ConfigFile(std::string path, std::string address) : File(std::move(path)), address_(std::move(address)) {}
  long pread(Domain *d, uint8_t *buf, size_t n, uint64_t off, int) override {
    return device_config_io(d, address_, buf, n, off, false);
  }
  long pwrite(Domain *d, const uint8_t *buf, size_t n, uint64_t off, int) override {
    return device_config_io(d, address_, const_cast<uint8_t *>(buf), n, off, true);
  }
  FileStat fstat() override { return {S_IFREG | 0644, kPciConfigSize}; }

 private:
  std::string address_;
};

// resource<N>: BAR N, mapped by mmap (BusDevice::map_bar).
class ResourceFile : public File {
 public:
  ResourceFile(std::string path, std::string address, int bar, uint64_t size)
      : File(std::move(path)), address_(std::move(address)), bar_(bar), size_(size) {}
  long mmap(Domain *d, size_t len, uint64_t off) override { return off ? -EINVAL : device_map_bar(d, address_, bar_, size_, len); }
  void munmap(Domain *d, uintptr_t addr, size_t) override { bus_unmap_bar(d, address_, addr); }
  FileStat fstat() override { return {S_IFREG | 0600, size_}; }

 private:
  std::string address_;
  int bar_;
  uint64_t size_;
};

// What the device's files say, read once per lookup.
struct DeviceFacts {
  uint16_t vendor, device, command;
  PciIdentity id;
  unsigned irq;
  PciResource res[6];
  std::string iommu_group;
  std::string driver;  // what `driver` links to
  int numa_node;
  int index;  // on the bus: the N of its uio<N>
};

}  // namespace

long device_config_io(Domain *d, const std::string &address, uint8_t *buf, size_t n, uint64_t off, bool write) {
  if (off >= kPciConfigSize) return 0;
  n = std::min<uint64_t>(n, kPciConfigSize - off);
  bool held = bus_with_held(d, address, [&](BusDevice &dev) {
    uio_mask_to_command(dev);
    if (write) {
      pci_config_write(dev, (uint32_t)off, buf, n);
      uio_config_written(dev, (uint32_t)off, n);
    } else {
      pci_config_read(dev, (uint32_t)off, buf, n);
    }
  });
  return held ? (long)n : -ENODEV;
}

long device_map_bar(Domain *d, const std::string &address, int bar, uint64_t size, size_t len) {
  if (len > ((size + 4095) & ~4095ull)) return -EINVAL;
  uintptr_t at = 0;
  bool emulated = false;
  if (!bus_with_held(d, address, [&](BusDevice &dev) {
        at = dev.map_bar(d, bar, std::min<uint64_t>(len, size));
        emulated = dev.emulated();
      }))
    return -ENODEV;
  if (at) return (long)at;
  return emulated ? -ENOMEM : -ENODEV;  // no room left in the driver's trapped windows (host_limits.h); a real device's mmap failed
}

// The IOMMU group: an emulated device is alone in one of its own; a real one is in the host's.
std::string iommu_group_of(BusDevice &dev) {
  if (dev.emulated()) return std::to_string(dev.index);
  char buf[256];
  ssize_t n = readlink((pci_sysfs(dev.address) + "/iommu_group").c_str(), buf, sizeof buf - 1);
  if (n <= 0) return "";
  buf[n] = 0;
  const char *slash = strrchr(buf, '/');
  return slash ? slash + 1 : buf;
}

namespace {

std::string hex(const char *fmt, unsigned long long v) {
  char b[32];
  snprintf(b, sizeof b, fmt, v);
  return b;
}


// Writing an address the driver holds to an unbind file: accepted, and
// nothing done (nooks holds the device); any other is not bound there.
long unbind(Domain *d, const std::string &value) {
  if (!bus_with_held(d, value, [](BusDevice &) {})) return -ENODEV;
  klog_line(6, d->name, "unbind " + value + ": accepted (nooks holds the device)");
  return 0;
}

// enable: "1" turns on I/O and memory decoding, "0" off, as pci_enable_device would.
long enable(Domain *d, const std::string &address, const std::string &value) {
  if (value != "0" && value != "1") return -EINVAL;
  bus_with_held(d, address, [&](BusDevice &dev) {
    uint8_t cmd[2];
    pci_config_read(dev, kPciCommand, cmd, 2);
    cmd[0] = (uint8_t)(value == "1" ? cmd[0] | kCommandEnable : cmd[0] & ~kCommandEnable);
    pci_config_write(dev, kPciCommand, cmd, 1);
  });
  return 0;
}

}  // namespace

ViewEntry view_text(const std::string &path, std::string t, uint32_t mode, std::function<long(Domain *, const std::string &)> store) {
  return ViewEntry{0, S_IFREG | mode, 4096, "", [=] { return std::make_shared<TextFile>(path, t, mode, store); }};
}

// numa_node: the host's for a real device; an emulated one has no node (-1, as Linux says of a device without affinity).
static int numa_node_of(BusDevice &dev) {
  if (dev.emulated()) return -1;
  FILE *f = fopen((pci_sysfs(dev.address) + "/numa_node").c_str(), "r");
  int node = -1;
  if (f) {
    if (fscanf(f, "%d", &node) != 1) node = -1;
    fclose(f);
  }
  return node;
}

const std::vector<std::string> &sysfs_device_files() {
  static const std::vector<std::string> names = {
      "config", "resource", "resource0", "resource1", "resource2", "resource3", "resource4", "resource5", "vendor", "device",
      "subsystem_vendor", "subsystem_device", "class", "irq", "numa_node", "enable", "iommu_group", "driver", "uio"};
  return names;
}

ViewEntry sysfs_device_entry(Domain *d, const std::string &address, const std::string &attr) {
  DeviceFacts f{};
  bool held = bus_with_held(d, address, [&](BusDevice &dev) {
    uint8_t cmd[2];
    pci_config_read(dev, kPciCommand, cmd, 2);
    // a real device attached through VFIO is the host's vfio-pci's, and the view serves its group: a
    // userspace driver that looks at `driver` (e1000l, DPDK) takes the VFIO way, as it would on the host
    bool vfio = !dev.emulated() && strcmp(dev.kind(), "vfio") == 0;
    f = {dev.vendor(), dev.device_id(), (uint16_t)(cmd[0] | cmd[1] << 8), pci_identity(dev), dev.irq_line, {},
         iommu_group_of(dev), vfio ? "vfio-pci" : "nooks", numa_node_of(dev), dev.index};
    for (int bar = 0; bar < 6; bar++) f.res[bar] = pci_resource(dev, bar);
  });
  if (!held) return view_error(-EACCES);
  std::string path = "/sys/bus/pci/devices/" + address + (attr.empty() ? "" : "/" + attr);
  if (attr.empty()) {
    ViewEntry e = view_dir();
    // as Linux lists the bus's devices: links (to the root bus's: a real device behind a bridge is deeper on the host)
    e.link = "../../../devices/pci0000:00/" + address;
    return e;
  }
  if (attr == "config")
    return ViewEntry{0, S_IFREG | 0644, kPciConfigSize, "", [=] { return std::make_shared<ConfigFile>(path, address); }};
  if (attr == "vendor") return view_text(path, hex("0x%04llx\n", f.vendor));
  if (attr == "device") return view_text(path, hex("0x%04llx\n", f.device));
  if (attr == "subsystem_vendor") return view_text(path, hex("0x%04llx\n", f.id.subsystem_vendor));
  if (attr == "subsystem_device") return view_text(path, hex("0x%04llx\n", f.id.subsystem_device));
  if (attr == "class") return view_text(path, hex("0x%06llx\n", f.id.class_code));
  if (attr == "irq") return view_text(path, std::to_string(f.irq) + "\n");
  if (attr == "numa_node") return view_text(path, std::to_string(f.numa_node) + "\n");
  if (attr == "enable")
    return view_text(path, (f.command & kCommandEnable) ? "1\n" : "0\n", 0644,
                [address](Domain *dd, const std::string &v) { return enable(dd, address, v); });
  if (attr == "resource") {
    std::string lines;
    for (int bar = 0; bar < 7; bar++) {  // the six BARs and the expansion ROM (none)
      PciResource r = bar < 6 ? f.res[bar] : PciResource{};
      char line[64];
      snprintf(line, sizeof line, "0x%016llx 0x%016llx 0x%016llx\n", (unsigned long long)r.start,
               (unsigned long long)(r.size ? r.start + r.size - 1 : 0), (unsigned long long)r.flags);
      lines += line;
    }
    return view_text(path, lines);
  }
  if (attr.size() == 9 && attr.compare(0, 8, "resource") == 0 && attr[8] >= '0' && attr[8] <= '5') {
    int bar = attr[8] - '0';
    if (!f.res[bar].size) return view_error(-ENOENT);
    uint64_t size = f.res[bar].size;
    return ViewEntry{0, S_IFREG | 0600, size, "", [=] { return std::make_shared<ResourceFile>(path, address, bar, size); }};
  }
  if (attr == "iommu_group") {
    if (f.iommu_group.empty()) return view_error(-ENOENT);
    ViewEntry e = view_dir();
    e.link = "../../../../kernel/iommu_groups/" + f.iommu_group;
    return e;
  }
  if (attr == "driver") {
    ViewEntry e = view_dir();
    e.link = "../../../../bus/pci/drivers/" + f.driver;
    return e;
  }
  if (attr == "driver/unbind") return view_text(path, "", 0200, unbind);
  const std::string through_link = "uio/uio" + std::to_string(f.index) + "/device/";  // the node's link back to the device
  if (attr.compare(0, through_link.size(), through_link) == 0) return sysfs_device_entry(d, address, attr.substr(through_link.size()));
  if (attr == "uio" || attr.compare(0, 4, "uio/") == 0) return uio_device_entry(address, f.index, attr);
  return view_error(-ENOENT);
}

ViewEntry sysfs_unbind_entry(Domain *, const std::string &path) { return view_text(path, "", 0200, unbind); }

}  // namespace nooks
