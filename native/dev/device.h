// Devices on the kernel's PCI bus (native/dev/bus.cc). A BusDevice is what
// the bus and the PCI calls see; its backend is an emulated model (below), a
// device bound to uio_pci_generic (uio.cc) or to vfio-pci (vfio.cc): drivers
// cannot tell them apart.
//
// Emulated devices: C++ models of hardware. A model answers register accesses
// to its BARs, raises its interrupt line, and reaches memory only by DMA
// through its driver's DMA window (an IOMMU: a bad bus address is a device
// error, never a wild write). Models that work on their own (a disk, a NIC's
// wire) run their own threads.
#pragma once
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../kapi/log.h"

namespace nooks {

// A model's creation options (from Kernel.addDevice), as strings.
using DeviceOptions = std::map<std::string, std::string>;

struct Domain;
struct IoWindow;

// A network device's side beyond its registers, for the net class: the wire to
// its link partner and the cable. A NIC model returns it from BusDevice::nic().
struct NicWire {
  std::string local, peer;  // host:port of the UDP wire ("" peer: none)
  bool link = false;
  uint64_t frames_sent = 0, frames_received = 0, frames_dropped = 0;
};
class NicPort {
 public:
  virtual ~NicPort() = default;
  virtual NicWire wire() = 0;
  // Plugs or pulls the cable (a link change the driver sees).
  virtual void set_cable(bool up) = 0;
  // Test hook: the transmitter hangs until the driver disables it (a tx timeout's cure).
  virtual void hang_tx() = 0;
};

class BusDevice {
 public:
  virtual ~BusDevice() = default;
  virtual const char *kind() const = 0;
  virtual uint16_t vendor() const = 0;
  virtual uint16_t device_id() const = 0;
  virtual uint64_t bar_size(int bar) const = 0;  // 0: no such BAR
  // What pci_iomap returns to driver d for the first `size` bytes of BAR
  // `bar` (0 on failure), and its undoing (pci_iounmap, or recovery).
  virtual uintptr_t iomap(Domain *d, int bar, uint64_t size) = 0;
  virtual void iounmap(Domain *d, uintptr_t addr) = 0;
  // What a POSIX driver's mmap of sysfs resource<bar> gives driver d: the
  // first `size` bytes of BAR `bar` as memory its own loads and stores reach
  // (0 on failure), and its undoing. A real device's BAR is mapped itself, as
  // pci_iomap maps it; an emulated device's is a range that traps each access
  // and performs it on the model (MMIO trap-and-emulate).
  virtual uintptr_t map_bar(Domain *d, int bar, uint64_t size) { return iomap(d, bar, size); }
  virtual void unmap_bar(Domain *d, uintptr_t addr) { iounmap(d, addr); }
  // Driver d is about to be probed for the device: "" or why it cannot be.
  virtual std::string claim(Domain *) { return ""; }
  // Driver d let go of the device (removed, or failed): stop it and put it
  // back in the state at power-on, so the next driver finds it as the first one did.
  virtual void release(Domain *d) = 0;
  virtual void set_master() {}  // pci_set_master
  // A POSIX driver's VFIO_IOMMU_MAP_DMA at an IOVA of its choosing, for a real
  // device behind an IOMMU: `size` bytes of its DMA memory at `cpu` made
  // reachable at `iova` too (0, or -errno; -ENODEV: the device has no IOMMU of
  // nooks'). Undone by iommu_unmap, and all at once when the device is released.
  virtual long iommu_map(uint64_t, uintptr_t, uint64_t) { return -ENODEV; }
  virtual void iommu_unmap(uint64_t) {}
  // A function-level reset the driver asked for (VFIO_DEVICE_RESET): false if the device has none.
  virtual bool reset_function() { return false; }
  // Its PCI configuration space as the device holds it (256 bytes, [off,
  // off+n) inside): an emulated device's is made from its model
  // (config_space.cc), a real one's is the host's. What a driver may write is
  // checked by the bus first (bus_config_write): never a BAR's address.
  virtual void config_read(uint32_t off, uint8_t *buf, size_t n) = 0;
  virtual void config_write(uint32_t off, const uint8_t *buf, size_t n) = 0;
  // The host's PCI address of a real device; nullptr for an emulated one (the bus gives it one).
  virtual const char *host_address() const { return nullptr; }
  // Called once the bus has given the device its index, line and name.
  virtual void attached() {}
  virtual class EmulatedDevice *emulated() { return nullptr; }  // the model, if it is one
  virtual NicPort *nic() { return nullptr; }  // its wire, if it is a network device

