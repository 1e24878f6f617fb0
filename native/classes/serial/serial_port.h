// The serial class's ports as its core (serial_core.cc) and the kernel calls
// drivers make (serial_kapi.cc) share them: the registry of ports by line,
// each port's registration, buffers and the settings a restore replays.
#pragma once
#include <nooks/kapi.h>

#include <nooks/serial_core.h>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "../../domain/host_heap.h"
#include "../../shadow/taps.h"
#include "serial_class.h"

namespace nooks {
namespace serial_class {

constexpr size_t kRxBuffer = 64 * 1024;  // received bytes the application has not read yet
constexpr size_t kTxBuffer = 4096;       // bytes waiting for the driver (also while it restarts)
constexpr uint32_t kMaxFifoSize = 4096;   // the deepest transmit FIFO a driver may report (uart_port.fifosize)
static_assert(sizeof(struct uart_port) == UART_PORT_SIZE, "struct uart_port");

// What a port is opened with.
constexpr struct ktermios kOpenTermios = {9600, 8, 1, UART_PARITY_NONE, UART_FLOW_NONE};
constexpr unsigned kOpenMctrl = TIOCM_DTR | TIOCM_RTS | TIOCM_OUT2;

struct Port {
  int line = -1;
  std::string name, device;  // ttyS<line>; the PCI device's name, if any
  // the registration (changes only under reg.lock)
  int domain = -1;     // its driver's (while parked: the failed driver's)
  uint64_t ticket = 0; // while parked: its entry in the shadow's ledger
  uintptr_t addr = 0;  // the driver's struct uart_port
  UartOps ops;         // the driver's, copied at registration: reachable only through taps
  uint32_t uartclk = 0, fifosize = 0;  // fifosize: 1..kMaxFifoSize
  uint64_t gen = 0;    // counts registrations that handles do not survive: handles carry theirs
  bool attached = false;
  bool parked = false;  // the shadow keeps it while its driver restarts (not attached)
  std::string detach_code, detach_reason;
  DriverFailure detach_failure;  // the driver's failure that detached it, if one did
  std::string gone_code, gone_reason;  // why the handles of the previous registration (gen - 1) were detached
  DriverFailure gone_failure;

  std::mutex ops_lock;  // one control crossing at a time (never held by the data path)
  std::mutex lock;      // the buffers and the fields below
  std::deque<uint8_t> rx, tx;
  bool open = false;    // an application has it open
  bool up = false;      // the driver side is open too (startup, settings applied): the transmitter takes bytes
  uint64_t downs = 0;   // counts the driver side going down: a bring-up that raced with one leaves the port down
  // passive mode: what the application set, for a restore (changed under ops_lock too)
  struct ktermios termios = kOpenTermios;
  unsigned mctrl = kOpenMctrl;
  unsigned mstatus = 0;  // the driver's last get_mctrl answer: the shadow's answer while it restarts
  bool mstatus_known = false;
  bool rx_notified = false, want_space = false, want_drain = false;
  uint64_t rx_bytes = 0, tx_bytes = 0, rx_dropped = 0;
  uint64_t tx_moved = 0;  // jiffies when the driver last took bytes, or bytes came to an empty queue (the nanny's clock)
  // The settings as set_termios hands them to the driver: in the host-object
  // heap, which the driver may read under every isolation (its host process too).
  struct ktermios *termios_arg = static_cast<struct ktermios *>(host_heap_alloc(sizeof(struct ktermios)));
  ~Port() { host_heap_free(termios_arg); }
};

struct Registry {
  std::mutex lock;
  std::vector<std::shared_ptr<Port>> ports;  // by line; never shrinks (till the reset at shutdown)
  SerialListener listener;
  int hold_restore_domain = -1;  // tests (serial_hold_restore_for_rx): that driver's restores are held
  std::set<std::string> hold_register;  // tests (serial_hold_register_for_test): ports whose next registration waits
  std::atomic<size_t> rx_buffer{kRxBuffer};  // each port's receive buffer; tests shrink it (serial_set_rx_buffer_for_test)
};
// Never destroyed: kernel threads may still run while the process exits.
extern Registry &reg;

// Tells the listener (serial_set_listener) about port p's event e (a detach or failure: its error).
void notify(const Port &p, uint64_t gen, SerialEvent e, const std::string &code = "", const std::string &why = "",
            const DriverFailure &failure = {});
// The port a driver registered at addr, or nullptr.
std::shared_ptr<Port> port_at(int domain, uintptr_t addr);
// With p->lock held: the driver side is down; the transmitter takes nothing until a bring-up.
void down_locked(Port &p);
// Detaches a port (its driver removed it or failed, or the shadow gives it
// up): open handles get `code`, `why` and `failure`, by event e. With a parked_ticket,
// only if the port is still parked under it (not registered again since).
void detach(const std::shared_ptr<Port> &p, const std::string &code, const std::string &why, SerialEvent e = SerialEvent::detached,
            uint64_t parked_ticket = 0, const DriverFailure &failure = {});

}  // namespace serial_class
}  // namespace nooks
