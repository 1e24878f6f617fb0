#include "bus.h"

#include <cstdarg>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "../domain/host_heap.h"
#include "../kapi/checks.h"
#include "../kapi/host_limits.h"
#include "../kapi/log.h"
#include "../kapi/subsystems.h"
#include "../kapi/wait.h"
#include "../recovery/recovery.h"
#include "../xpc/xpc.h"
#include "iomem.h"

namespace nooks {

namespace {

constexpr unsigned kFirstDeviceIrq = 32;  // lines below are free for tests and software
constexpr size_t kMaxDevices = kIrqLines - kFirstDeviceIrq;  // a line each: the bus is full then
constexpr int kMaxIds = 64;               // entries read from a driver's id table

struct Slot {
  std::unique_ptr<BusDevice> dev;
  pci_dev *pdev = nullptr;  // in the host-object heap: drivers read it, never write it
  uintptr_t drv = 0;        // the pci_driver bound (its address in the driver)
  bool held = false;        // bound to its domain by the load option devices instead
  void *drvdata = nullptr;
};

// A registered driver: what the kernel copied out of its struct pci_driver.
struct Registration {
  int domain;
  uintptr_t drv;
  const void *probe, *remove;
  std::vector<pci_device_id> ids;
  std::vector<uintptr_t> id_addrs;  // where each id lives in the driver (probe's second argument)
};

// Never destroyed: kernel threads may still run while the process exits.
struct Bus {
  // Never held across a crossing (probe, remove: see Probe). Before the
  // mprotect lock: take it only through BusLock.
  std::recursive_mutex lock;
  std::vector<Slot> slots;
  std::vector<Registration> drivers;
  std::map<std::string, DeviceFactory> kinds;
  std::map<std::string, int> counts;  // per kind, for names: blk0, blk1, ...
  // What pci_iomap or map_bar (mapped: true) returned -> the device's slot.
  struct Mapping {
    int slot;
    bool mapped;
  };
  std::map<uintptr_t, Mapping> iomaps;
};
Bus &bus() {
  static Bus *b = new Bus;
  return *b;
}

// The bus lock, taken before the mprotect lock: kernel code holding it may
// open driver memory (DomainMemoryAccess: a new device's pci_dev, a device's
// DMA mappings at claim). So a driver thread that calls the bus from inside a
// crossing, holding the mprotect lock, gives that up while it waits for the
// bus lock, and takes it back once it has it. Touches no driver memory
// meanwhile. A try_lock that succeeds waits for nothing: no cycle. What a
// driver's call changes for its domain once it has the lock it changes
// through change_inside (wait.h): the wait may have outlasted a teardown.
class BusLock {
 public:
  // caller: the driver whose kernel call this is, where a test may stall it (stallNextWait).
  explicit BusLock(Domain *caller = nullptr) {
    if (caller) stall_for_test(caller);
    if (bus().lock.try_lock()) return;
    UnlockedWait w;
    bus().lock.lock();
  }
  ~BusLock() { bus().lock.unlock(); }
  BusLock(const BusLock &) = delete;
  BusLock &operator=(const BusLock &) = delete;
};

DeviceInfo info_of(const Slot &s) {
  const BusDevice &d = *s.dev;
  return {d.index, d.name, d.kind(), d.address, d.vendor(), d.device_id(), d.irq_line, d.domain.load(), d.errors.load()};
}

Slot *slot_at(const std::string &address) {
  for (Slot &s : bus().slots)
    if (s.dev->address == address) return &s;
  return nullptr;
}

// An emulated device's PCI address: the first free slot from 00:02.0 (where
// QEMU puts its first device), never one an attached real device has.
std::string free_address() {
  for (int n = 2;; n++) {
    char a[24];
    snprintf(a, sizeof a, "0000:%02x:%02x.0", n / 32, n % 32);
    if (!slot_at(a)) return a;
  }
}

// The device goes back to power-on: its driver's sizing of BARs too.
void reset_device(BusDevice &dev, Domain *d) {
  dev.release(d);
  dev.bar_sizing = 0;
  dev.domain.store(-1);
}

Slot *slot_of(const pci_dev *pdev) {
  for (Slot &s : bus().slots)
    if (s.pdev == pdev) return &s;
  return nullptr;
}

bool matches(const Registration &r, const BusDevice &d, size_t *which) {
  for (size_t i = 0; i < r.ids.size(); i++)
    if (r.ids[i].vendor == d.vendor() && r.ids[i].device == d.device_id()) {
      *which = i;
      return true;
    }
  return false;
}

void unbind(Slot &s, Domain *d) {
  d->objects.remove(ObjectType::pci_dev, (uintptr_t)s.pdev);
  s.drv = 0;
  s.drvdata = nullptr;
  reset_device(*s.dev, d);
}

// A device offered to a driver: claimed under the bus lock, probed without
// it. A probe that faults inside pci_register_driver unwinds to the driver's
// outermost entry, past whatever this thread holds: never the bus lock.
struct Probe {
  int slot;
  Domain *d;
  uintptr_t drv;
  XpcCall call;
};
// The probes a registration or a new device brings. On the stack: a probe's
// fault unwinds past pci_register_driver, skipping destructors.
struct Probes {
  Probe at[kMaxDevices];
  size_t n = 0;
};

// With the bus lock held: binds s to r for the probe to come, if r drives it.
bool claim(Slot &s, const Registration &r, Probes *probes) {
  size_t which;
  Domain *d = g_domains[r.domain];
  if (!d || s.drv || s.held || !matches(r, *s.dev, &which)) return false;
  std::string why = s.dev->claim(d);
  if (!why.empty()) {
    klog(3, "pci: %s cannot be bound to %s: %s", s.dev->name.c_str(), d->name.c_str(), why.c_str());
    return false;
  }
  s.drv = r.drv;
  s.dev->domain.store(r.domain);
  d->objects.add({ObjectType::pci_dev, (uintptr_t)s.pdev, sizeof(pci_dev), (uint64_t)s.dev->index, s.dev->name});
  probes->at[probes->n++] = {s.dev->index, d, r.drv, {r.probe, {(uint64_t)s.pdev, (uint64_t)r.id_addrs[which]}, 0}};
  return true;
}

// Without the bus lock: probe runs in the driver (nested in the kernel call
// that brought us here, or from the JS thread); a device it refuses is unbound.
void probe(Probe &p) {
  Fault f;
  EnterResult res = xpc_call(p.d, &p.call, &f);
  BusLock g;
  Slot &s = bus().slots[p.slot];
  if (res == EnterResult::ok && (int)p.call.ret == 0) {
    klog(6, "pci: %s bound to %s", s.dev->name.c_str(), p.d->name.c_str());
    return;
  }
  if (res == EnterResult::ok) klog(4, "pci: %s: %s probe returned %s", s.dev->name.c_str(), p.d->name.c_str(), errno_named((int)p.call.ret).c_str());
  if (s.drv == p.drv) unbind(s, p.d);
  if (res == EnterResult::fault) recovery_notify(p.d, f);  // the recovery thread tears it down and reports
}

}  // namespace

DeviceKind::DeviceKind(const char *kind, DeviceFactory make) { bus().kinds[kind] = make; }

DeviceInfo bus_add_device(const std::string &kind, const DeviceOptions &opts) {
  Bus &b = bus();
  BusLock g;
  auto k = b.kinds.find(kind);
  if (k == b.kinds.end()) {
    std::string known;
    for (auto &x : b.kinds) known += (known.empty() ? "" : ", ") + x.first;
    throw std::invalid_argument("unknown device kind '" + kind + "' (known: " + known + ")");
  }
  return bus_attach(k->second(opts));  // the factory throws std::invalid_argument on bad options
}

DeviceInfo bus_attach(std::unique_ptr<BusDevice> dev, const std::string &name) {
  Bus &b = bus();
  Probes probes;
  int index;
  {
    BusLock g;
    index = (int)b.slots.size();
    dev->index = index;
    dev->irq_line = kFirstDeviceIrq + index;
    if (dev->irq_line >= (unsigned)kIrqLines) throw std::invalid_argument("the bus is full");
    dev->name = name.empty() ? dev->kind() + std::to_string(b.counts[dev->kind()]++) : name;
    dev->address = dev->host_address() ? dev->host_address() : free_address();
    auto *pdev = static_cast<pci_dev *>(host_heap_alloc(sizeof(pci_dev)));
    if (!pdev) throw std::runtime_error("host-object heap exhausted");
    {
      // Under mprotect the host-object heap is read-only while a driver runs on another thread.
      DomainMemoryAccess access;
      pdev->vendor = dev->vendor();
      pdev->device = dev->device_id();
      pdev->irq = dev->irq_line;
      pdev->dev.name = strdup(dev->name.c_str());
      snprintf(pdev->address, sizeof pdev->address, "%s", dev->address.c_str());
    }
    b.slots.push_back({std::move(dev), pdev});
    Slot &s = b.slots.back();
    s.dev->attached();
    for (const Registration &r : b.drivers)
      if (claim(s, r, &probes)) break;
  }
  for (size_t i = 0; i < probes.n; i++) probe(probes.at[i]);
  BusLock g;
  return info_of(b.slots[index]);
}

std::vector<DeviceInfo> bus_devices() {
  BusLock g;
  std::vector<DeviceInfo> v;
  for (Slot &s : bus().slots) v.push_back(info_of(s));
  return v;
}

EmulatedDevice *bus_device(int index) {
  BusLock g;
  return index >= 0 && index < (int)bus().slots.size() ? bus().slots[index].dev->emulated() : nullptr;
}

// With the bus's lock held.
static EmulatedDevice *named(const std::string &name) {
  for (Slot &s : bus().slots)
    if (s.dev->name == name) return s.dev->emulated();
  return nullptr;
}

EmulatedDevice *bus_device_named(const std::string &name) {
  BusLock g;
  return named(name);
}

bool bus_try_with_device_named(const std::string &name, const std::function<void(EmulatedDevice *)> &fn) {
  std::unique_lock<std::recursive_mutex> g(bus().lock, std::try_to_lock);
  if (!g) return false;
  fn(named(name));
  return true;
}

void bus_release_driver(Domain *d, uintptr_t drv) {
  Bus &b = bus();
  BusLock g;
  for (Slot &s : b.slots)
    if (s.drv == drv && s.dev->domain.load() == d->id) unbind(s, d);
  for (auto it = b.drivers.begin(); it != b.drivers.end(); ++it)
    if (it->domain == d->id && it->drv == drv) {
      b.drivers.erase(it);
      break;
    }
}

std::string bus_hold_devices(Domain *d, std::string *code) {
  BusLock g;
  for (const std::string &address : d->devices) {
    Slot *s = slot_at(address);
    if (!s) {
      *code = "ENODEV";
      return "load option devices: no device " + address + " on the kernel's bus (kernel.devices() lists them)";
    }
    if (s->held && s->dev->domain.load() == d->id) continue;
    int other = s->dev->domain.load();
    if (other >= 0) {
      Domain *o = g_domains[other];
      *code = "EBUSY";
      return "load option devices: " + address + " (" + s->dev->name + ") is bound to " + (o ? o->name : "another driver");
    }
    if (std::string why = s->dev->claim(d); !why.empty()) {
      *code = "EBUSY";
      return "load option devices: " + address + " cannot be bound to " + d->name + ": " + why;
    }
    s->held = true;
    s->dev->domain.store(d->id);
    d->objects.add({ObjectType::device, (uintptr_t)s->dev->index, 0, 0, address});
  }
  return "";
}

void bus_release_held(Domain *d, int index) {
  BusLock g;
  if (index < 0 || index >= (int)bus().slots.size()) return;
  Slot &s = bus().slots[index];
  if (!s.held || s.dev->domain.load() != d->id) return;
  s.held = false;
  reset_device(*s.dev, d);
}

bool bus_line_requestable(Domain *d, unsigned line) {
  if (line < kFirstDeviceIrq) return true;
  BusLock g(d);
  for (const Slot &s : bus().slots)
    if (s.dev->irq_line == line) return s.dev->domain.load() == d->id;
  return false;
}

bool bus_with_held(Domain *d, const std::string &address, const std::function<void(BusDevice &)> &fn) {
  BusLock g;
  Slot *s = slot_at(address);
  if (!s || !s->held || s->dev->domain.load() != d->id) return false;
  fn(*s->dev);
  return true;
}

void bus_unmap_bar(Domain *d, const std::string &address, uintptr_t addr) {
  BusLock g;
  if (Slot *s = slot_at(address)) s->dev->unmap_bar(d, addr);
}

void bus_release_iomap(Domain *d, uintptr_t addr) {
  Bus &b = bus();
  BusLock g;
  auto it = b.iomaps.find(addr);
  if (it == b.iomaps.end()) return;
  BusDevice *dev = b.slots[it->second.slot].dev.get();
  if (it->second.mapped) dev->unmap_bar(d, addr);
  else dev->iounmap(d, addr);
  b.iomaps.erase(it);
}

uintptr_t bus_map_bar(Domain *d, int index, int bar) {
  Bus &b = bus();
  BusLock g;
  if (index < 0 || index >= (int)b.slots.size()) throw DeviceError("ENODEV", "no device " + std::to_string(index) + " on the bus");
  BusDevice *dev = b.slots[index].dev.get();
  if (dev->domain.load() != d->id) throw DeviceError("EACCES", dev->name + " is not bound to " + d->name);
  uint64_t size = bar >= 0 && bar < 6 ? dev->bar_size(bar) : 0;
  if (!size) throw DeviceError("EINVAL", dev->name + " has no BAR " + std::to_string(bar));
  uintptr_t addr = dev->map_bar(d, bar, size);
  if (!addr) throw DeviceError("ENOMEM", "cannot map " + dev->name + " BAR " + std::to_string(bar));
  b.iomaps[addr] = {index, true};
  d->objects.add({ObjectType::iomap, addr, size, (uint64_t)index, dev->name + " BAR" + std::to_string(bar) + " (mapped)"});
  return addr;
}

void bus_clear() {
  Bus &b = bus();
  BusLock g;
  for (Slot &s : b.slots) host_heap_free(s.pdev);
  b.slots.clear();
  b.drivers.clear();
  b.iomaps.clear();
  b.counts.clear();
}

// ---- register windows, DMA and interrupts, for the models --------------------

// Driver d's window on the first `size` bytes of BAR `bar`.
IoWindow EmulatedDevice::window(Domain *d, int bar, uint64_t size) {
  IoWindow w;
  w.size = size;
  w.domain = d->id;
  w.read = [this, bar](uint64_t off, unsigned width) { return read(bar, off, width); };
  w.write = [this, bar](uint64_t off, uint32_t v, unsigned width) { write(bar, off, v, width); };
  return w;
}

uintptr_t EmulatedDevice::iomap(Domain *d, int bar, uint64_t size) {
  uintptr_t at = iomem_map(window(d, bar, size));
  if (!at) log_host_limit(d, HostLimit::iomap_windows, kIoWindowBytesPerDriver);
  return at;
}
void EmulatedDevice::iounmap(Domain *, uintptr_t addr) { iomem_unmap(addr); }
uintptr_t EmulatedDevice::map_bar(Domain *d, int bar, uint64_t size) {
  uintptr_t at = iomem_map_trapped(window(d, bar, size));
  if (!at) log_host_limit(d, HostLimit::bar_windows, kIoWindowBytesPerDriver);
  return at;
}
void EmulatedDevice::unmap_bar(Domain *, uintptr_t addr) { iomem_unmap(addr); }

// Whether a device's DMA into d goes through its DMA arena's memory file
// rather than its pages: where crossings flip page protection (mprotect),
// the pages are open to a thread only while no driver code runs, and a
// driver that polls without ever waiting would starve the device's thread.
// A driver's own thread (the model's DMA inside its MMIO trap or kernel
// call) holds them open already: a copy there costs no system call. Elsewhere
// the pages cost a copy, not a system call (pkey opens the key for the
// device's thread alone; none and process keep them open to the kernel).
static bool dma_through_file(const Domain *d) {
  return g_backend.flips_page_protection && !g_backend.holds_memory() && d->dma.has_device_file();
}

bool EmulatedDevice::dma(uint64_t busaddr, void *buf, size_t n, bool to_memory) {
  DomainUse use(domain.load());  // the device's thread: the driver may be unloading
  Domain *d = use.get();
  void *cpu = d ? dma_cpu_address(d, busaddr, n) : nullptr;
  if (!cpu) {
    report_error({{"dma", to_memory ? "write" : "read"}, {"bytes", n}, {"address", hex(busaddr)}},
                 "DMA %s %zu bytes at bus address 0x%lx: outside %s's DMA memory", to_memory ? "write of" : "read of", n,
                 (unsigned long)busaddr, d ? d->name.c_str() : "any driver");
    return false;
  }
  if (dma_through_file(d) && d->dma.device_copy((uintptr_t)cpu, buf, n, to_memory)) return true;
  DomainMemoryAccess access;
  if (to_memory) memcpy(cpu, buf, n);
  else memcpy(buf, cpu, n);
  return true;
}

EmulatedDevice::DmaAccess::DmaAccess(const EmulatedDevice &dev) {
  DomainUse use(dev.domain.load());
  if (use.get() && !dma_through_file(use.get())) open_ = std::make_unique<DomainMemoryAccess>();
}

EmulatedDevice::DmaAccess::~DmaAccess() = default;

bool EmulatedDevice::dma_read(uint64_t busaddr, void *dst, size_t n) { return dma(busaddr, dst, n, false); }
bool EmulatedDevice::dma_write(uint64_t busaddr, const void *src, size_t n) { return dma(busaddr, const_cast<void *>(src), n, true); }

void EmulatedDevice::raise_irq() {
  if (irq_raise(irq_line) || warned_no_handler_.exchange(true)) return;
  klog_event(4, {"irq-unhandled", {{"device", name}, {"irq", irq_line}}}, "%s: interrupt raised with no handler attached (ignored)",
             name.c_str());
}

uint32_t EmulatedDevice::undefined_register(uint64_t off, unsigned width) {
  report_error({{"register", off}, {"width", width}}, "access to undefined register 0x%lx (width %u)", (unsigned long)off, width);
  return 0xffffffff;
}

void EmulatedDevice::report_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report_error_v({}, fmt, ap);
  va_end(ap);
}