  // Set by the bus.
  int index = -1;         // position on the bus
  unsigned irq_line = 0;  // its interrupt line
  std::string name;       // e.g. "blk0"
  std::string address;    // its PCI address, e.g. "0000:00:02.0"
  uint8_t bar_sizing = 0; // BARs a driver wrote all ones to: they read back their size (bus_config_*)
  std::atomic<int> domain{-1};  // the driver bound to it (-1: none)
  std::atomic<uint64_t> errors{0};
};

// A device that could not be attached: `code` for the application (ENODEV, EACCES, ...).
struct DeviceError : std::runtime_error {
  DeviceError(const std::string &code, const std::string &msg) : std::runtime_error(msg), code(code) {}
  std::string code;
};

class DomainMemoryAccess;

class EmulatedDevice : public BusDevice {
 public:
  virtual uint32_t read(int bar, uint64_t off, unsigned width) = 0;
  virtual void write(int bar, uint64_t off, uint32_t value, unsigned width) = 0;
  // Back to the state at power-on.
  virtual void reset() = 0;

  // Register windows: cookies the driver's ioread/iowrite send to read/write.
  uintptr_t iomap(Domain *d, int bar, uint64_t size) override;
  void iounmap(Domain *d, uintptr_t addr) override;
  // A trapped window (iomem.h): each load or store faults and is performed on the model (native/trap/mmio.h).
  uintptr_t map_bar(Domain *d, int bar, uint64_t size) override;
  void unmap_bar(Domain *d, uintptr_t addr) override;
  void release(Domain *) override { reset_function(); }
  bool reset_function() override {
    reset();
    config_made_ = false;  // its command register as at power-on
    return true;
  }
  EmulatedDevice *emulated() override { return this; }
  // Test hook (nooks/testing): the next DMA the model plans waits, before it
  // starts, until the driver has let go of the device (10 s at most): a DMA in
  // flight across the driver's teardown. False if the model has no such hook.
  virtual bool hold_next_dma() { return false; }
  // A serial device's transmitter waits for its line (a far end that takes
  // nothing, the line full): no byte leaves, and its driver is not to blame
  // (the serial class's nanny). False for a device that has no such line.
  virtual bool line_held() { return false; }
  // Configuration space made from the model: its ids, class, BARs (config_space.cc).
  void config_read(uint32_t off, uint8_t *buf, size_t n) override;
  void config_write(uint32_t off, const uint8_t *buf, size_t n) override;

 protected:
  // Held on the device's own thread around its DMA, taken before the model's
  // lock (the order a driver's thread takes them in, inside its crossing):
  // opens the driver's memory (DomainMemoryAccess) only where DMA goes
  // through its pages (bus.cc, dma_through_file): under mprotect a wait for
  // driver code to stop, taken only for DMA memory with no memory file
  // (hugepages: UIO); there DMA goes through the file, driver code running on.
  class DmaAccess {
   public:
    explicit DmaAccess(const EmulatedDevice &dev);
    ~DmaAccess();

   private:
    std::unique_ptr<DomainMemoryAccess> open_;
  };
  // DMA between the device and its driver's DMA memory; false (and a device
  // error reported) if [bus, bus+n) is not inside it or no driver is bound.
  bool dma_read(uint64_t bus, void *dst, size_t n);
  bool dma_write(uint64_t bus, const void *src, size_t n);
  // Asserts the interrupt line; reported once if no handler is attached.
  void raise_irq();
  // A device-visible error (bad DMA address, undefined register, ...): counted, and logged
  // with a device-error event naming the device and the given fields.
  void report_error(const char *fmt, ...) __attribute__((format(printf, 2, 3)));
  void report_error(std::vector<LogField> fields, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
  // An access to a register the device does not have: a device error; reads give all ones.
  uint32_t undefined_register(uint64_t off, unsigned width);

 private:
  IoWindow window(Domain *d, int bar, uint64_t size);
  bool dma(uint64_t bus, void *buf, size_t n, bool to_memory);
  void report_error_v(std::vector<LogField> fields, const char *fmt, va_list ap);
  std::atomic<bool> warned_no_handler_{false};
  uint8_t config_[256] = {};  // built at the first access (config_space.cc)
  bool config_made_ = false;
  void make_config();
};

// Models register a factory under their kind ("blk", "uart16550", ...).
using DeviceFactory = std::unique_ptr<EmulatedDevice> (*)(const DeviceOptions &opts);
struct DeviceKind {
  DeviceKind(const char *kind, DeviceFactory make);
};

}  // namespace nooks
