// The serial class's kernel side: UART ports registered by drivers
// (uart_add_one_port, tracked as uart_port objects), their receive and
// transmit buffers, and the crossings into a port's ops for applications.
//
// Recovery. Without a shadow (native/shadow) a failed driver's port is
// detached: its application gets a clear error (EIO, with the fault, and
// what the recovery agent decided: lib/classes/serial.ts adds that) and may
// open the port again once a driver has registered it again.
// With one, the port is parked instead: the application's handle stays open,
// writes queue (up to kTxBuffer, as always), reads have no data, and when the
// restarted driver registers the same device again the port is restored on
// the JS thread (serial_restore): the driver's startup, the application's
// line settings and modem lines, then the bytes still waiting; with the
// driver's other ports, all set up before any sends (no byte one sends another
// is discarded by the other's startup). What passive
// mode keeps for that is what the class holds anyway: the port's open state,
// its termios and modem lines (recorded as they are set) and the bytes the
// driver has not taken. Bytes a driver took are never sent again (the UART
// may have sent them: serial is not idempotent); those its UART still held
// at the failure are lost, as are bytes received meanwhile (the device model
// counts those: uart16550_rx_lost).
#include <chrono>
#include <cstring>
#include <thread>

#include "../../kapi/checks.h"
#include "../../kapi/log.h"
#include "../../kapi/subsystems.h"
#include "../../recovery/recovery.h"
#include "../../shadow/shadow.h"
#include "../../trap/trap.h"
#include "../../dev/bus.h"
#include "../common/cross.h"
#include "serial_port.h"
#include "uart16550.h"