void EmulatedDevice::report_error(std::vector<LogField> fields, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report_error_v(std::move(fields), fmt, ap);
  va_end(ap);
}

void EmulatedDevice::report_error_v(std::vector<LogField> fields, const char *fmt, va_list ap) {
  char msg[256];
  vsnprintf(msg, sizeof msg, fmt, ap);
  errors++;
  fields.insert(fields.begin(), LogField("device", name));
  klog_event(3, {"device-error", std::move(fields)}, "%s: device error: %s", name.c_str(), msg);
}

}  // namespace nooks

// ---- the PCI calls drivers make (lib/wrappers/kapi/pci.ts) -----------------
using namespace nooks;

extern "C" int kapi_pci_register_driver(struct pci_driver *drv) {
  Domain *d = calling_domain();
  // Each field read once (the driver may change them meanwhile), all checked
  // first, into the stack, without the bus lock: a rejected call leaves the
  // domain at once, skipping destructors.
  const void *probe_fn = (const void *)drv->probe, *remove_fn = (const void *)drv->remove;
  check_driver_fn(d, probe_fn, false, "pci_register_driver", "drv->probe");
  check_driver_fn(d, remove_fn, true, "pci_register_driver", "drv->remove");
  pci_device_id ids[kMaxIds];
  uintptr_t id_addrs[kMaxIds];
  size_t n = 0;
  for (const pci_device_id *id = drv->id_table;; id++) {
    check_readable(d, id, sizeof *id, false, "pci_register_driver", "drv->id_table");
    const pci_device_id entry = *id;
    if (!entry.vendor && !entry.device) break;
    if (n == kMaxIds) kernel_bug(d, "pci_register_driver: id_table has no {0, 0} end within %d entries", kMaxIds);
    ids[n] = entry;
    id_addrs[n++] = (uintptr_t)id;
  }
  Bus &b = bus();
  Probes probes;
  {
    BusLock g(d);
    // Gone before the probes: a probe's fault unwinds past this frame.
    const Registration r{d->id, (uintptr_t)drv, probe_fn, remove_fn, {ids, ids + n}, {id_addrs, id_addrs + n}};
    int result = -EBUSY;
    if (int left = change_inside(d, [&] {
          for (const Registration &x : b.drivers)
            if (x.domain == d->id && x.drv == (uintptr_t)drv) return;
          b.drivers.push_back(r);
          d->objects.add({ObjectType::pci_driver, (uintptr_t)drv, sizeof *drv, 0, "pci_driver"});
          result = 0;
        }))
      return left;  // left running past a teardown: the restarted driver's registration is its own
    if (result) return result;
    for (Slot &s : b.slots) claim(s, r, &probes);
  }
  for (size_t i = 0; i < probes.n; i++) probe(probes.at[i]);
  return 0;
}

