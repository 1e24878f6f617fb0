#include "cross.h"

#include "../../recovery/recovery.h"

namespace nooks {

Crossed class_cross(Domain *d, const OpCall &c) {
  Crossed r;
  if (!d) return r;
  r.result = op_cross(d, c, &r.fault, &r.ret);
  if (r.result != EnterResult::fault) return r;
  recovery_notify(d, r.fault);
  std::optional<Fault> primary = r.fault.primary ? std::nullopt : primary_fault(d, r.fault.generation);
  r.aborted = primary.has_value();
  Fault cause = primary.value_or(r.fault);
  fault_describe(&cause);
  fault_describe(&r.fault);
  r.cause = cause.message;
  return r;
}

}  // namespace nooks
