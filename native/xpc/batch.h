// Deferred calls: queue several calls to one driver, pay one crossing.
#pragma once
#include <nooks/batch.h>

#include <vector>

#include "xpc.h"

namespace nooks {

struct BatchResult {
  EnterResult result = EnterResult::ok;
  Fault fault;
  std::vector<uint64_t> rets;  // one per call that finished (all of them unless it faulted)
  std::vector<size_t> made;     // the calls the driver made, in order: not those a stop skipped, the faulting one too
};

// What ends a batch early (nooks_batch.stop_on): once a call returns `on` (not 0), the calls after it before
// `resume_at` are not made and return `on` too.
struct BatchStop {
  int64_t on = 0;
  uint64_t resume_at = 0;
};

// Runs calls[i].fn(calls[i].args) in order inside d, in one crossing (at most
// NOOKS_BATCH_MAX). Every fn must be a function of d (the caller checks).
BatchResult xpc_call_batch(Domain *d, const std::vector<nooks_batch_call> &calls, BatchStop stop = {});

}  // namespace nooks
