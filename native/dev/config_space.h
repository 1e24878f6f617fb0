// PCI configuration space: an emulated device's, made from its model, and
// what a driver may do to any device's (a POSIX driver's sysfs `config`).
#pragma once
#include <cstddef>
#include <cstdint>

#include "device.h"

namespace nooks {

constexpr uint32_t kPciConfigSize = 256;
constexpr uint32_t kPciCommand = 0x04, kPciBar0 = 0x10, kPciInterruptLine = 0x3c;

// Reads [off, off+n) of dev's configuration space as a driver sees it: a BAR
// a driver wrote all ones to answers its size mask, as PCI sizing expects.
void pci_config_read(BusDevice &dev, uint32_t off, uint8_t *buf, size_t n);
// Writes what a driver may write: the command register's enable bits (I/O,
// memory, bus master, INTx disable), cache line size, latency timer and
// interrupt line. A write to a BAR starts (all ones) or ends its sizing and
// never moves it; every other byte is read-only.
void pci_config_write(BusDevice &dev, uint32_t off, const uint8_t *buf, size_t n);

// A BAR as Linux's sysfs `resource` lists it: bus address, size, IORESOURCE_* flags (all 0: none).
struct PciResource {
  uint64_t start = 0, size = 0, flags = 0;
};
PciResource pci_resource(BusDevice &dev, int bar);
// The class code (24 bits), revision and subsystem ids, from configuration space.
struct PciIdentity {
  uint32_t class_code;
  uint8_t revision;
  uint16_t subsystem_vendor, subsystem_device;
};
PciIdentity pci_identity(BusDevice &dev);

}  // namespace nooks
