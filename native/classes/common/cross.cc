#include "cross.h"

#include "../../recovery/recovery.h"

namespace nooks {

Crossed class_cross(Domain *d, const OpCall &c) {
  Crossed r;
  if (!d) return r;
  r.result = op_cross(d, c, &r.fault, &r.ret);
  if (r.result != EnterResult::fault) return r;
  recovery_notify(d, r.fault);
  const Fault *primary = r.fault.primary ? nullptr : primary_fault(d, r.fault.generation);
  r.aborted = primary != nullptr;
  Fault cause = primary ? *primary : r.fault;
  fault_describe(&cause);
  fault_describe(&r.fault);
  r.cause = cause.message;
  return r;
}

}  // namespace nooks