namespace nooks {
namespace serial_class {

Registry &reg = *new Registry;

void notify(const Port &p, uint64_t gen, SerialEvent e, const std::string &code, const std::string &why, const DriverFailure &failure) {
  SerialListener fn;
  {
    std::lock_guard<std::mutex> g(reg.lock);
    fn = reg.listener;
  }
  if (fn) fn(p.line, gen, e, code, why, failure);
}

std::shared_ptr<Port> port_at(int domain, uintptr_t addr) {
  std::lock_guard<std::mutex> g(reg.lock);
  for (auto &p : reg.ports)
    if (p->attached && p->domain == domain && p->addr == addr) return p;
  return nullptr;
}

void down_locked(Port &p) {
  p.up = false;
  p.downs++;
}

void detach(const std::shared_ptr<Port> &p, const std::string &code, const std::string &why, SerialEvent e, uint64_t parked_ticket,
            const DriverFailure &failure) {
  uint64_t gen;
  {
    std::lock_guard<std::mutex> g(reg.lock);
    if (!p->attached && !p->parked) return;
    if (parked_ticket && (!p->parked || p->ticket != parked_ticket)) return;
    p->attached = p->parked = false;
    p->detach_code = code;
    p->detach_reason = why;
    p->detach_failure = failure;
    gen = p->gen;
  }
  {
    std::lock_guard<std::mutex> g(p->lock);
    down_locked(*p);
    p->tx.clear();  // never resent by the next driver
  }
  klog(4, "%s", why.c_str());
  notify(*p, gen, e, code, why, failure);
}

}  // namespace serial_class

using namespace serial_class;

namespace {

// With ops_lock held: the driver's set_termios with t.
OpCall set_termios_call(Port &p, const struct ktermios &t) {
  *p.termios_arg = t;
  return p.ops.set_termios(p.addr, (uintptr_t)p.termios_arg);
}

bool attached(const Port &p) {
  std::lock_guard<std::mutex> g(reg.lock);
  return p.attached;
}

// The shadow keeps a failed driver's port for its restart: handles stay open,
// and what a restore needs (open, settings, bytes not taken) stays with it.
void park(const std::shared_ptr<Port> &p, const Domain *d) {
  {
    std::lock_guard<std::mutex> g(reg.lock);
    p->attached = false;
    p->parked = true;
    p->ticket = shadow_kept(ObjectType::uart_port, p->name, *d);
  }
  bool open;
  size_t waiting;
  {
    std::lock_guard<std::mutex> g(p->lock);
    down_locked(*p);
    open = p->open;
    waiting = p->tx.size();
  }
  klog_event(4, {"shadow-kept", {{"device", p->name}, {"driver", d->name}, {"open", open}, {"waiting", waiting}}},
             "serial: %s: %s failed: shadowed: the port is kept%s for its restart, %zu bytes waiting to be sent", p->name.c_str(),
             d->name.c_str(), open ? " open" : "", waiting);
}

// The open (or parked) port of handle h; throws the reason it is not usable.
std::shared_ptr<Port> port_of(SerialHandle h, bool must_be_open = true) {
  std::lock_guard<std::mutex> g(reg.lock);
  if (h.line < 0 || h.line >= (int)reg.ports.size()) throw SerialError("EINVAL", "no serial port with line " + std::to_string(h.line));
  std::shared_ptr<Port> p = reg.ports[h.line];
  if (p->gen != h.gen || (!p->attached && !p->parked)) {
    // a handle may hear of its detach after the restarted driver registered the port again: the reason still holds
    if (h.gen + 1 == p->gen && !p->gone_reason.empty()) throw SerialError(p->gone_code, p->gone_reason, p->gone_failure);
    if (p->gen != h.gen) throw SerialError("EIO", p->name + ": the port was detached and registered again since it was opened: reopen it");
    throw SerialError(p->detach_code.empty() ? "ENODEV" : p->detach_code, p->detach_reason, p->detach_failure);
  }
  if (must_be_open && !p->open) throw SerialError("ENOTOPEN", p->name + " is not open");
  return p;
}

// One crossing into the port's driver for `call` (one of its operations), on the caller's thread;
// *ret gets its result. False when the driver failed (in this crossing or
// before) and its shadow keeps the port: what was asked is recorded, and the
// restore gives it to the restarted driver. Otherwise a failure throws: EIO
// with the fault (the driver goes to recovery), ENODEV when it is not there
// or not running; with the failure, if it failed.
bool port_call(const std::shared_ptr<Port> &p, const OpCall &call, uint64_t *ret = nullptr) {
  Domain *d = p->domain >= 0 ? g_domains[p->domain].load() : nullptr;
  if (!d) throw SerialError("ENODEV", p->name + ": its driver is gone");
  Crossed c = class_cross(d, call);
  if (c.ok()) {
    if (ret) *ret = c.ret;
    return true;
  }
  if (shadow_parks(d) && d->state.load() != DomainState::running) return false;
  DomainState state = d->state.load();
  if (c.result == EnterResult::unavailable)
    throw SerialError("ENODEV", p->name + ": " + d->name + " is " + state_name(state) + " (not ready)",
                      state == DomainState::running ? DriverFailure() : failure_of(*d));
  if (c.aborted) throw SerialError("EIO", p->name + ": " + d->name + " failed (" + c.cause + ") during " + tap_name(call.tap), failure_of(*d));
  throw SerialError("EIO", p->name + ": " + d->name + " failed in " + tap_name(call.tap) + ": " + c.cause, failure_of(*d));
}

// The test hook serial_hold_restore_for_rx, before port p's restore (ops_lock held).
void hold_restore_for_test(const Port &p) {
  {
    std::lock_guard<std::mutex> g(reg.lock);
    if (reg.hold_restore_domain != p.domain) return;
    bool other_up = false;
    for (auto &q : reg.ports)
      if (q.get() != &p && q->attached && q->domain == p.domain) {
        std::lock_guard<std::mutex> qg(q->lock);
        other_up = other_up || q->up;
      }
    if (!other_up) return;
  }
  EmulatedDevice *dev = bus_device_named(p.device);
  size_t held = 0;
  for (int ms = 0; ms < 10000 && (!uart16550_rx_held(dev, &held) || held == 0); ms++)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// How set_up set a port up: the settings and modem lines it gave the driver, the bytes waiting then,
// and the count of the port's downs it began at (go_up's check).
struct SetUp {
  uint64_t downs;
  struct ktermios termios;
  unsigned mctrl;
  size_t waiting;
};

// With ops_lock held: the driver side of an open port, set up: startup, the
// application's line settings and modem lines; the transmitter waits for
// go_up. At open, and at a restore. False when the driver failed meanwhile and
// the shadow keeps the port (the next restore brings it up).
bool set_up(const std::shared_ptr<Port> &p, SetUp *s) {
  {
    std::lock_guard<std::mutex> g(p->lock);
    *s = {p->downs, p->termios, p->mctrl, p->tx.size()};
  }
  uint64_t rc = 0;
  if (!port_call(p, p->ops.startup(p->addr), &rc)) return false;
  if ((int)rc != 0) throw SerialError("EIO", p->name + ": startup failed (" + errno_named((int)rc) + ")");
  return port_call(p, set_termios_call(*p, s->termios)) && port_call(p, p->ops.set_mctrl(p->addr, s->mctrl));
}

// With ops_lock held: a port set_up set up is up: its transmitter starts if bytes wait. False when the
// driver failed since set_up began (the port was parked meanwhile) or does now.
bool go_up(const std::shared_ptr<Port> &p, const SetUp &s) {
  bool send;
  {
    std::lock_guard<std::mutex> g(p->lock);
    if (p->downs != s.downs) return false;
    p->up = true;
    send = !p->tx.empty();  // a writer that saw the port down left its bytes to us
  }
  return !send || port_call(p, p->ops.start_tx(p->addr));
}

// A shadowed driver's port is parked only if the restarted driver can claim it again: by its device.
bool park_port(Domain *d, const Object &o) {
  std::shared_ptr<Port> p = port_at(d->id, o.key);
  if (!p) return true;
  if (p->device.empty()) return false;
  park(p, d);
  return true;
}

// What the release of a uart_port object says: the driver failed (recovery) or was unloaded. A failure's detach
// says only that: what the recovery agent decides, JavaScript adds (lib/classes/serial.ts, with the failure).
void drop_port(Domain *d, const Object &o) {
  std::shared_ptr<Port> p = port_at(d->id, o.key);
  if (!p) return;
  if (d->state.load() == DomainState::failed) {
    DriverFailure failure = failure_of(*d);
    Fault described = failure.fault;
    bool known = described.kind != FaultKind::none;
    if (known) fault_describe(&described);
    std::string why = p->name + ": the port was detached: " + d->name + " failed" + (known ? std::string(" (") + described.message + ")" : "");
    detach(p, "EIO", why, SerialEvent::detached, 0, failure);
  } else {
    detach(p, "ENODEV", p->name + ": " + d->name + " is gone: the port was detached");
  }
}

// The shadow ends the parked port (its driver will not come back, or runs
// without it): its handles fail, saying why, and are closed.
void end_port(const std::string &name, uint64_t ticket, const Ending &why) {
  std::shared_ptr<Port> p;
  {
    std::lock_guard<std::mutex> g(reg.lock);
    for (auto &q : reg.ports)
      if (q->name == name) p = q;
  }
  if (p) detach(p, why.code("EIO"), why.message(name), SerialEvent::failed, ticket);
}

ShadowedClass shadowed(ObjectType::uart_port, {park_port, drop_port, end_port});

// With p.lock held: how long the port's UART takes to send a FIFO's worth at
// the port's line settings, in ms (rounded up). A driver takes bytes only as
// its FIFO empties: at a low baud rate that is seconds apart.
uint64_t fifo_ms(const Port &p) {
  const struct ktermios &t = p.termios;
  uint64_t bits = 1 + t.data_bits + (t.parity != UART_PARITY_NONE) + t.stop_bits;
  return (p.fifosize * bits * 1000 + t.baud - 1) / t.baud;
}

// The nanny (run by the watchdog thread): a port whose driver has taken none
// of the bytes waiting for it for its stallMs, past the time its UART takes to
// send a FIFO's worth (no flow control holding it), fails that driver ('stalled').
void check_ports() {
  struct Stuck {
    int domain;
    uint64_t serial;  // the load that was stuck: not a later one in its slot
    std::string device, why;
  };
  std::vector<Stuck> stuck;
  {
    std::lock_guard<std::mutex> g(reg.lock);
    for (auto &p : reg.ports) {
      DomainUse use(p->attached ? p->domain : -1);
      Domain *d = use.get();
      std::lock_guard<std::mutex> pg(p->lock);
      // read under p->lock, where tx_moved is written: a time read before it may be older than tx_moved (the
      // application or the driver moved bytes meanwhile), and the unsigned age would wrap to "stalled"
      uint64_t now = jiffies_now();
      // with RTS/CTS the far end may hold the line as long as it likes: not the driver's doing
      if (!d || !p->up || p->tx.empty() || p->termios.flow == UART_FLOW_RTSCTS) continue;
      uint64_t deadline = d->stall_ms.load() + fifo_ms(*p);
      if (now - p->tx_moved <= deadline) continue;
      p->tx_moved = now;  // once per deadline
      std::string why = p->name + ": " + std::to_string(p->tx.size()) + " bytes waited for the driver to take them for more than " +
                        std::to_string(deadline) + " ms (nanny)";
      stuck.push_back({d->id, d->serial, p->device, why});
    }
  }
  for (Stuck &s : stuck) {
    // a line with no room (a far end that stops reading) holds the device's transmitter: its FIFO does not empty,
    // and the driver rightly takes nothing (asked without reg.lock: the model's lock is not ordered after it). A bus
    // another thread holds is not waited for (it may wait for the driver the watchdog must end): asked again at the
    // next deadline. A port with no device on the bus (its driver gave no pci_dev) has no line to ask.
    bool held = false;
    if (!bus_try_with_device_named(s.device, [&](EmulatedDevice *dev) { held = dev && dev->line_held(); }) || held) continue;
    DomainUse use(s.domain, s.serial);
    if (!use.get()) continue;  // unloaded meanwhile
    klog(4, "%s: the nanny fails %s", s.why.c_str(), use.get()->name.c_str());
    recovery_fail(use.get(), FaultKind::stalled, s.why);
  }
}
Nanny nanny(100, check_ports);

// The kernel shut down: the next one's ports are named from ttyS0 again, with no counters. (Its
// applications' handles failed in JavaScript: a handle's line and registration count restart too.)
void reset(napi_env) {
  std::lock_guard<std::mutex> g(reg.lock);
  reg.ports.clear();
  reg.hold_restore_domain = -1;
  reg.hold_register.clear();
  reg.rx_buffer.store(kRxBuffer);
}
ClassReset class_reset(reset);

}  // namespace

// ---- what applications do (serial_napi.cc, on the JS thread) ----------------

std::vector<SerialPortInfo> serial_ports() {
  std::vector<SerialPortInfo> v;
  std::lock_guard<std::mutex> g(reg.lock);
  for (auto &p : reg.ports) {
    Domain *d = (p->attached || p->parked) && p->domain >= 0 ? g_domains[p->domain].load() : nullptr;
    std::lock_guard<std::mutex> pg(p->lock);
    bool open = p->open && (p->attached || p->parked);
    v.push_back({p->line, p->name, p->device, d ? d->name : "", p->attached, open, p->parked || (open && !p->up), p->rx_bytes,
                 p->tx_bytes, p->rx_dropped});
  }
  return v;
}

SerialHandle serial_open(const std::string &name) {
  std::shared_ptr<Port> p;
  {
    std::lock_guard<std::mutex> g(reg.lock);
    for (auto &q : reg.ports)
      if (q->name == name || (!q->device.empty() && q->device == name)) p = q;
    if (!p) throw SerialError("ENODEV", "no serial port '" + name + "': no driver has registered it (is the driver loaded and bound?)");
    if (!p->attached && !p->parked) throw SerialError("ENODEV", p->detach_reason.empty() ? p->name + ": no driver" : p->detach_reason);
  }
  SerialHandle h{p->line, p->gen};
  std::lock_guard<std::mutex> og(p->ops_lock);
  {
    std::lock_guard<std::mutex> g(p->lock);
    if (p->open) throw SerialError("EBUSY", p->name + " is open already");
    p->rx.clear();
    p->tx.clear();
    p->rx_notified = p->want_space = p->want_drain = p->mstatus_known = false;
    p->termios = kOpenTermios;
    p->mctrl = kOpenMctrl;
    p->open = true;
  }
  try {
    port_of(h);  // still there
    SetUp s;
    if (attached(*p) && set_up(p, &s)) go_up(p, s);  // else parked: the restore opens it on the restarted driver
  } catch (...) {
    std::lock_guard<std::mutex> g(p->lock);
    p->open = false;
    throw;
  }
  return h;
}

size_t serial_close(SerialHandle h) {
  std::shared_ptr<Port> p;
  try {
    p = port_of(h);
  } catch (const SerialError &) {
    return 0;  // detached or closed: nothing to shut down
  }
  std::lock_guard<std::mutex> og(p->ops_lock);
  bool was_up;
  size_t dropped;
  {
    std::lock_guard<std::mutex> g(p->lock);
    if (!p->open) return 0;
    p->open = false;
    was_up = p->up;
    p->up = false;
    dropped = p->tx.size();
    p->tx.clear();
  }
  // hang up (DTR and RTS down), then shut down; a driver failing meanwhile has nothing left to close.
  // Parked or not yet restored: the driver side is not open.
  if (was_up && port_call(p, p->ops.set_mctrl(p->addr, 0))) port_call(p, p->ops.shutdown(p->addr));
  return dropped;
}

size_t serial_write(SerialHandle h, const uint8_t *buf, size_t n) {
  std::shared_ptr<Port> p = port_of(h);
  size_t took;
  bool up;
  {
    std::lock_guard<std::mutex> g(p->lock);
    if (p->tx.empty()) p->tx_moved = jiffies_now();
    took = std::min(n, kTxBuffer - p->tx.size());
    p->tx.insert(p->tx.end(), buf, buf + took);
    if (took < n) p->want_space = true;
    up = p->up;
  }
  if (took && up) {  // else the bytes wait for the port's bring-up
    std::lock_guard<std::mutex> og(p->ops_lock);
    port_call(p, p->ops.start_tx(p->addr));
  }
  return took;
}

std::vector<uint8_t> serial_read(SerialHandle h, size_t max) {
  std::shared_ptr<Port> p;
  try {
    p = port_of(h);
  } catch (const SerialError &) {
    // what arrived before the port was detached is still the application's
    std::lock_guard<std::mutex> g(reg.lock);
    if (h.line < 0 || h.line >= (int)reg.ports.size() || reg.ports[h.line]->gen != h.gen) throw;
    p = reg.ports[h.line];
    std::lock_guard<std::mutex> pg(p->lock);
    if (p->rx.empty()) throw;
  }
  std::lock_guard<std::mutex> g(p->lock);
  size_t n = std::min(max, p->rx.size());
  std::vector<uint8_t> v(p->rx.begin(), p->rx.begin() + n);
  p->rx.erase(p->rx.begin(), p->rx.begin() + n);
  p->rx_notified = !p->rx.empty() && p->rx_notified;
  return v;
}

void serial_set_termios(SerialHandle h, const SerialTermios &in) {
  std::shared_ptr<Port> p = port_of(h);
  uint32_t max = p->uartclk / 16, min = (p->uartclk / 16 + 65534) / 65535;
  if (in.baud < min || in.baud > max)
    throw SerialError("EINVAL", p->name + ": baud rate " + std::to_string(in.baud) + " outside " + std::to_string(min) + ".." +
                                    std::to_string(max) + " for this UART");
  if (in.data_bits < 5 || in.data_bits > 8) throw SerialError("EINVAL", p->name + ": data bits must be 5 to 8");
  if (in.stop_bits != 1 && in.stop_bits != 2) throw SerialError("EINVAL", p->name + ": stop bits must be 1 or 2");
  if (in.parity > UART_PARITY_SPACE) throw SerialError("EINVAL", p->name + ": unknown parity");
  if (in.flow > UART_FLOW_RTSCTS) throw SerialError("EINVAL", p->name + ": unknown flow control");
  struct ktermios t = {in.baud, (u8)in.data_bits, (u8)in.stop_bits, (u8)in.parity, (u8)in.flow};
  std::lock_guard<std::mutex> og(p->ops_lock);
  bool up;
  {
    std::lock_guard<std::mutex> g(p->lock);
    p->termios = t;  // for a restore
    up = p->up;
  }
  if (up) port_call(p, set_termios_call(*p, t));
}

void serial_set_mctrl(SerialHandle h, unsigned mctrl) {
  std::shared_ptr<Port> p = port_of(h);
  std::lock_guard<std::mutex> og(p->ops_lock);
  bool up;
  {
    std::lock_guard<std::mutex> g(p->lock);
    p->mctrl = mctrl;  // for a restore
    up = p->up;
  }
  if (up) port_call(p, p->ops.set_mctrl(p->addr, mctrl));
}

unsigned serial_get_mctrl(SerialHandle h) {
  std::shared_ptr<Port> p = port_of(h);
  std::lock_guard<std::mutex> og(p->ops_lock);
  bool up;
  {
    std::lock_guard<std::mutex> g(p->lock);
    up = p->up;
  }
  uint64_t v = 0;
  bool answered = up && port_call(p, p->ops.get_mctrl(p->addr), &v);
  std::lock_guard<std::mutex> g(p->lock);
  if (answered) {
    p->mstatus = (unsigned)v;
    p->mstatus_known = true;
  } else if (!p->mstatus_known) {  // the driver is restarting and never said: no answer to record
    throw SerialError("EAGAIN", p->name + ": its driver is restarting and the modem status is not known yet: try again");
  }
  return p->mstatus;
}

bool serial_tx_idle(SerialHandle h) {
  std::shared_ptr<Port> p = port_of(h);
  bool up;
  {
    std::lock_guard<std::mutex> g(p->lock);
    if (!p->tx.empty()) {
      p->want_drain = true;
      return false;
    }
    up = p->up;
  }
  if (!up) return true;  // nothing waits: what a failed driver had taken is gone (never resent)
  std::lock_guard<std::mutex> og(p->ops_lock);
  uint64_t v = 0;
  return port_call(p, p->ops.tx_empty(p->addr), &v) && (v & TIOCSER_TEMT);
}

namespace {

// The shadow cannot give port p back to the restarted driver: its handle fails (the registration stays).
void restore_failed(Port &p, const SerialError &e) {
  std::string why = p.name + ": the shadow could not restore the port on the restarted driver: " + e.what();
  {
    std::lock_guard<std::mutex> g(p.lock);
    p.open = false;
    p.tx.clear();
  }
  klog(4, "serial: %s", why.c_str());
  notify(p, p.gen, SerialEvent::failed, "EIO", why);
}

}  // namespace

void serial_restore(int line) {
  std::vector<std::shared_ptr<Port>> ports;  // the restarted driver's: restored together
  {
    std::lock_guard<std::mutex> g(reg.lock);
    if (line < 0 || line >= (int)reg.ports.size() || !reg.ports[line]->attached) return;
    for (auto &q : reg.ports)
      if (q->attached && q->domain == reg.ports[line]->domain) ports.push_back(q);
  }
  // Every port set up before any sends what waited: a port's startup clears its receive FIFO,
  // and would discard what another port of the driver sent it (a cable between the two).
  std::vector<std::pair<std::shared_ptr<Port>, SetUp>> set;
  for (auto &p : ports) {
    std::lock_guard<std::mutex> og(p->ops_lock);
    {
      std::lock_guard<std::mutex> g(p->lock);
      if (!p->open || p->up) continue;  // closed meanwhile, or restored already (with another port of its driver)
    }
    try {
      hold_restore_for_test(*p);
      SetUp s;
      if (set_up(p, &s)) set.emplace_back(p, s);  // else failed again: parked again, restored after the next restart
    } catch (const SerialError &e) {
      restore_failed(*p, e);
    }
  }
  static const char parity[] = "NOEMS";
  for (auto &[p, s] : set) {
    std::lock_guard<std::mutex> og(p->ops_lock);
    try {
      if (!go_up(p, s)) continue;
    } catch (const SerialError &e) {
      restore_failed(*p, e);
      continue;
    }
    const struct ktermios &t = s.termios;
    klog_event(6,
               {"shadow-restored",
                {{"device", p->name}, {"baudRate", t.baud}, {"dataBits", t.data_bits}, {"parity", std::string(1, parity[t.parity])},
                 {"stopBits", t.stop_bits}, {"rtscts", t.flow == UART_FLOW_RTSCTS}, {"modemLines", s.mctrl}, {"waiting", s.waiting}}},
               "serial: %s: restored on the restarted driver: %u baud %u%c%u%s, modem lines 0x%x, %zu bytes waiting resume",
               p->name.c_str(), t.baud, t.data_bits, parity[t.parity], t.stop_bits, t.flow == UART_FLOW_RTSCTS ? " rts/cts" : "",
               s.mctrl, s.waiting);
  }
}

void serial_hold_restore_for_rx(int domain) {
  std::lock_guard<std::mutex> g(reg.lock);
  reg.hold_restore_domain = domain;
}

void serial_hold_register_for_test(const std::string &name) {
  std::lock_guard<std::mutex> g(reg.lock);
  reg.hold_register.insert(name);
}

void serial_set_rx_buffer_for_test(size_t bytes) { reg.rx_buffer.store(bytes ? bytes : kRxBuffer); }

void serial_set_listener(SerialListener fn) {
  std::lock_guard<std::mutex> g(reg.lock);
  reg.listener = std::move(fn);
}

}  // namespace nooks
