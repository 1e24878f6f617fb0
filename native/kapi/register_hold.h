// A test hook's hold of a class registration (pcmHoldRegister, netHoldRegister,
// serialHoldRegister): the registration, published, waits before it returns to
// its driver while `held()` (what a late registration races: a restore, a
// reopen, an open crossing into the driver), 10 s at most, so that a test that
// never lets go fails rather than hangs. Its wait counts as one (UnlockedWait):
// those crossings run meanwhile (under mprotect one thread at a time runs
// driver code). Logs test-register-held for the test.
#pragma once
#include <chrono>
#include <string>
#include <thread>

#include "../xpc/xpc.h"
#include "log.h"

namespace nooks {

template <class Held>
void hold_registration_for_test(const char *cls, const std::string &device, const char *waits_for, Held held) {
  klog_event(6, {"test-register-held", {{"device", device.c_str()}}}, "%s: %s: test hold: the registration waits for %s", cls,
             device.c_str(), waits_for);
  UnlockedWait wait;
  for (int ms = 0; ms < 10000 && held(); ms++) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

}  // namespace nooks
