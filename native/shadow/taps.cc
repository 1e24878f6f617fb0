#include "taps.h"

#include <algorithm>

#include "../kapi/checks.h"
#include "taps.inc"

namespace nooks {
namespace {

enum Counter { kCalls, kFaults, kHeld, kCrossings, kCounters };
// Per domain slot; a slot's counters restart when a domain takes it.
std::atomic<uint64_t> g_counts[kMaxDomains][kTapCount][kCounters];

void bump(const Domain *d, int tap, Counter c, uint64_t n = 1) {
  g_counts[d->id][tap][c].fetch_add(n, std::memory_order_relaxed);
}

// A batch that crossed: each call the driver made in it counts, and the
// crossing counts once for each operation it carried (calls / crossings of a
// tap is then the batching it achieved). It holds at most NOOKS_BATCH_MAX
// calls (xpc_call_batch refuses more).
void count_batch(const Domain *d, const std::vector<OpCall> &calls, const std::vector<size_t> &made) {
  int seen[NOOKS_BATCH_MAX];
  size_t n = 0;
  for (size_t i : made) {
    int tap = calls[i].tap;
    bump(d, tap, kCalls);
    if (std::find(seen, seen + n, tap) != seen + n) continue;
    seen[n++] = tap;
    bump(d, tap, kCrossings);
  }
}

}  // namespace

void tap_count(Domain *d, int tap) { bump(d, tap, kCalls); }

void taps_reset(Domain *d) {
  for (auto &tap : g_counts[d->id])
    for (auto &c : tap) c.store(0, std::memory_order_relaxed);
}

EnterResult op_cross(Domain *d, const OpCall &c, Fault *f, uint64_t *ret) {
  if (!c.fn) return EnterResult::unavailable;
  bump(d, c.tap, kCalls);
  XpcCall x{c.fn, {c.args[0], c.args[1], c.args[2], c.args[3], c.args[4], c.args[5]}, 0};
  EnterResult r = xpc_call(d, &x, f);
  if (r == EnterResult::ok && ret) *ret = x.ret;
  if (r != EnterResult::unavailable) bump(d, c.tap, kCrossings);
  if (r != EnterResult::ok) bump(d, c.tap, r == EnterResult::fault ? kFaults : kHeld);
  return r;
}

BatchResult op_cross_batch(Domain *d, const std::vector<OpCall> &calls, BatchStop stop) {
  std::vector<nooks_batch_call> batch(calls.size());
  for (size_t i = 0; i < calls.size(); i++) {
    batch[i].fn = (uint64_t)(uintptr_t)calls[i].fn;
    for (int j = 0; j < 6; j++) batch[i].args[j] = calls[i].args[j];
  }
  BatchResult r = xpc_call_batch(d, batch, stop);
  if (r.result == EnterResult::unavailable) {  // none crossed: each is held
    for (const OpCall &c : calls) {
      bump(d, c.tap, kCalls);
      bump(d, c.tap, kHeld);
    }
    return r;
  }
  // Only the calls the driver made count: not those after a stop or a fault.
  count_batch(d, calls, r.made);
  if (r.result == EnterResult::fault && r.rets.size() < calls.size()) bump(d, calls[r.rets.size()].tap, kFaults);
  return r;
}

void ops_take(Domain *d, const void *table, const void **fn, int n, int first_tap, const char *who) {
  check_readable(d, table, n * sizeof(void *), false, who, kTaps[first_tap].table);
  for (int i = 0; i < n; i++) {
    const TapInfo &t = kTaps[first_tap + i];
    fn[i] = static_cast<const void *const *>(table)[i];
    check_driver_fn(d, fn[i], !t.required, who, t.name);
  }
}

const char *tap_name(int tap) { return kTaps[tap].name; }

std::vector<TapCount> taps_of(const Domain *d) {
  std::vector<TapCount> v;
  for (int i = 0; i < kTapCount; i++) {
    const auto &n = g_counts[d->id][i];
    // a kernel call is always an upcall of its own, so only the operations count their crossings
    uint64_t calls = n[kCalls].load(), crossings = kTaps[i].direction == TapDirection::to_kernel ? calls : n[kCrossings].load();
    TapCount t{&kTaps[i], calls, n[kFaults].load(), n[kHeld].load(), crossings};
    if (t.calls || t.faults || t.held) v.push_back(t);
  }
  return v;
}

}  // namespace nooks
