// Real PCI devices of the machine on the kernel's bus, driven through a Linux
// stub driver: uio_pci_generic (uio.cc) or vfio-pci (vfio.cc). What the two
// share is here: BARs mapped into the driver's domain (so a register access is
// a plain load or store, no crossing), the command register, an interrupt
// thread, and stopping and resetting the device when its driver lets go.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "device.h"

namespace nooks {

class HostPciDevice : public BusDevice {
 public:
  ~HostPciDevice() override;
  const char *kind() const override { return via_; }
  uint16_t vendor() const override { return vendor_; }
  uint16_t device_id() const override { return device_; }
  uint64_t bar_size(int bar) const override { return bar >= 0 && bar < 6 ? bars_[bar].size : 0; }
  uintptr_t iomap(Domain *d, int bar, uint64_t size) override;
  void iounmap(Domain *d, uintptr_t addr) override;
  std::string claim(Domain *d) override;
  void release(Domain *d) override;
  void set_master() override;
  bool reset_function() override { return function_reset(); }
  void attached() override;
  void config_read(uint32_t off, uint8_t *buf, size_t n) override;
  void config_write(uint32_t off, const uint8_t *buf, size_t n) override;
  const char *host_address() const override { return address_.c_str(); }

 protected:
  HostPciDevice(const char *via, const std::string &address) : address_(address), via_(via) {}
  // Stops the interrupt thread: the first thing a backend's destructor does.
  void stop();

  // Filled in by the backend's constructor.
  struct Bar {
    int fd = -1;  // mmap()ed at `offset` for `size` bytes; -1: not a memory BAR
    uint64_t offset = 0, size = 0;
  };
  Bar bars_[6];
  int config_fd_ = -1;  // configuration space, at config_offset_
  uint64_t config_offset_ = 0;
  int irq_fd_ = -1;     // readable when the device interrupts (read irq_read_size_ bytes)
  size_t irq_read_size_ = 8;
  std::string address_;  // 0000:00:03.0
  uint16_t vendor_ = 0, device_ = 0;
  void read_ids();  // vendor_ and device_ from configuration space
  // Sets and clears bits of the command register (read-modify-write).
  void command(uint16_t set, uint16_t clear);

  // The backends' differences.
  virtual void irq_ack() = 0;                   // the handler ran: let the device interrupt again
  virtual std::string dma_map(Domain *d) = 0;   // d's DMA memory reachable by the device ("" or why not)
  virtual void dma_unmap(Domain *d) = 0;
  virtual bool function_reset() = 0;            // false: the device has no reset of its own

 private:
  void irq_loop();
  std::map<uintptr_t, size_t> maps_;  // the domains' BAR mappings
  void *host_bar0_ = nullptr;         // the kernel's own mapping of BAR 0, for reset quirks
  std::thread irq_thread_;
  int stop_fd_ = -1;
  std::mutex lock_;  // config read-modify-writes, maps_
  const char *via_;
};

constexpr uint16_t kPciCommandMemory = 1u << 1, kPciCommandMaster = 1u << 2, kPciCommandIntxDisable = 1u << 10;

// A device reset through BAR 0 for devices that have no function reset
// (registered by their class, e.g. the e1000's CTRL.RST).
using PciResetFn = void (*)(volatile uint8_t *bar0, uint64_t size);
struct PciResetQuirk {
  PciResetQuirk(uint16_t vendor, uint16_t device, PciResetFn reset);
};

// Open a device by PCI address (0000:00:03.0); throw DeviceError naming the fix.
std::unique_ptr<BusDevice> uio_open(const std::string &address);
std::unique_ptr<BusDevice> vfio_open(const std::string &address);

// Helpers for the backends: the sysfs directory of a device, the name of the
// kernel driver bound to it ("" if none), and the whole of a small file.
std::string pci_sysfs(const std::string &address);
// The sysfs directory of a device that exists and is bound to `driver` (the
// stub driver of `via`); else throws DeviceError saying how to get there.
std::string pci_sysfs_bound(const std::string &address, const std::string &driver, const char *via);
std::string pci_bound_driver(const std::string &address);
std::string read_text(const std::string &path);
// strerror(errno) of the last failed call, as "what: reason".
std::string errno_text(const std::string &what);

}  // namespace nooks
