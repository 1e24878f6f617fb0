// What the watchdog remembers of the threads inside domains: since when each
// has made no progress, and when it was last asked to leave. A thread is known
// by its ThreadCtx address and its serial number: a new thread may get a gone
// one's address (and the same count of entries), never its serial. Plain data,
// no lock: only the watchdog thread uses it (unit test: test/test_stalls.cc).
#pragma once
#include <cstdint>
#include <unordered_map>

namespace nooks {

struct ThreadKey {
  const void *ctx;  // its ThreadCtx
  uint64_t serial;  // ThreadCtx::serial
};

class Stalls {
 public:
  // The thread is inside a domain at `now` (ms) with its progress counter at
  // `entries`; `waiting` is progress for as long as it lasts. True when it has
  // made none for longer than budget_ms and was not asked to leave in the last
  // 100 ms: the caller asks it now.
  bool overdue(ThreadKey t, uint64_t entries, bool waiting, uint64_t now, uint64_t budget_ms);
  // The thread is outside every domain: nothing to remember.
  void outside(const void *ctx) { seen_.erase(ctx); }

 private:
  struct Seen {
    uint64_t serial, entries, since, asked;
  };
  std::unordered_map<const void *, Seen> seen_;
};

}  // namespace nooks
