// Crossing into a driver's operation for a device class: every class crosses
// one operation this way and reads one result. A fault is handed to the
// recovery thread here (it tears the driver down and tells the agent): a
// class only decides what its callers hear (an errno, an exception, a
// stream's error) and whether its shadow hides the failure.
#pragma once
#include <cstdint>
#include <string>

#include "../../shadow/taps.h"

namespace nooks {

struct Crossed {
  // ok: `ret` holds what the operation returned; unavailable: the driver is
  // gone, down (failed, restarting, loading) or has no such operation.
  EnterResult result = EnterResult::unavailable;
  uint64_t ret = 0;
  Fault fault;         // result == fault: this crossing's, described
  std::string cause;   // result == fault: what failed: the fault that aborted this crossing when it was another thread's
  bool aborted = false;  // the crossing was aborted by a fault on another thread (`cause` is that one)

  bool ok() const { return result == EnterResult::ok; }
  // What an operation returning int (0 or -errno) said.
  int status() const { return (int)ret; }
};

// Crosses into d (null: its driver is gone) for c on the calling thread.
Crossed class_cross(Domain *d, const OpCall &c);

}  // namespace nooks
