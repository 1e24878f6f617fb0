// The kernel's PCI bus: the devices on it and the drivers bound to them.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "../domain/domain.h"
#include "device.h"

namespace nooks {

struct DeviceInfo {
  int index;
  std::string name, kind, address;
  uint16_t vendor, device_id;
  unsigned irq;
  int domain;  // bound driver, -1 if none
  uint64_t errors;
};

// Creates a device of a registered kind and puts it on the bus, probing the
// drivers registered for it. Throws std::invalid_argument for an unknown kind
// or bad options (the factory's message).
DeviceInfo bus_add_device(const std::string &kind, const DeviceOptions &opts);
// Puts a device on the bus (named `name`, or kind + a number) and probes the drivers registered for it.
DeviceInfo bus_attach(std::unique_ptr<BusDevice> dev, const std::string &name = "");
std::vector<DeviceInfo> bus_devices();
// The model of device `index` (for its class's kernel side), or nullptr.
EmulatedDevice *bus_device(int index);
// The model of the device named `name` (e.g. 'pcm0'), or nullptr.
EmulatedDevice *bus_device_named(const std::string &name);
// fn(the model of the device named `name`, or nullptr) under the bus's lock, unless another thread holds it: then
// false at once. For the watchdog's nannies, which must never wait for the bus: an attach on the JS thread holds it
// while it waits for a driver that only the watchdog can end.
bool bus_try_with_device_named(const std::string &name, const std::function<void(EmulatedDevice *)> &fn);
// Recovery: the failed driver loses its devices, which are reset.
void bus_release_driver(Domain *d, uintptr_t drv);
void bus_release_iomap(Domain *d, uintptr_t addr);
// Maps BAR `bar` of device `index` for driver d, which must be bound to it, as
// its mmap of resource<bar> would (BusDevice::map_bar); a tracked object,
// undone at recovery. Throws DeviceError (ENODEV, EACCES, EINVAL, ENOMEM).
uintptr_t bus_map_bar(Domain *d, int index, int bar);
// The load option `devices`: binds the devices at d->devices to d (each a
// tracked object of type device), for as long as it is loaded; after a
// recovery released them, again before module_init runs. "" or why not, with
// `code` set (ENODEV: no such address on the bus, EBUSY: another driver has it).
std::string bus_hold_devices(Domain *d, std::string *code);
// Lets go of device `index` that d holds (recovery, unload): it is reset.
void bus_release_held(Domain *d, int index);
// Whether d may request interrupt line `line`: a line below the devices' (a
// software line, the tests') is anyone's; a device's line only its driver's
// (bound by a probe or held by the load option devices).
bool bus_line_requestable(Domain *d, unsigned line);
// Runs fn with the bus lock held on the device at `address` if d holds it
// (load option devices); false if it does not.
bool bus_with_held(Domain *d, const std::string &address, const std::function<void(BusDevice &)> &fn);
// Undoes BusDevice::map_bar of the device at `address` (held or not any more).
void bus_unmap_bar(Domain *d, const std::string &address, uintptr_t addr);
// Kernel shutdown: every device off the bus.
void bus_clear();

}  // namespace nooks
