// The waits behind the POSIX personality's condition variables
// (native/driver-rt/posix/cond.c): a wait in the kernel on a word of driver
// memory, woken by a change of the word (signal, broadcast) or its deadline,
// never a busy wait. It ends when the driver fails, as every wait does.
#include <time.h>

#include <algorithm>

#include "../kapi/checks.h"
#include "../kapi/subsystems.h"

using namespace nooks;

static long long now_ns(int clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

extern "C" int kapi_nooks_posix_futex_wait(unsigned int *word, unsigned int seen, int clock, long long deadline_ns) {
  Domain *d = calling_domain();
  if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) return -EINVAL;
  for (;;) {
    if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != seen) return 0;
    if (should_abort(d)) return -EINTR;
    long long left = deadline_ns < 0 ? 1000000000 : deadline_ns - now_ns(clock);
    if (left <= 0) return -ETIMEDOUT;
    futex_wait_slice(word, seen, (uint64_t)left);
  }
}

extern "C" void kapi_nooks_posix_futex_wake(unsigned int *word, int all) { futex_wake(word, all ? INT32_MAX : 1); }
