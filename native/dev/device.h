// Emulated devices: C++ models of hardware on the kernel's PCI bus
// (native/dev/bus.cc). A model answers register accesses to its BARs, raises
// its interrupt line, and reaches memory only by DMA through its driver's DMA
// window (an IOMMU: a bad bus address is a device error, never a wild write).
// Models that work on their own (a disk, a NIC's wire) run their own threads.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace nooks {

// A model's creation options (from Kernel.addDevice), as strings.
using DeviceOptions = std::map<std::string, std::string>;

class EmulatedDevice {
 public:
  virtual ~EmulatedDevice() = default;
  virtual const char *kind() const = 0;
  virtual uint16_t vendor() const = 0;
  virtual uint16_t device_id() const = 0;
  virtual uint64_t bar_size(int bar) const = 0;  // 0: no such BAR
  virtual uint32_t read(int bar, uint64_t off, unsigned width) = 0;
  virtual void write(int bar, uint64_t off, uint32_t value, unsigned width) = 0;
  // Back to the state at power-on: recovery resets the device of a failed
  // driver so the restarted one finds it as the first one did.
  virtual void reset() = 0;

  // Set by the bus.
  int index = -1;         // position on the bus
  unsigned irq_line = 0;  // its interrupt line
  std::string name;       // e.g. "blk0"
  std::atomic<int> domain{-1};  // the driver bound to it (-1: none)
  std::atomic<uint64_t> errors{0};

 protected:
  // DMA between the device and its driver's DMA memory; false (and a device
  // error reported) if [bus, bus+n) is not inside it or no driver is bound.
  bool dma_read(uint64_t bus, void *dst, size_t n);
  bool dma_write(uint64_t bus, const void *src, size_t n);
  // Asserts the interrupt line; reported once if no handler is attached.
  void raise_irq();
  // A device-visible error (bad DMA address, undefined register, ...): logged and counted.
  void report_error(const char *fmt, ...) __attribute__((format(printf, 2, 3)));
  // An access to a register the device does not have: a device error; reads give all ones.
  uint32_t undefined_register(uint64_t off, unsigned width);

 private:
  bool dma(uint64_t bus, void *buf, size_t n, bool to_memory);
  std::atomic<bool> warned_no_handler_{false};
};

// Models register a factory under their kind ("blk", "uart16550", ...).
using DeviceFactory = std::unique_ptr<EmulatedDevice> (*)(const DeviceOptions &opts);
struct DeviceKind {
  DeviceKind(const char *kind, DeviceFactory make);
};

}  // namespace nooks
