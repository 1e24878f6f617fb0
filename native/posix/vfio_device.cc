// VFIO's groups and devices for a POSIX driver (vfio.h): a group for each
// device the driver holds (its IOMMU group, as sysfs shows it) and the
// device's descriptor, over the bus: regions at index << 40 as vfio-pci lays
// them out (configuration space through the bus's checks; a BAR by mmap,
// BusDevice::map_bar), and its interrupt line (INTx, MSI or MSI-X index)
// signalled on an eventfd.
#include <fcntl.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>

#include <cstring>

#include "../dev/bus.h"
#include "../dev/config_space.h"
#include "../kapi/subsystems.h"
#include "events.h"
#include "fd_table.h"
#include "view.h"
#include "vfio.h"

namespace nooks {

namespace {

constexpr int kRegionShift = 40;  // vfio-pci: a region's offset in the device's descriptor is its index << 40
constexpr uint64_t kRegionMask = (1ull << kRegionShift) - 1;

class VfioDevice : public File {
 public:
  VfioDevice(const std::string &address, unsigned irq_line) : File("vfio-device:" + address), address_(address), line_(irq_line) {}

  long ioctl(Domain *d, unsigned long request, unsigned long arg) override {
    switch (request) {
      case VFIO_DEVICE_GET_INFO: {
        auto info = ioctl_in<vfio_device_info>(d, arg, "VFIO_DEVICE_GET_INFO");
        info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
        info.num_regions = VFIO_PCI_NUM_REGIONS;
        info.num_irqs = VFIO_PCI_NUM_IRQS;
        return ioctl_out(arg, info);
      }
      case VFIO_DEVICE_GET_REGION_INFO: {
        auto r = ioctl_in<vfio_region_info>(d, arg, "VFIO_DEVICE_GET_REGION_INFO");
        if (r.index >= VFIO_PCI_NUM_REGIONS) return -EINVAL;
        long size = region_size(d, r.index);
        if (size < 0) return size;
        r.size = (uint64_t)size;
        r.offset = (uint64_t)r.index << kRegionShift;
        r.cap_offset = 0;
        // A BAR is mapped (its pread and pwrite are not served); configuration space is read and written.
        r.flags = !size ? 0 : r.index == VFIO_PCI_CONFIG_REGION_INDEX ? VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE
                                                                       : VFIO_REGION_INFO_FLAG_MMAP;
        return ioctl_out(arg, r);
      }
      case VFIO_DEVICE_GET_IRQ_INFO: {
        auto irq = ioctl_in<vfio_irq_info>(d, arg, "VFIO_DEVICE_GET_IRQ_INFO");
        if (irq.index >= VFIO_PCI_NUM_IRQS) return -EINVAL;
        bool line = irq.index <= VFIO_PCI_MSIX_IRQ_INDEX;  // each is the device's one interrupt line
        irq.count = line;
        irq.flags = !line ? 0
                    : irq.index == VFIO_PCI_INTX_IRQ_INDEX ? VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED
                                                           : VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE;
        return ioctl_out(arg, irq);
      }
      case VFIO_DEVICE_SET_IRQS: return set_irqs(d, arg);
      case VFIO_DEVICE_RESET: {
        bool reset = false;
        if (!bus_with_held(d, address_, [&](BusDevice &dev) { reset = dev.reset_function(); })) return -ENODEV;
        return reset ? 0 : -ENOTTY;
      }
      default: return -ENOTTY;
    }
  }

