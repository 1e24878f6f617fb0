// Crossing costs measured in C++ loops (npx nooks bench xpc). Results are
// TSC ticks per operation, median of `runs` runs of `iters` operations.
#pragma once
#include "../xpc/xpc.h"

namespace nooks {

double tsc_per_ns();
double bench_wrpkru_pair(int runs, int iters);
// A null host -> driver -> host round trip through fn (a driver function returning at once).
double bench_round_trip(Domain *d, const void *fn, int runs, int iters);
// The same round trip as a class makes it: an operation through its tap (op_cross).
double bench_tapped_round_trip(Domain *d, const void *fn, int runs, int iters);
// One driver -> host kernel call; fn(n, arg) must make n calls and return
// (or n other operations: an emulated register read, trapped or through ioread32).
double bench_upcall(Domain *d, const void *fn, int runs, int iters, uint64_t arg = 0);

// One mprotect pair on the pages a crossing flips when one domain is loaded:
// the host-object heap made read-only and writable again (isolation
// 'mprotect' only: it holds the mprotect lock meanwhile).
double bench_mprotect_pair(int runs, int iters);

// One call to fn when calls are deferred and run NOOKS_BATCH_MAX per crossing.
double bench_batched_call(Domain *d, const void *fn, int runs, int iters);

}  // namespace nooks
