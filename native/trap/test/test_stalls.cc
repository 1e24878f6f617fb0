// The watchdog's memory of stuck threads (stalls.cc): budgets, progress, asking
// again, and a new thread at a gone one's address, which must start afresh;
// and its clock (run_clock.h), which leaves out the time it did not run.
#include <cstdio>
#include <cstdlib>

#include "../run_clock.h"
#include "../stalls.h"

using nooks::RunClock;
using nooks::Stalls;
using nooks::ThreadKey;

static int failures = 0;

static void check(bool ok, const char *what) {
  if (!ok) {
    std::printf("stalls: FAILED: %s\n", what);
    failures++;
  }
}

int main() {
  const uint64_t budget = 300;
  int ctx_a, ctx_b;

  {
    Stalls s;
    ThreadKey a{&ctx_a, 1};
    check(!s.overdue(a, 1, false, 1000, budget), "a thread first seen is not overdue");
    check(!s.overdue(a, 1, false, 1300, budget), "not at its budget");
    check(s.overdue(a, 1, false, 1301, budget), "overdue past its budget");
    check(!s.overdue(a, 1, false, 1350, budget), "not asked again within 100 ms");
    check(s.overdue(a, 1, false, 1401, budget), "asked again after 100 ms");
    check(!s.overdue(a, 2, false, 1402, budget), "progress restarts its budget");
    check(!s.overdue(a, 2, true, 1800, budget), "a wait is progress while it lasts");
    check(!s.overdue(a, 2, false, 2100, budget), "its budget runs from the end of the wait");
    check(s.overdue(a, 2, false, 2101, budget), "and ends past it");
    ThreadKey b{&ctx_b, 2};
    check(!s.overdue(b, 1, false, 2101, budget), "another thread has its own budget");
    s.outside(&ctx_a);
    check(!s.overdue(a, 2, false, 5000, budget), "a thread that was outside starts afresh");
  }

  // A driver thread (serial 1) seen inside after its one entry ends and is gone
  // before the watchdog sees it outside; the next one (serial 2) gets its
  // ThreadCtx address and makes its one entry too: the same count, 1.
  {
    Stalls s;
    check(!s.overdue({&ctx_a, 1}, 1, false, 1000, budget), "the first thread, inside");
    check(!s.overdue({&ctx_a, 2}, 1, false, 1400, budget), "the next at its address is not timed out at once");
    check(!s.overdue({&ctx_a, 2}, 1, false, 1700, budget), "its budget runs from when it was first seen");
    check(s.overdue({&ctx_a, 2}, 1, false, 1701, budget), "and ends past it");
  }

  // The process stopped for 10 s while a thread was inside: the clock counts
  // 50 ms of the gap, and the thread is not overdue for it.
  {
    RunClock clock(7000);
    check(clock.at(7000) == 7000, "the clock starts at the wall time");
    check(clock.at(7005) == 7005 && clock.at(7054) == 7054, "steps up to 50 ms count whole");
    check(clock.at(17054) == 7104, "a longer step counts 50 ms");
    check(clock.at(17059) == 7109, "and the clock goes on from there");
    Stalls s;
    RunClock c(1000);
    check(!s.overdue({&ctx_a, 1}, 1, false, c.at(1000), budget), "inside when the stop comes");
    check(!s.overdue({&ctx_a, 1}, 1, false, c.at(11000), budget), "not overdue for a stop past its budget");
    bool early = false;
    for (uint64_t t = 11005; t <= 11250; t += 5) early |= s.overdue({&ctx_a, 1}, 1, false, c.at(t), budget);
    check(!early, "nor while it runs up to its budget after it");
    check(s.overdue({&ctx_a, 1}, 1, false, c.at(11255), budget), "overdue once it has run past its budget");
  }

  if (failures) return EXIT_FAILURE;
  std::printf("stalls: all checks passed\n");
  return 0;
}