  long pread(Domain *d, uint8_t *buf, size_t n, uint64_t off, int) override {
    return off >> kRegionShift == VFIO_PCI_CONFIG_REGION_INDEX ? device_config_io(d, address_, buf, n, off & kRegionMask, false) : -EINVAL;
  }
  long pwrite(Domain *d, const uint8_t *buf, size_t n, uint64_t off, int) override {
    return off >> kRegionShift == VFIO_PCI_CONFIG_REGION_INDEX
               ? device_config_io(d, address_, const_cast<uint8_t *>(buf), n, off & kRegionMask, true)
               : -EINVAL;
  }
  long mmap(Domain *d, size_t len, uint64_t off) override {
    uint64_t index = off >> kRegionShift;
    if (index > VFIO_PCI_BAR5_REGION_INDEX || (off & kRegionMask)) return -EINVAL;  // a BAR, from its start
    long size = region_size(d, (uint32_t)index);
    if (size <= 0) return size < 0 ? size : -EINVAL;
    return device_map_bar(d, address_, (int)index, (uint64_t)size, len);
  }
  void munmap(Domain *d, uintptr_t addr, size_t) override { bus_unmap_bar(d, address_, addr); }
  FileStat fstat() override { return {0600, 0}; }
  // The interrupt is no longer signalled once the descriptor goes (close, recovery).
  void close(Domain *) override { trigger(nullptr); }

 private:
  // Bytes of region `index` (0: the device has none), or -ENODEV when d no longer holds the device.
  long region_size(Domain *d, uint32_t index) {
    if (index == VFIO_PCI_CONFIG_REGION_INDEX) return kPciConfigSize;
    uint64_t size = 0;
    if (!bus_with_held(d, address_, [&](BusDevice &dev) { size = index <= VFIO_PCI_BAR5_REGION_INDEX ? dev.bar_size((int)index) : 0; }))
      return -ENODEV;
    return (long)size;
  }

  // VFIO_DEVICE_SET_IRQS on the INTx, MSI or MSI-X index (all the device's one
  // line): an eventfd to signal (-1 or count 0: none), a trigger by hand
  // (DATA_NONE), and masks by DATA_NONE. A real device's INTx is masked at
  // each interrupt (AUTOMASKED) until UNMASK, MSI never; MASK changes nothing,
  // nor does UNMASK on an emulated device (each interrupt is signalled).
  long set_irqs(Domain *d, unsigned long arg) {
    auto s = ioctl_in<vfio_irq_set>(d, arg, "VFIO_DEVICE_SET_IRQS");
    uint32_t action = s.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK, data = s.flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
    if (s.index > VFIO_PCI_MSIX_IRQ_INDEX || s.start != 0 || s.count > 1) return -EINVAL;
    if (action == VFIO_IRQ_SET_ACTION_MASK || action == VFIO_IRQ_SET_ACTION_UNMASK) {
      if (data != VFIO_IRQ_SET_DATA_NONE) return -EINVAL;
      if (action == VFIO_IRQ_SET_ACTION_UNMASK && s.index == VFIO_PCI_INTX_IRQ_INDEX && s.count) irq_unmask(line_, this);
      return 0;
    }
    if (action != VFIO_IRQ_SET_ACTION_TRIGGER) return -EINVAL;
    if (data == VFIO_IRQ_SET_DATA_NONE) {
      if (!s.count) return trigger(nullptr), 0;
      std::lock_guard<std::mutex> g(lock_);
      if (trigger_) trigger_->signal(1);
      return 0;
    }
    if (data != VFIO_IRQ_SET_DATA_EVENTFD || s.count != 1 || s.argsz < sizeof s + sizeof(int32_t)) return -EINVAL;
    int32_t fd;
    check_ioctl_arg(d, arg + sizeof s, sizeof fd, "VFIO_DEVICE_SET_IRQS", false);
    memcpy(&fd, (const void *)(arg + sizeof s), sizeof fd);
    if (fd == -1) return trigger(nullptr), 0;
    std::shared_ptr<OpenFile> of = fd_get(d, fd);
    if (!of) return -EBADF;
    std::shared_ptr<EventFd> ev = file_as<EventFd>(of->file);
    if (!ev) return -EINVAL;
    return trigger(ev, s.index == VFIO_PCI_INTX_IRQ_INDEX) ? 0 : -EBUSY;
  }

  // The device's interrupt signals ev from now on (null: nothing), as INTx
  // (which the driver unmasks) or MSI; false (-EBUSY) while the device's UIO
  // node is open, which has the line.
  bool trigger(std::shared_ptr<EventFd> ev, bool intx = false) {
    std::lock_guard<std::mutex> g(lock_);
    if (!ev && !trigger_) return true;
    if (!irq_set_signal(line_, this, ev ? std::function<void()>([ev] { ev->signal(1); }) : nullptr, intx)) return false;
    trigger_ = ev;
    return true;
  }

