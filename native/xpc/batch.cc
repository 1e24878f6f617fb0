#include "batch.h"

#include <cstring>

namespace nooks {

BatchResult xpc_call_batch(Domain *d, const std::vector<nooks_batch_call> &calls, BatchStop stop) {
  BatchResult r;
  DomainThread *dt = domain_thread(d);
  // The page is this thread's: a batch nested inside a call into the same
  // domain would overwrite the one running, so it is refused.
  if (!dt || dt->depth > 0 || !d->batch_runner || calls.size() > NOOKS_BATCH_MAX) {
    r.result = EnterResult::unavailable;
    return r;
  }
  if (calls.empty()) return r;  // nothing to run: no crossing (and no memcpy from a null vector)
  // The page is in the domain, written before the crossing and read after:
  // under mprotect the domain is closed while another driver runs.
  DomainMemoryAccess access;
  nooks_batch *b = dt->batch;
  b->count = calls.size();
  b->done = 0;
  b->stop_on = stop.on;
  b->resume_at = stop.resume_at;
  memcpy(b->calls, calls.data(), calls.size() * sizeof(nooks_batch_call));
  XpcCall c{d->batch_runner, {(uint64_t)b}, 0};
  r.result = xpc_call(d, &c, &r.fault);
  uint64_t done = std::min<uint64_t>(b->done, calls.size());
  for (uint64_t i = 0; i < done; i++) r.rets.push_back(b->calls[i].ret);
  // Which calls ran: the runner's stop rule (driver-rt/batch.c) over their results.
  bool stopped = false;
  for (uint64_t i = 0; i < done; i++) {
    if (stopped && i < stop.resume_at) continue;
    r.made.push_back(i);
    stopped = stop.on != 0 && (int32_t)r.rets[i] == (int32_t)stop.on;
  }
  if (r.result == EnterResult::fault && done < calls.size()) r.made.push_back(done);
  return r;
}

}  // namespace nooks
