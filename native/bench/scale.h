// How crossings scale with threads (npx nooks bench scale): kernel threads
// crossing at once, each in a C++ loop.
#pragma once
#include <cstdint>
#include <vector>

#include "../xpc/xpc.h"

namespace nooks {

struct ScaleTarget {
  Domain *domain;
  const void *fn;  // an empty driver function
};

struct ScaleResult {
  uint64_t crossings = 0;  // all threads together
  double seconds = 0;      // from the start signal to the stop signal
  int failed = 0;          // threads whose crossing failed (they stop at once)
};

// Starts `threads` threads; thread i crosses into targets[i % targets.size()]
// `warmup` times uncounted, then as fast as it can, from a common start until
// `seconds` have passed.
ScaleResult bench_scale(const std::vector<ScaleTarget> &targets, int threads, int warmup, double seconds);

}  // namespace nooks
