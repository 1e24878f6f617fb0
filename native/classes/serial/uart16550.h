// The 16550A model (uart16550.cc) as the rest of the serial class sees it.
#pragma once
#include <cstdint>

#include "../../dev/device.h"

namespace nooks {

// The line settings the model last applied to its tty with tcsetattr (a pty
// keeps the speed and stop bits but forces CS8 and no parity: Linux's
// pty_set_termios), as the driver programmed them.
struct UartLineSettings {
  uint32_t baud = 0, data_bits = 0, stop_bits = 0;
  const char *parity = "";
};
// False if dev is not a uart16550.
bool uart16550_line_settings(EmulatedDevice *dev, UartLineSettings *out);

// Bytes received from the line that the UART discarded: its receive FIFO
// cleared (a reset when the driver fails, FCR at the driver's startup) or
// overrun. False if dev is not a uart16550.
bool uart16550_rx_lost(EmulatedDevice *dev, uint64_t *out);

// The bytes dev's receive FIFO holds (tests: what its driver's startup, or a
// reset, would discard). False if dev is not a uart16550.
bool uart16550_rx_held(EmulatedDevice *dev, size_t *out);

// The bytes dev sent that its tty has not taken yet (kUart16550LineHold at
// most: then its transmitter waits). False if dev is not a uart16550.
constexpr size_t kUart16550LineHold = 256;
bool uart16550_tx_held(EmulatedDevice *dev, size_t *out);

}  // namespace nooks
