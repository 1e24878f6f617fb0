#include "host_pci.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "../kapi/log.h"
#include "../kapi/subsystems.h"

namespace nooks {

namespace {
std::map<uint32_t, PciResetFn> &quirks() {
  static auto *m = new std::map<uint32_t, PciResetFn>;
  return *m;
}

size_t page_round(uint64_t n) {
  size_t pg = (size_t)sysconf(_SC_PAGESIZE);
  return (n + pg - 1) & ~(pg - 1);
}
}  // namespace

PciResetQuirk::PciResetQuirk(uint16_t vendor, uint16_t device, PciResetFn reset) {
  quirks()[(uint32_t)vendor << 16 | device] = reset;
}

std::string pci_sysfs(const std::string &address) { return "/sys/bus/pci/devices/" + address; }

std::string pci_bound_driver(const std::string &address) {
  char buf[256];
  ssize_t n = readlink((pci_sysfs(address) + "/driver").c_str(), buf, sizeof buf - 1);
  if (n <= 0) return "";
  buf[n] = 0;
  const char *slash = strrchr(buf, '/');
  return slash ? slash + 1 : buf;
}

std::string pci_sysfs_bound(const std::string &address, const std::string &driver, const char *via) {
  std::string sys = pci_sysfs(address);
  if (access(sys.c_str(), F_OK) != 0) throw DeviceError("ENODEV", "no PCI device " + address + " (`nooks pci` lists them)");
  std::string drv = pci_bound_driver(address);
  if (drv != driver)
    throw DeviceError(drv.empty() ? "ENODEV" : "EBUSY", address + (drv.empty() ? " is bound to no driver" : " is bound to " + drv) +
                                                            ", not " + driver + ": `nooks pci bind " + address + " " + via + "` binds it");
  return sys;
}

std::string read_text(const std::string &path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  return n > 0 ? std::string(buf, (size_t)n) : "";
}

std::string errno_text(const std::string &what) { return what + ": " + strerror(errno); }

HostPciDevice::~HostPciDevice() {
  stop();
  for (auto &m : maps_) munmap((void *)m.first, m.second);
  if (host_bar0_) munmap(host_bar0_, page_round(bars_[0].size));
  for (Bar &b : bars_)
    if (b.fd >= 0 && b.fd != config_fd_) close(b.fd);
  if (config_fd_ >= 0) close(config_fd_);
  if (irq_fd_ >= 0) close(irq_fd_);
}

void HostPciDevice::stop() {
  if (irq_thread_.joinable()) {
    irq_set_ack(irq_line, nullptr);
    uint64_t one = 1;
    if (write(stop_fd_, &one, sizeof one) < 0) klog(3, "%s: cannot stop its interrupt thread", name.c_str());
    irq_thread_.join();
  }
  if (stop_fd_ >= 0) close(stop_fd_);
  stop_fd_ = -1;
}

void HostPciDevice::read_ids() {
  uint16_t ids[2] = {0, 0};
  if (pread(config_fd_, ids, sizeof ids, (off_t)config_offset_) != (ssize_t)sizeof ids)
    throw DeviceError("EIO", errno_text(address_ + ": cannot read its configuration space"));
  vendor_ = ids[0];
  device_ = ids[1];
}

void HostPciDevice::command(uint16_t set, uint16_t clear) {
  std::lock_guard<std::mutex> g(lock_);
  uint16_t cmd = 0;
  off_t at = (off_t)config_offset_ + 4;  // PCI_COMMAND
  if (pread(config_fd_, &cmd, 2, at) != 2 ||
      (cmd = (uint16_t)((cmd | set) & ~clear), pwrite(config_fd_, &cmd, 2, at) != 2))
    klog(3, "%s: cannot write the PCI command register: %s", name.c_str(), strerror(errno));
}

void HostPciDevice::config_read(uint32_t off, uint8_t *buf, size_t n) {
  std::lock_guard<std::mutex> g(lock_);
  if (pread(config_fd_, buf, n, (off_t)(config_offset_ + off)) != (ssize_t)n) memset(buf, 0xff, n);  // as a master abort reads
}

void HostPciDevice::config_write(uint32_t off, const uint8_t *buf, size_t n) {
  std::lock_guard<std::mutex> g(lock_);
  if (pwrite(config_fd_, buf, n, (off_t)(config_offset_ + off)) != (ssize_t)n)
    klog(3, "%s: cannot write its configuration space at 0x%x: %s", name.c_str(), off, strerror(errno));
}

void HostPciDevice::attached() {
  // The kernel's own view of BAR 0 (key 0, never in a domain): reset quirks write through it.
  if (bars_[0].fd >= 0) {
    void *p = mmap(nullptr, page_round(bars_[0].size), PROT_READ | PROT_WRITE, MAP_SHARED, bars_[0].fd, (off_t)bars_[0].offset);
    host_bar0_ = p == MAP_FAILED ? nullptr : p;
  }
  stop_fd_ = eventfd(0, EFD_CLOEXEC);
  irq_set_ack(irq_line, [this] { irq_ack(); });
  irq_thread_ = std::thread([this] { irq_loop(); });
}

// Interrupts: the stub driver signals irq_fd_ (and masks the line); the
// line's irq thread runs the driver's handler, then the ack unmasks it. With
// no handler attached the line stays masked until request_irq.
void HostPciDevice::irq_loop() {
  for (;;) {
    pollfd p[2] = {{irq_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      klog(2, "%s: interrupt thread: %s", name.c_str(), strerror(errno));
      return;
    }
    if (p[1].revents) return;
    if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
      klog(2, "%s: its interrupt file failed: no more interrupts", name.c_str());
      return;
    }
    uint64_t count = 0;
    if (read(irq_fd_, &count, irq_read_size_) == (ssize_t)irq_read_size_) irq_raise(irq_line);
  }
}

uintptr_t HostPciDevice::iomap(Domain *d, int bar, uint64_t size) {
  const Bar &b = bars_[bar];
  if (b.fd < 0) return 0;
  size_t len = page_round(size);
  void *p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, b.fd, (off_t)b.offset);
  if (p == MAP_FAILED) {
    klog(3, "%s: cannot map BAR %d: %s", name.c_str(), bar, strerror(errno));
    return 0;
  }
  d->tag(p, len);
  {
    std::lock_guard<std::mutex> g(d->mmio_lock);
    d->mmio.push_back({(uintptr_t)p, (uintptr_t)p + len});
  }
  std::lock_guard<std::mutex> g(lock_);
  maps_[(uintptr_t)p] = len;
  return (uintptr_t)p;
}