extern "C" void kapi_pci_unregister_driver(struct pci_driver *drv) {
  Domain *d = calling_domain();
  Bus &b = bus();
  const void *remove = nullptr;  // as checked at registration
  pci_dev *bound[kMaxDevices];  // on the stack: remove's fault unwinds past us
  size_t n = 0;
  {
    BusLock g(d);
    for (const Registration &r : b.drivers)
      if (r.domain == d->id && r.drv == (uintptr_t)drv) remove = r.remove;
    for (Slot &s : b.slots)
      if (s.drv == (uintptr_t)drv && s.dev->domain.load() == d->id) bound[n++] = s.pdev;
  }
  // remove runs in the driver without the bus lock: a fault there unwinds
  // past us, to the driver's outermost entry (recovery unbinds the rest).
  for (size_t i = 0; i < n && remove; i++) {
    XpcCall c{remove, {(uint64_t)bound[i]}, 0};
    Fault f;
    xpc_call(d, &c, &f);
  }
  BusLock g(d);  // held through bus_release_driver: a teardown's release of drv comes after, or before and finds it gone
  if (change_inside(d, [&] { d->objects.remove(ObjectType::pci_driver, (uintptr_t)drv); })) return;
  bus_release_driver(d, (uintptr_t)drv);  // unbinds its devices
}

