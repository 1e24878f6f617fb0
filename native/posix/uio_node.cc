// /dev/uio<N> and UIO's sysfs files (uio_node.h). The node behaves as Linux's
// uio with uio_pci_generic: read of 4 bytes waits for an interrupt this open
// file has not seen and returns the total count; write of 4 bytes, 1 or 0,
// unmasks or masks the interrupt, which masks itself each time it fires (as
// uio_pci_generic sets INTx disable in its handler) until the driver writes 1
// or clears INTx disable in the command register through sysfs config: Linux's
// uio_pci_generic has no irqcontrol, so its users (DPDK, the UIO HOWTO's
// example) unmask that way. An emulated device's INTx disable is the mask, as
// on Linux: a read-modify-write of the command register keeps it. A real
// device's line stays masked by the host's stub driver until then: the driver
// clears the interrupt's cause first, or a level interrupt would fire again.
#include "uio_node.h"

#include <sys/epoll.h>

#include <atomic>
#include <cstring>
#include <map>
#include <mutex>

#include "../dev/bus.h"
#include "../dev/config_space.h"
#include "../dev/host_pci.h"
#include "../kapi/subsystems.h"
#include "wait_queue.h"

namespace nooks {

namespace {

// A device's interrupt as UIO counts it, shared by every open of its node. It
// signals the line from the first open to the last close; VFIO cannot take
// the line meanwhile (nor UIO while VFIO has it: open is -EBUSY).
class UioLine {
 public:
  explicit UioLine(unsigned line) : line_(line) {}

  // The interrupt fired: counted unless masked; masked either way until unmasked.
  void fire() {
    {
      std::lock_guard<std::mutex> g(lock_);
      if (masked_) {
        pending_ = true;  // delivered at unmask, as a level line still asserted would be
        return;
      }
      count_++;
      masked_ = true;
    }
    waits_->wake_all();
  }
  // Unmasked: one held back is delivered (and masks it again); else a real
  // device's line is unmasked, the driver having ended the interrupt.
  void set_masked(bool masked) {
    bool delivered;
    {
      std::lock_guard<std::mutex> g(lock_);
      masked_ = masked;
      if (masked) return;
      delivered = pending_;
      if (delivered) count_++;
      masked_ = pending_;
      pending_ = false;
    }
    if (delivered) waits_->wake_all();
    else irq_unmask(line_, this);
  }
  uint32_t count() {
    std::lock_guard<std::mutex> g(lock_);
    return count_;
  }
  bool masked() {
    std::lock_guard<std::mutex> g(lock_);
    return masked_;
  }
  // Woken by each interrupt counted: the waits of every open of the node.
  const std::shared_ptr<WaitQueue> &waits() const { return waits_; }

  // An open of the node of `line`: its line, shared with the node's other opens; null when VFIO signals the line.
  static std::shared_ptr<UioLine> open(unsigned line) {
    std::lock_guard<std::mutex> g(registry.lock);
    std::shared_ptr<UioLine> &l = registry.lines[line];
    if (!l) {
      auto made = std::make_shared<UioLine>(line);
      std::weak_ptr<UioLine> weak = made;
      if (!irq_set_signal(line, made.get(), [weak] {
            if (std::shared_ptr<UioLine> alive = weak.lock()) alive->fire();
          }, true)) {
        registry.lines.erase(line);
        return nullptr;
      }
      l = made;
    }
    l->opens_++;
    return l;
  }
  // The open node's line `line`, or null when no node of it is open.
  static std::shared_ptr<UioLine> find(unsigned line) {
    std::lock_guard<std::mutex> g(registry.lock);
    auto it = registry.lines.find(line);
    return it == registry.lines.end() ? nullptr : it->second;
  }
  // An open gone: the last one lets go of the line.
  void release() {
    std::lock_guard<std::mutex> g(registry.lock);
    if (--opens_) return;
    irq_set_signal(line_, this, nullptr, false);
    registry.lines.erase(line_);
  }

 private:
  struct Registry {
    std::mutex lock;
    std::map<unsigned, std::shared_ptr<UioLine>> lines;  // the lines of open nodes
  };
  static Registry &registry;

  const unsigned line_;
  const std::shared_ptr<WaitQueue> waits_ = std::make_shared<WaitQueue>();
  int opens_ = 0;  // under registry.lock
  std::mutex lock_;
  uint32_t count_ = 0;
  bool masked_ = false, pending_ = false;
};
UioLine::Registry &UioLine::registry = *new UioLine::Registry;  // never destroyed: device threads may signal while the process exits

class UioNode : public File {
 public:
  UioNode(std::string path, std::shared_ptr<UioLine> line) : File(std::move(path)), line_(std::move(line)), seen_(line_->count()) {}
  ~UioNode() override { line_->release(); }  // closed (or recovered), and no wait still has it

