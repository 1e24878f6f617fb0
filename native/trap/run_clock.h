// The watchdog's clock: CLOCK_MONOTONIC's milliseconds less the gaps in which
// the watchdog thread did not run. Its loop comes round every ~5 ms; a step far
// longer means the process was stopped (Ctrl-Z, SIGSTOP, a debugger, a paused
// VM) or starved of CPU, the driver threads with it, and a time budget must
// not count that. Each step counts up to kMaxStepMs; the rest is left out.
// Plain data, no lock: only the watchdog thread uses it (unit test:
// test/test_stalls.cc).
#pragma once
#include <cstdint>

namespace nooks {

class RunClock {
 public:
  // Ten of the loop's 5 ms naps: a step that long is no lateness of its own.
  static constexpr uint64_t kMaxStepMs = 50;

  explicit RunClock(uint64_t wall_ms) : wall_(wall_ms), now_(wall_ms) {}

  // The run time at monotonic time `wall_ms` (no earlier than the last asked).
  uint64_t at(uint64_t wall_ms) {
    uint64_t step = wall_ms - wall_;
    wall_ = wall_ms;
    now_ += step < kMaxStepMs ? step : kMaxStepMs;
    return now_;
  }

 private:
  uint64_t wall_, now_;
};

}  // namespace nooks
