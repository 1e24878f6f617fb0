// A driver's failure for JavaScript (failure.h).
#include "failure.h"

#include "../../addon.h"

namespace nooks {

DriverFailure failure_of(const Domain &d) {
  return DriverFailure{d.name, d.serial, current_failure(&d)};
}

Napi::Value failure_value(Napi::Env env, const DriverFailure &failure) {
  if (failure.driver.empty()) return env.Undefined();
  Napi::Object o = fault_object(env, failure.driver, failure.fault);
  o.Set("load", (double)failure.load);
  return o;
}

}  // namespace nooks
