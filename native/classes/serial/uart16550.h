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

}  // namespace nooks