  long pread(Domain *d, uint8_t *buf, size_t n, uint64_t, int flags) override {
    if (n != sizeof(int32_t)) return -EINVAL;
    uint32_t count = 0;
    auto fresh = [&] { return (count = line_->count()) != seen_.load(); };
    if (long r = file_block(d, flags, line_->waits(), fresh)) return r;
    seen_ = count;
    memcpy(buf, &count, sizeof count);
    return sizeof count;
  }
  long pwrite(Domain *, const uint8_t *buf, size_t n, uint64_t, int) override {
    if (n != sizeof(int32_t)) return -EINVAL;
    int32_t on;
    memcpy(&on, buf, sizeof on);
    line_->set_masked(!on);
    return sizeof on;
  }
  int poll_events() override { return line_->count() != seen_.load() ? (int)EPOLLIN : 0; }
  uint64_t changes() override { return line_->count(); }
  std::shared_ptr<WaitQueue> waits() override { return line_->waits(); }
  FileStat fstat() override { return {S_IFCHR | 0600, 0}; }

 private:
  const std::shared_ptr<UioLine> line_;
  std::atomic<uint32_t> seen_;  // the count this open file last read
};

constexpr char kClass[] = "/sys/class/uio";

// The held device whose bus index is `n` (a decimal number, "uio" stripped): its address and line, or false.
bool held_with_index(Domain *d, const std::string &n, std::string *address, unsigned *line) {
  if (n.empty() || n.size() > 3 || n.find_first_not_of("0123456789") != std::string::npos) return false;
  for (const std::string &a : d->devices) {
    bool match = false;
    bus_with_held(d, a, [&](BusDevice &dev) {
      match = std::to_string(dev.index) == n;
      *line = dev.irq_line;
    });
    if (match) return *address = a, true;
  }
  return false;
}

}  // namespace

void uio_mask_to_command(BusDevice &dev) {
  if (!dev.emulated()) return;  // a real device's: the host's uio_pci_generic sets the bit itself
  std::shared_ptr<UioLine> l = UioLine::find(dev.irq_line);
  if (!l) return;
  uint8_t high;  // the command register's upper byte, which holds INTx disable
  dev.config_read(kPciCommand + 1, &high, 1);
  constexpr uint8_t kIntxDisable = kPciCommandIntxDisable >> 8;
  high = l->masked() ? high | kIntxDisable : high & ~kIntxDisable;
  dev.config_write(kPciCommand + 1, &high, 1);
}

void uio_config_written(BusDevice &dev, uint32_t off, size_t n) {
  if (off > kPciCommand + 1 || off + n <= kPciCommand + 1) return;  // not the byte that holds INTx disable
  std::shared_ptr<UioLine> l = UioLine::find(dev.irq_line);
  if (!l) return;
  uint8_t high;
  pci_config_read(dev, kPciCommand + 1, &high, 1);
  l->set_masked(high & (kPciCommandIntxDisable >> 8));
}

ViewEntry uio_node_entry(Domain *d, const std::string &path) {
  std::string address;
  unsigned line = 0;
  if (!held_with_index(d, path.substr(strlen("/dev/uio")), &address, &line)) return view_error(-EACCES);
  return ViewEntry{0, S_IFCHR | 0600, 0, "", [=]() -> std::shared_ptr<File> {
                     std::shared_ptr<UioLine> l = UioLine::open(line);
                     return l ? std::make_shared<UioNode>(path, l) : nullptr;
                   }};
}

ViewEntry uio_device_entry(const std::string &address, int index, const std::string &rest) {
  const std::string node = "uio/uio" + std::to_string(index);
  const std::string path = "/sys/bus/pci/devices/" + address + "/" + rest;
  if (rest == "uio" || rest == node) return view_dir();
  if (rest == node + "/name") return view_text(path, "uio_pci_generic\n");
  if (rest == node + "/version") return view_text(path, "0.01.0\n");
  if (rest == node + "/device") {
    ViewEntry e = view_dir();
    e.link = "../../../" + address;  // as Linux: relative to the device's directory in /sys/devices
    return e;
  }
  return view_error(-ENOENT);
}

const std::vector<std::string> &uio_node_files() {
  static const std::vector<std::string> names = {"name", "version", "device"};
  return names;
}

ViewEntry uio_class_entry(Domain *d, const std::string &path) {
  if (path == kClass) return view_dir();
  std::string rest = path.substr(strlen(kClass) + 1);  // uio<N>[/attr]
  size_t slash = rest.find('/');
  std::string name = rest.substr(0, slash), address;
  unsigned line = 0;
  if (name.compare(0, 3, "uio") != 0 || !held_with_index(d, name.substr(3), &address, &line)) return view_error(-EACCES);
  if (slash == std::string::npos) {
    ViewEntry e = view_dir();
    e.link = "../../bus/pci/devices/" + address + "/uio/" + name;
    return e;
  }
  std::string attr = rest.substr(slash + 1);
  if (attr.compare(0, 7, "device/") == 0) return sysfs_device_entry(d, address, attr.substr(7));  // through the link
  return uio_device_entry(address, std::stoi(name.substr(3)), "uio/" + rest);
}

}  // namespace nooks