extern "C" int kapi_pci_enable_device(struct pci_dev *) { return 0; }

extern "C" void kapi_pci_set_master(struct pci_dev *pdev) {
  BusLock g;
  if (Slot *s = slot_of(pdev)) s->dev->set_master();
}

extern "C" unsigned long kapi_pci_resource_len(struct pci_dev *pdev, int bar) {
  BusLock g;
  Slot *s = slot_of(pdev);
  return s && bar >= 0 && bar < 6 ? s->dev->bar_size(bar) : 0;
}

extern "C" void *kapi_pci_iomap(struct pci_dev *pdev, int bar, unsigned long maxlen) {
  Domain *d = calling_domain();
  Bus &b = bus();
  BusLock g(d);
  Slot *s = slot_of(pdev);
  if (!s || bar < 0 || bar >= 6 || !s->dev->bar_size(bar)) return nullptr;
  BusDevice *dev = s->dev.get();
  uint64_t size = dev->bar_size(bar);
  if (maxlen && maxlen < size) size = maxlen;
  uintptr_t addr = dev->iomap(d, bar, size);
  if (!addr) return nullptr;
  if (change_inside(d, [&] {
        b.iomaps[addr] = {dev->index, false};
        d->objects.add({ObjectType::iomap, addr, size, (uint64_t)dev->index, dev->name + " BAR" + std::to_string(bar)});
      })) {
    dev->iounmap(d, addr);
    return nullptr;
  }
  return (void *)addr;
}

