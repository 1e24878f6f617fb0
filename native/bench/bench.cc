#include "bench.h"

#include <x86intrin.h>
#include <time.h>

#include <algorithm>
#include <vector>

#include "../domain/host_heap.h"
#include "../shadow/taps.h"
#include "../xpc/batch.h"
#include "../isolation/pkey/pkru.h"

namespace nooks {

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

static double mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

// TSC ticks per nanosecond, measured against the monotonic clock.
double tsc_per_ns() {
  double t0 = mono_ns();
  uint64_t c0 = __rdtsc();
  while (mono_ns() - t0 < 20e6) {
  }
  return (__rdtsc() - c0) / (mono_ns() - t0);
}

// Median over `runs` of the mean TSC ticks per iteration of `body`.
template <class F>
static double ticks_per_iter(int runs, int iters, F body) {
  std::vector<double> r;
  for (int k = 0; k < runs; k++) {
    uint64_t c0 = __rdtsc();
    for (int i = 0; i < iters; i++) body();
    r.push_back(double(__rdtsc() - c0) / iters);
  }
  return median(r);
}

double bench_wrpkru_pair(int runs, int iters) {
  uint32_t host = rdpkru(), other = host | pkru_wd(0);
  return ticks_per_iter(runs, iters, [&] {
    wrpkru(other);
    wrpkru(host);
  });
}

double bench_round_trip(Domain *d, const void *fn, int runs, int iters) {
  XpcCall c{fn, {}, 0};
  Fault f;
  return ticks_per_iter(runs, iters, [&] { xpc_call(d, &c, &f); });
}

double bench_tapped_round_trip(Domain *d, const void *fn, int runs, int iters) {
  OpCall c{BlkDiskOps::kFirstTap, fn, {}};  // any operation's tap: they cost the same
  Fault f;
  double ticks = ticks_per_iter(runs, iters, [&] { op_cross(d, c, &f); });
  taps_reset(d);  // the bench's counts are not the driver's
  return ticks;
}

double bench_upcall(Domain *d, const void *fn, int runs, int iters, uint64_t arg) {
  // fn(n, arg) makes n kernel calls from inside the driver: one entry, n upcalls.
  XpcCall c{fn, {(uint64_t)iters, arg}, 0};
  Fault f;
  std::vector<double> r;
  for (int k = 0; k < runs; k++) {
    uint64_t c0 = __rdtsc();
    xpc_call(d, &c, &f);
    r.push_back(double(__rdtsc() - c0) / iters);
  }
  return median(r);
}

double bench_mprotect_pair(int runs, int iters) {
  DomainMemoryAccess open_all;  // no driver code runs meanwhile, and the heap is writable before and after
  return ticks_per_iter(runs, iters, [] {
    host_heap_protect(true);
    host_heap_protect(false);
  });
}

double bench_batched_call(Domain *d, const void *fn, int runs, int iters) {
  std::vector<nooks_batch_call> calls(NOOKS_BATCH_MAX, nooks_batch_call{(uint64_t)fn, {}, 0});
  int batches = std::max(1, iters / (int)NOOKS_BATCH_MAX);
  return ticks_per_iter(runs, batches, [&] { xpc_call_batch(d, calls); }) / NOOKS_BATCH_MAX;
}

}  // namespace nooks
