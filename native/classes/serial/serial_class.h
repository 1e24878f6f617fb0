// The serial class's kernel side as the rest of the host sees it (the N-API
// file, serial_napi.cc): ports that UART drivers registered, opened by
// applications. Control calls (open, termios, close, start_tx) cross into the
// driver on the caller's thread; bytes move between the driver and the port's
// buffers in C++ (uart_insert_chars, uart_get_tx) and reach JavaScript a
// buffer at a time. A shadowed driver's failure parks its open ports instead
// of detaching them (serial_core.cc): handles stay open, and the port is
// restored on the restarted driver.
#pragma once
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "../common/failure.h"

namespace nooks {

// An error for the application: a code (ENODEV, EBUSY, EIO, EINVAL, ENOTOPEN) and a message; and the driver's
// failure, when it is about one.
struct SerialError : std::runtime_error {
  std::string code;
  DriverFailure failure;
  SerialError(std::string c, const std::string &msg, DriverFailure f = {})
      : std::runtime_error(msg), code(std::move(c)), failure(std::move(f)) {}
};

// detached: the driver is gone (handles fail with the code, reason and failure).
// failed: a parked port's driver will not come back: handles fail with the code and reason and are closed.
// restore: not for applications: the listener calls serial_restore(line) on the JS thread.
enum class SerialEvent : int { rx = 1, space = 2, drained = 3, detached = 4, failed = 5, restore = 6 };

struct SerialPortInfo {
  int line;
  std::string name, device, driver;
  bool attached, open;
  bool restarting;  // parked by the shadow, or registered again and not yet restored
  uint64_t rx_bytes, tx_bytes, rx_dropped;
};

struct SerialTermios {
  uint32_t baud = 9600;
  uint32_t data_bits = 8, stop_bits = 1;
  uint32_t parity = 0;  // UART_PARITY_*
  uint32_t flow = 0;    // UART_FLOW_*
};

// A handle: the port's line and the registration it was opened on.
struct SerialHandle {
  int line;
  uint64_t gen;
};

std::vector<SerialPortInfo> serial_ports();
// By port name (ttyS0) or device name (uart165500). Throws SerialError.
SerialHandle serial_open(const std::string &name);
// Bytes still waiting for the driver, dropped (what the driver and its UART held is not counted).
size_t serial_close(SerialHandle h);
// Bytes accepted into the transmit buffer (maybe fewer than n: wait for `space`).
size_t serial_write(SerialHandle h, const uint8_t *buf, size_t n);
std::vector<uint8_t> serial_read(SerialHandle h, size_t max);
void serial_set_termios(SerialHandle h, const SerialTermios &t);
void serial_set_mctrl(SerialHandle h, unsigned mctrl);
unsigned serial_get_mctrl(SerialHandle h);
// True when the kernel's buffer and the device's transmitter are empty; else
// a `drained` event follows when the kernel's buffer empties.
bool serial_tx_idle(SerialHandle h);
// The shadow's replay for a port its restarted driver registered again, and
// for the driver's other ports waiting for theirs: the driver's startup, the
// application's line settings and modem lines of each, then the bytes still
// waiting, once every port is set up. On the JS thread, outside any crossing; never throws.
void serial_restore(int line);
// Test hook: from now on, a port of driver `domain` whose restore begins while
// another port of that driver is up waits, before its startup, until its UART
// has received a byte (10 s at most): what a startup then discards is lost.
void serial_hold_restore_for_rx(int domain);
// Test hook: port `name`'s next registration waits, once the port is anyone's, before it returns to its driver,
// until an application's open has set the port up or the driver failed (10 s at most): the open crosses into the
// driver while the registration is still in the kernel (serial_kapi.cc).
void serial_hold_register_for_test(const std::string &name);
// Test hook: from now on, each port's receive buffer holds `bytes` (0: its
// 64 KiB again; the kernel's shutdown restores it too): a test fills it, and
// sees the rest dropped, in a fraction of the wire time.
void serial_set_rx_buffer_for_test(size_t bytes);
// The listener of port events (called on kernel threads; must not block).
// code, why and failure: a detached or failed port's error (empty for the other events).
using SerialListener = std::function<void(int line, uint64_t gen, SerialEvent e, const std::string &code, const std::string &why,
                                          const DriverFailure &failure)>;
void serial_set_listener(SerialListener fn);

}  // namespace nooks
