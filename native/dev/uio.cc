// A PCI device bound to uio_pci_generic: BARs from sysfs resourceN, the
// configuration space from sysfs config, interrupts from /dev/uioN. There is
// no IOMMU between the device and memory: it is given physical addresses, of
// DMA memory that cannot move (locked hugepages).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cinttypes>
#include <cstring>
#include <vector>

#include "../kapi/log.h"
#include "../xpc/xpc.h"
#include "host_pci.h"

namespace nooks {

namespace {

constexpr uint64_t kIoresourceMem = 0x200;

class UioDevice : public HostPciDevice {
 public:
  explicit UioDevice(const std::string &address) : HostPciDevice("uio", address) {
    std::string sys = pci_sysfs_bound(address, "uio_pci_generic", "uio");
    std::string uio = uio_name(sys);
    config_fd_ = open((sys + "/config").c_str(), O_RDWR | O_CLOEXEC);
    if (config_fd_ < 0) throw DeviceError(errno == EACCES ? "EACCES" : "EIO", errno_text(sys + "/config") + " (UIO needs root)");
    read_ids();
    // sysfs "resource": one "start end flags" line per BAR.
    std::string res = read_text(sys + "/resource");
    const char *p = res.c_str();
    for (int i = 0; i < 6 && *p; i++) {
      unsigned long long start = 0, end = 0, flags = 0;
      int used = 0;
      if (sscanf(p, "%llx %llx %llx%n", &start, &end, &flags, &used) != 3) break;
      p += used;
      while (*p == '\n') p++;
      if (!start || !(flags & kIoresourceMem)) continue;
      bars_[i].fd = open((sys + "/resource" + std::to_string(i)).c_str(), O_RDWR | O_SYNC | O_CLOEXEC);
      if (bars_[i].fd < 0) throw DeviceError("EIO", errno_text(sys + "/resource" + std::to_string(i)));
      bars_[i].size = end - start + 1;
    }
    irq_fd_ = open(("/dev/" + uio).c_str(), O_RDONLY | O_CLOEXEC);
    if (irq_fd_ < 0) throw DeviceError("ENODEV", errno_text("/dev/" + uio));
    irq_read_size_ = 4;  // a read gives the interrupt count
  }
  ~UioDevice() override { stop(); }

 protected:
  // uio_pci_generic masks INTx in the command register at each interrupt and
  // has no irqcontrol (writing /dev/uioN fails with ENOSYS): unmask it there.
  void irq_ack() override { command(0, kPciCommandIntxDisable); }

  std::string dma_map(Domain *d) override;
  void dma_unmap(Domain *) override {}  // the hugepages stay with the domain

  // The kernel's function reset (FLR, PM or bus), where the device has one.
  bool function_reset() override {
    int fd = open((pci_sysfs(address_) + "/reset").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = write(fd, "1", 1) == 1;
    close(fd);
    return ok;
  }

 private:
  static std::string uio_name(const std::string &sys) {
    DIR *dir = opendir((sys + "/uio").c_str());
    std::string name;
    if (dir) {
      while (dirent *e = readdir(dir))
        if (!strncmp(e->d_name, "uio", 3)) name = e->d_name;
      closedir(dir);
    }
    if (name.empty()) throw DeviceError("ENODEV", sys + " has no uio device (is the uio module loaded?)");
    return name;
  }
};

// The domain's DMA arena moves to locked hugepages whose physical addresses
// become its bus addresses (once: later devices and restarts keep them).
std::string UioDevice::dma_map(Domain *d) {
  if (!d->dma_phys.empty()) return "";
  DomainMemoryAccess access;  // mprotect: no crossing flips the arena while it moves
  std::lock_guard<std::mutex> g(d->mem_lock);
  if (d->dma.used()) return "it allocated DMA memory before its device was bound (UIO needs to move it to hugepages)";
  size_t size = d->dma.hi() - d->dma.lo();
  size_t pages = (size + Arena::kHugePage - 1) / Arena::kHugePage;
  Arena huge;
  if (!huge.map_huge(size))
    return errno_text("cannot get " + std::to_string(pages) + " locked 2 MiB hugepages for its DMA memory") +
           " (reserve them: echo " + std::to_string(pages) + " > /proc/sys/vm/nr_hugepages, or hugepages=N on the kernel command line)";
  if (!d->tag((void *)huge.lo(), huge.hi() - huge.lo())) {
    std::string why = errno_text("cannot give its hugepages to its domain");
    huge.unmap();
    return why;
  }
  std::vector<uint64_t> phys;
  int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  for (size_t i = 0; fd >= 0 && i < pages; i++) {
    uint64_t va = huge.lo() + i * Arena::kHugePage, entry = 0;
    if (pread(fd, &entry, 8, (off_t)(va / 4096 * 8)) != 8) break;
    uint64_t pfn = entry & ((1ull << 55) - 1);
    if (!(entry >> 63) || !pfn) break;
    phys.push_back(pfn * 4096);
  }
  if (fd >= 0) close(fd);
  if (phys.size() != pages) {
    huge.unmap();
    return "cannot read the physical addresses of its DMA memory: /proc/self/pagemap gives frame numbers only with "
           "CAP_SYS_ADMIN (run as root), or use VFIO";
  }
  d->dma.unmap();
  d->dma = huge;
  d->dma_phys = phys;
  klog(6, "%s: DMA memory on %zu hugepages at physical 0x%" PRIx64 "...", d->name.c_str(), pages, phys[0]);
  return "";
}

}  // namespace

std::unique_ptr<BusDevice> uio_open(const std::string &address) { return std::make_unique<UioDevice>(address); }

}  // namespace nooks