  const std::string address_;
  const unsigned line_;
  std::mutex lock_;
  std::shared_ptr<EventFd> trigger_;
};

class VfioGroup : public File {
 public:
  VfioGroup(std::string path, std::string address, bool real) : File(std::move(path)), address_(std::move(address)), real_(real) {}

  long ioctl(Domain *d, unsigned long request, unsigned long arg) override {
    switch (request) {
      case VFIO_GROUP_GET_STATUS: {
        auto st = ioctl_in<vfio_group_status>(d, arg, "VFIO_GROUP_GET_STATUS");
        st.flags = VFIO_GROUP_FLAGS_VIABLE | (container() ? VFIO_GROUP_FLAGS_CONTAINER_SET : 0);
        return ioctl_out(arg, st);
      }
      case VFIO_GROUP_SET_CONTAINER: {
        int32_t fd;
        check_ioctl_arg(d, arg, sizeof fd, "VFIO_GROUP_SET_CONTAINER", false);
        memcpy(&fd, (const void *)arg, sizeof fd);
        std::shared_ptr<OpenFile> of = fd_get(d, fd);
        if (!of) return -EBADF;
        std::shared_ptr<VfioContainer> c = file_as<VfioContainer>(of->file);
        if (!c) return -EINVAL;
        std::lock_guard<std::mutex> g(lock_);
        if (container_) return -EBUSY;
        container_ = c;
        c->join(real_);
        return 0;
      }
      case VFIO_GROUP_UNSET_CONTAINER: return leave() ? 0 : -EINVAL;
      case VFIO_GROUP_GET_DEVICE_FD: {
        // The name first, as Linux reads it (a bad one leaves the domain at once, skipping destructors: before the container's reference)
        char copy[64];
        const char *name = copy_ioctl_string(d, arg, sizeof copy, copy, "VFIO_GROUP_GET_DEVICE_FD");
        std::shared_ptr<VfioContainer> c = container();
        if (!c || !c->iommu_set()) return -EINVAL;  // as Linux: the container's IOMMU before the device
        if (address_ != name) return -ENODEV;
        unsigned line = 0;
        if (!bus_with_held(d, address_, [&](BusDevice &dev) { line = dev.irq_line; })) return -ENODEV;
        return fd_install(d, std::make_shared<VfioDevice>(address_, line), O_RDWR | O_CLOEXEC);
      }
      default: return -ENOTTY;
    }
  }
  FileStat fstat() override { return {S_IFCHR | 0600, 0}; }
  void close(Domain *) override { leave(); }

 private:
  std::shared_ptr<VfioContainer> container() {
    std::lock_guard<std::mutex> g(lock_);
    return container_;
  }
  bool leave() {
    std::lock_guard<std::mutex> g(lock_);
    if (!container_) return false;
    container_->leave(real_);
    container_.reset();
    return true;
  }

  const std::string address_;
  const bool real_;
  std::mutex lock_;
  std::shared_ptr<VfioContainer> container_;
};

}  // namespace

ViewEntry vfio_entry(Domain *d, const std::string &path) {
  if (path == "/dev/vfio") return view_dir();
  if (path == "/dev/vfio/vfio") return ViewEntry{0, S_IFCHR | 0666, 0, "", [] { return std::make_shared<VfioContainer>(); }};
  std::string group = path.substr(strlen("/dev/vfio/"));
  for (const std::string &address : d->devices) {
    std::string g;
    bool real = false;
    bus_with_held(d, address, [&](BusDevice &dev) {
      g = iommu_group_of(dev);
      real = !dev.emulated();
    });
    if (!g.empty() && g == group)
      return ViewEntry{0, S_IFCHR | 0600, 0, "", [=] { return std::make_shared<VfioGroup>(path, address, real); }};
  }
  return view_error(-EACCES);
}

}  // namespace nooks
