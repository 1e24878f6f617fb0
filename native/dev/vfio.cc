// A PCI device bound to vfio-pci: its own container (an IOMMU domain), its
// group, the device's regions mapped from the device fd, INTx on an eventfd.
// DMA goes through the IOMMU: the bound driver's DMA memory is mapped at the
// bus addresses the driver is given (its window), and nothing else is, so a
// bad DMA address faults in the IOMMU instead of reaching memory.
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <mutex>

#include "../kapi/log.h"
#include "../kapi/subsystems.h"
#include "host_pci.h"

namespace nooks {

namespace {

class VfioDevice : public HostPciDevice {
 public:
  explicit VfioDevice(const std::string &address) : HostPciDevice("vfio", address) {
    std::string sys = pci_sysfs_bound(address, "vfio-pci", "vfio");
    char link[256];
    ssize_t n = readlink((sys + "/iommu_group").c_str(), link, sizeof link - 1);
    if (n <= 0)
      throw DeviceError("ENODEV", address + " has no IOMMU group: the IOMMU is off. Enable VT-d/AMD-Vi in the firmware "
                                            "and boot with intel_iommu=on (or amd_iommu=on); or use UIO");
    link[n] = 0;
    group_id_ = strrchr(link, '/') + 1;
    container_ = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
    if (container_ < 0)
      throw DeviceError("ENODEV", errno_text("/dev/vfio/vfio") + " (load the vfio-pci module: modprobe vfio-pci)");
    if (ioctl(container_, VFIO_GET_API_VERSION) != VFIO_API_VERSION || !ioctl(container_, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU))
      throw DeviceError("ENOTSUP", "VFIO offers no type 1 v2 IOMMU here (load it: modprobe vfio_iommu_type1)");
    std::string gpath = "/dev/vfio/" + group_id_;
    group_ = open(gpath.c_str(), O_RDWR | O_CLOEXEC);
    if (group_ < 0)
      throw DeviceError(errno == EACCES ? "EACCES" : errno == EBUSY ? "EBUSY" : "ENODEV",
                        errno_text(gpath) + (errno == EBUSY ? " (another process has the group open)" : " (VFIO needs root, or the group's owner)"));
    vfio_group_status st = {sizeof st, 0};
    if (ioctl(group_, VFIO_GROUP_GET_STATUS, &st) != 0) throw DeviceError("EIO", errno_text("VFIO_GROUP_GET_STATUS"));
    if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE))
      throw DeviceError("EBUSY", "IOMMU group " + group_id_ + " is not viable: every device in /sys/kernel/iommu_groups/" +
                                     group_id_ + "/devices must be bound to vfio-pci or to no driver");
    if (ioctl(group_, VFIO_GROUP_SET_CONTAINER, &container_.fd) != 0 || ioctl(container_, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) != 0)
      throw DeviceError("EIO", errno_text("cannot give group " + group_id_ + " an IOMMU container"));
    config_fd_ = device_fd_ = ioctl(group_, VFIO_GROUP_GET_DEVICE_FD, address.c_str());
    if (device_fd_ < 0) throw DeviceError("EIO", errno_text("VFIO_GROUP_GET_DEVICE_FD " + address));
    vfio_device_info info = {};
    info.argsz = sizeof info;
    if (ioctl(device_fd_, VFIO_DEVICE_GET_INFO, &info) != 0 || !(info.flags & VFIO_DEVICE_FLAGS_PCI))
      throw DeviceError("EIO", address + ": not a VFIO PCI device");
    can_reset_ = info.flags & VFIO_DEVICE_FLAGS_RESET;
    config_offset_ = region(VFIO_PCI_CONFIG_REGION_INDEX).offset;
    read_ids();
    for (int i = 0; i < 6; i++) {
      vfio_region_info r = region(VFIO_PCI_BAR0_REGION_INDEX + i);
      if (!r.size || !(r.flags & VFIO_REGION_INFO_FLAG_MMAP)) continue;  // I/O ports, or absent
      bars_[i].fd = device_fd_;
      bars_[i].offset = r.offset;
      bars_[i].size = r.size;
    }
    vfio_irq_info irq = {};
    irq.argsz = sizeof irq;
    irq.index = VFIO_PCI_INTX_IRQ_INDEX;
    if (ioctl(device_fd_, VFIO_DEVICE_GET_IRQ_INFO, &irq) != 0 || irq.count < 1)
      throw DeviceError("ENOTSUP", address + " has no INTx interrupt");
    irq_fd_ = eventfd(0, EFD_CLOEXEC);
    irq_read_size_ = 8;
    set_irqs(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, &irq_fd_);
  }

  ~VfioDevice() override {
    stop();
    set_irqs(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, nullptr, 0);
  }

