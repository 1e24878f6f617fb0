// The serial class: the kernel calls UART drivers make (lib/wrappers/kapi/serial.ts):
// registering and removing a port, and the bytes a driver moves between its
// UART and the port's buffers.
#include <algorithm>
#include <cstdio>

#include "../../kapi/checks.h"
#include "../../kapi/log.h"
#include "../../kapi/objects.h"
#include "../../kapi/register_hold.h"
#include "../../kapi/subsystems.h"
#include "../../shadow/shadow.h"
#include "serial_port.h"

using namespace nooks;
using namespace nooks::serial_class;

namespace {
// Test hook (serialHoldRegister): the registration of port p by driver d waits, before it returns to d, until an
// application's open has set p up or d failed (10 s at most): the open's startup crosses into the driver while the
// registration is still in the kernel.
void hold_register_for_test(Domain *d, const std::shared_ptr<Port> &p) {
  {
    std::lock_guard<std::mutex> g(reg.lock);
    if (!reg.hold_register.erase(p->name)) return;
  }
  hold_registration_for_test("serial", p->name, "an open", [&] {
    std::lock_guard<std::mutex> g(p->lock);
    return d->state.load() == DomainState::running && !p->up;
  });
}
}  // namespace

extern "C" int kapi_uart_add_one_port(void *vport) {
  Domain *d = calling_domain();
  auto *port = static_cast<struct uart_port *>(vport);
  // Each field read once (the driver may change them meanwhile); every check
  // before a lock: a failed check leaves the domain at once.
  pci_dev *pdev = port->pdev;
  const uint32_t uartclk = port->uartclk, fifosize = port->fifosize;
  check_object(d, (uintptr_t)pdev, ObjectType::pci_dev, true, "uart_add_one_port", "port->pdev");
  UartOps ops;
  ops.take(d, port->ops, "uart_add_one_port");
  if (uartclk < 16 * 50) return -EINVAL;
  // deeper than any UART's FIFO (a 16550A's is 16, DesignWare's up to 2048): the nanny would wait ~forever for it
  if (fifosize > kMaxFifoSize) return -EINVAL;
  std::string device = pdev && pdev->dev.name ? pdev->dev.name : "";
  std::shared_ptr<Port> p;
  bool restore = false;
  {
    std::lock_guard<std::mutex> g(reg.lock);
    for (auto &q : reg.ports)
      if (q->attached && q->domain == d->id && q->addr == (uintptr_t)port) return -EBUSY;
    // the line this device had before (a restarted driver gets its ttyS back), else the lowest free one
    for (auto &q : reg.ports)
      if (!q->attached && !device.empty() && q->device == device) p = q;
    for (auto &q : reg.ports)
      if (!p && !q->attached && !q->parked && q->device.empty()) p = q;
    if (!p) {
      p = std::make_shared<Port>();
      p->line = (int)reg.ports.size();
      p->name = "ttyS" + std::to_string(p->line);
      reg.ports.push_back(p);
    }
    p->device = device;
    p->domain = d->id;
    p->addr = (uintptr_t)port;
    p->ops = ops;
    p->uartclk = uartclk;
    p->fifosize = fifosize ? fifosize : 1;
    // The driver's, named, before the port is anyone's: an application's open crosses into the driver (startup) as
    // soon as reg.lock goes, if the driver runs (a registration from a work item, after its init), and the driver's
    // calls then must find the port its own. After, such an open failed the driver (bad-call).
    port->line = (u32)p->line;
    snprintf(port->name, sizeof port->name, "%s", p->name.c_str());
    d->objects.add({ObjectType::uart_port, (uintptr_t)port, sizeof *port, (uint64_t)p->line, p->name});
    p->attached = true;
    if (!p->parked) {
      p->gone_code = std::move(p->detach_code);
      p->gone_reason = std::move(p->detach_reason);
      p->gone_failure = std::move(p->detach_failure);
    }
    p->detach_code.clear();
    p->detach_reason.clear();
    p->detach_failure = {};
    std::lock_guard<std::mutex> pg(p->lock);
    if (p->parked) {  // the shadow kept it: handles, settings and waiting bytes carry over to this driver
      p->parked = false;
      shadow_registered(ObjectType::uart_port, p->name);
      restore = p->open;
    } else {
      p->gen++;
      p->open = false;
      p->rx.clear();
      p->tx.clear();
      p->rx_notified = p->want_space = p->want_drain = false;
    }
  }
  hold_register_for_test(d, p);
  klog(6, "serial: %s registered by %s%s%s", p->name.c_str(), d->name.c_str(), device.empty() ? "" : " for ", device.c_str());
  // Restored on the JS thread once the driver's init has returned: not from inside its probe
  if (restore) notify(*p, p->gen, SerialEvent::restore);
  return 0;
}

extern "C" void kapi_uart_remove_one_port(void *vport) {
  Domain *d = calling_domain();
  std::shared_ptr<Port> p = port_at(d->id, (uintptr_t)vport);
  if (!p) return;
  bool was_up;
  {
    std::lock_guard<std::mutex> g(p->lock);
    was_up = p->up;
    p->open = false;
    down_locked(*p);
  }
  if (was_up) {  // a nested crossing: a fault unwinds to the driver's outermost entry
    Fault f;
    op_cross(d, p->ops.shutdown((uintptr_t)vport), &f);
  }
  d->objects.remove(ObjectType::uart_port, (uintptr_t)vport);
  detach(p, "ENODEV", p->name + ": " + d->name + " removed the port");
}

extern "C" int kapi_uart_insert_chars(void *vport, const void *buf, size_t n) {
  Domain *d = calling_domain();
  std::shared_ptr<Port> p = port_at(d->id, (uintptr_t)vport);
  if (!p) return 0;
  bool tell = false;
  uint64_t gen = p->gen;
  size_t kept = 0;
  {
    std::lock_guard<std::mutex> g(p->lock);
    if (p->open) {
      const size_t limit = reg.rx_buffer.load(std::memory_order_relaxed);
      kept = p->rx.size() < limit ? std::min(n, limit - p->rx.size()) : 0;
      const uint8_t *b = static_cast<const uint8_t *>(buf);
      p->rx.insert(p->rx.end(), b, b + kept);
      p->rx_bytes += kept;
      tell = kept && !p->rx_notified;
      if (tell) p->rx_notified = true;
    }
    p->rx_dropped += n - kept;
  }
  if (tell) notify(*p, gen, SerialEvent::rx);
  return (int)kept;
}

extern "C" int kapi_uart_get_tx(void *vport, void *buf, size_t max) {
  Domain *d = calling_domain();
  std::shared_ptr<Port> p = port_at(d->id, (uintptr_t)vport);
  if (!p) return 0;
  bool space = false, drained = false;
  uint64_t gen = p->gen;
  size_t n;
  {
    std::lock_guard<std::mutex> g(p->lock);
    n = p->up ? std::min(max, p->tx.size()) : 0;
    std::copy(p->tx.begin(), p->tx.begin() + n, static_cast<uint8_t *>(buf));
    p->tx.erase(p->tx.begin(), p->tx.begin() + n);
    p->tx_bytes += n;
    if (n) p->tx_moved = jiffies_now();
    if (p->want_space && p->tx.size() <= kTxBuffer / 2) {
      p->want_space = false;
      space = true;
    }
    if (p->want_drain && p->tx.empty()) {
      p->want_drain = false;
      drained = true;
    }
  }
  if (space) notify(*p, gen, SerialEvent::space);
  if (drained) notify(*p, gen, SerialEvent::drained);
  return (int)n;
}
