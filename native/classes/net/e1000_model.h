// The emulated e1000's wire, for the net class's N-API functions and the tests.
#pragma once
#include <cstdint>
#include <string>

#include <nooks/kapi.h>

extern "C" {
#include <nooks/hw/e1000_regs.h>
}

namespace nooks {

struct NicWire {
  std::string local, peer;  // host:port of the UDP wire ("" peer: none)
  bool link = false;
  uint64_t frames_sent = 0, frames_received = 0, frames_dropped = 0;
};
// false if device `index` is not an e1000.
bool e1000_wire(int index, NicWire *out);
bool e1000_set_cable(int index, bool up);
// Test hook: the transmitter hangs until the driver disables it (a tx timeout's cure).
bool e1000_hang_tx(int index);

}  // namespace nooks