 protected:
  // VFIO masks INTx at each interrupt: unmask it.
  void irq_ack() override { set_irqs(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, nullptr); }

  // The domain's DMA memory at its window's bus addresses, and only that.
  std::string dma_map(Domain *d) override {
    if (!d->dma_phys.empty()) return "its DMA memory is physical (it drives a UIO device): one driver cannot drive UIO and VFIO devices";
    vfio_iommu_type1_dma_map m = {};
    m.argsz = sizeof m;
    m.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
    m.vaddr = d->dma.lo();
    m.iova = dma_window(d);
    m.size = d->dma.hi() - d->dma.lo();
    if (ioctl(container_, VFIO_IOMMU_MAP_DMA, &m) != 0)
      return errno_text("VFIO_IOMMU_MAP_DMA of its DMA memory") +
             (errno == ENOMEM ? " (the locked-memory limit: raise `ulimit -l`, or run as root)" : "");
    mapped_ = true;
    return "";
  }

  // The driver's own IOVAs (a libc-style VFIO driver picks one: e1000l 0x10000000): the same memory
  // mapped again in this container, beside the window (type 1 maps by IOVA: a page may have several).
  long iommu_map(uint64_t iova, uintptr_t cpu, uint64_t size) override {
    vfio_iommu_type1_dma_map m = {};
    m.argsz = sizeof m;
    m.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
    m.vaddr = cpu;
    m.iova = iova;
    m.size = size;
    if (ioctl(container_, VFIO_IOMMU_MAP_DMA, &m) != 0) return -errno;
    std::lock_guard<std::mutex> g(own_lock_);
    own_iovas_[iova] = size;
    return 0;
  }

  void iommu_unmap(uint64_t iova) override {
    std::lock_guard<std::mutex> g(own_lock_);
    auto it = own_iovas_.find(iova);
    if (it == own_iovas_.end()) return;
    unmap(it->first, it->second);
    own_iovas_.erase(it);
  }

  void dma_unmap(Domain *d) override {
    {
      std::lock_guard<std::mutex> g(own_lock_);
      for (auto &[iova, size] : own_iovas_) unmap(iova, size);
      own_iovas_.clear();
    }
    if (!mapped_) return;
    unmap(dma_window(d), d->dma.hi() - d->dma.lo());
    mapped_ = false;
  }

  bool function_reset() override { return can_reset_ && ioctl(device_fd_, VFIO_DEVICE_RESET) == 0; }

 private:
  void unmap(uint64_t iova, uint64_t size) {
    vfio_iommu_type1_dma_unmap u = {};
    u.argsz = sizeof u;
    u.iova = iova;
    u.size = size;
    if (ioctl(container_, VFIO_IOMMU_UNMAP_DMA, &u) != 0) klog(3, "%s: %s", name.c_str(), errno_text("VFIO_IOMMU_UNMAP_DMA").c_str());
  }

  vfio_region_info region(unsigned index) {
    vfio_region_info r = {};
    r.argsz = sizeof r;
    r.index = index;
    if (ioctl(device_fd_, VFIO_DEVICE_GET_REGION_INFO, &r) != 0) r.size = 0;
    return r;
  }

  void set_irqs(uint32_t flags, const int *fd, uint32_t count = 1) {
    char buf[sizeof(vfio_irq_set) + sizeof(int)] = {};
    auto *s = (vfio_irq_set *)buf;
    s->argsz = sizeof buf;
    s->flags = flags;
    s->index = VFIO_PCI_INTX_IRQ_INDEX;
    s->count = count;
    if (fd) memcpy(s->data, fd, sizeof(int));
    else s->argsz = sizeof(vfio_irq_set);
    if (ioctl(device_fd_, VFIO_DEVICE_SET_IRQS, s) != 0)
      klog(3, "%s: %s", address_.c_str(), errno_text("VFIO_DEVICE_SET_IRQS").c_str());
  }

  // Closed when the device goes, or when opening it failed half way.
  struct Fd {
    int fd = -1;
    ~Fd() {
      if (fd >= 0) close(fd);
    }
    operator int() const { return fd; }
    Fd &operator=(int f) {
      fd = f;
      return *this;
    }
  };
  std::string group_id_;
  Fd container_, group_;
  int device_fd_ = -1;  // config_fd_, which the base closes
  bool can_reset_ = false, mapped_ = false;
  std::mutex own_lock_;
  std::map<uint64_t, uint64_t> own_iovas_;  // iommu_map's: iova -> size
};

}  // namespace

std::unique_ptr<BusDevice> vfio_open(const std::string &address) { return std::make_unique<VfioDevice>(address); }

}  // namespace nooks