void HostPciDevice::iounmap(Domain *d, uintptr_t addr) {
  size_t len;
  {
    std::lock_guard<std::mutex> g(lock_);
    auto it = maps_.find(addr);
    if (it == maps_.end()) return;
    len = it->second;
    maps_.erase(it);
  }
  {
    // Out of the domain's list before the address can be reused.
    std::lock_guard<std::mutex> g(d->mmio_lock);
    for (auto it = d->mmio.begin(); it != d->mmio.end(); ++it)
      if (it->lo == addr) {
        d->mmio.erase(it);
        break;
      }
  }
  munmap((void *)addr, len);
}

std::string HostPciDevice::claim(Domain *d) {
  std::string why = dma_map(d);
  if (why.empty()) command(kPciCommandMemory, 0);
  return why;
}

// The driver let go (or failed): no more DMA (bus mastering off, which a PCI
// device must obey), the device reset, then its DMA mappings torn down.
void HostPciDevice::release(Domain *d) {
  command(0, kPciCommandMaster);
  if (!function_reset()) {
    auto q = quirks().find((uint32_t)vendor_ << 16 | device_);
    if (q != quirks().end() && host_bar0_) q->second((volatile uint8_t *)host_bar0_, bars_[0].size);
  }
  dma_unmap(d);
}

void HostPciDevice::set_master() { command(kPciCommandMemory | kPciCommandMaster, 0); }

}  // namespace nooks
