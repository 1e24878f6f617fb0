// The failure of a device's unshadowed driver that a class's error or detach is
// about, for JavaScript: it hands it to the recovery agent, which decides then
// if it has not yet, and ends the message with what became of the driver
// (lib/classes/common.ts withDecision). The kernel's own text says only what it
// knows when the driver fails: not whether the policy will restart it.
#pragma once
#include <napi.h>

#include <string>

#include "../../xpc/xpc.h"

namespace nooks {

struct DriverFailure {
  std::string driver;  // empty: no failure
  // The load of the driver that failed (Domain::serial): a domain's slot and its failure generations start again
  // at each load, so only this tells a stale failure from the current load's (Kernel.recoverFromClassCall).
  uint64_t load = 0;
  // Its domain and generation always set; kind none when the failure recorded no fault (an explicit recovery, which
  // JavaScript began and handed to the agent itself).
  Fault fault;
};

// d's latest failure.
DriverFailure failure_of(const Domain &d);
// JS thread: the failure as a NativeFault (lib/native.ts), or undefined for none.
Napi::Value failure_value(Napi::Env env, const DriverFailure &failure);

}  // namespace nooks