extern "C" void kapi_pci_iounmap(struct pci_dev *, void *addr) {
  Domain *d = calling_domain();
  if (d->objects.remove(ObjectType::iomap, (uintptr_t)addr)) bus_release_iomap(d, (uintptr_t)addr);
}

extern "C" void kapi_pci_set_drvdata(struct pci_dev *pdev, void *data) {
  Domain *d = calling_domain();
  BusLock g(d);
  if (Slot *s = slot_of(pdev)) change_inside(d, [&] { s->drvdata = data; });  // the slot may be the restarted driver's by now
}

extern "C" void *kapi_pci_get_drvdata(struct pci_dev *pdev) {
  BusLock g;
  Slot *s = slot_of(pdev);
  return s ? s->drvdata : nullptr;
}

// A device held by the load option devices has no probe: this hands its
// driver the pci_dev, tracked as a probe's is (released with the domain).
extern "C" struct pci_dev *kapi_pci_get_held(const char *address) {
  Domain *d = calling_domain();
  BusLock g(d);
  for (const std::string &a : d->devices) {  // in the order the option names them
    Slot *s = slot_at(a);
    if (!s || !s->held || s->dev->domain.load() != d->id || (address && a != address)) continue;
    if (change_inside(d, [&] {
          if (!d->objects.find(ObjectType::pci_dev, (uintptr_t)s->pdev))
            d->objects.add({ObjectType::pci_dev, (uintptr_t)s->pdev, sizeof(pci_dev), (uint64_t)s->dev->index, s->dev->name});
        }))
      return nullptr;
    return s->pdev;
  }
  return nullptr;
}
