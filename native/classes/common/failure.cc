// A driver's failure for JavaScript (failure.h).
#include "failure.h"

#include "../../addon.h"

namespace nooks {

DriverFailure failure_of(const Domain &d) {
  uint64_t generation = d.failure_gen.load();
  DriverFailure failure{d.name, d.serial, primary_fault(&d, generation).value_or(Fault())};
  failure.fault.domain = d.id;
  failure.fault.generation = generation;
  return failure;
}

Napi::Value failure_value(Napi::Env env, const DriverFailure &failure) {
  if (failure.driver.empty()) return env.Undefined();
  Napi::Object o = fault_object(env, failure.driver, failure.fault);
  o.Set("load", (double)failure.load);
  return o;
}

}  // namespace nooks
