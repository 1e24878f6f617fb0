// The waits behind the POSIX personality's condition variables, semaphores,
// rwlocks and barriers (native/driver-rt/posix/cond.c, semaphore.c, rwlock.c,
// barrier.c): a wait in the kernel on a word of driver memory, woken by a
// change of the word (signal, broadcast, post, unlock) or its deadline,
// never a busy wait. It ends when the driver fails, as every wait does, woken
// by the failure (native/kapi/wait.h).
#include <errno.h>
#include <time.h>

#include "../kapi/wait.h"

using namespace nooks;

extern "C" int kapi_nooks_posix_futex_wait(unsigned int *word, unsigned int seen, int clock, long long deadline_ns) {
  if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) return -EINVAL;
  return wait_on_word(calling_domain(), "futex_wait", word, seen, Deadline{clock, deadline_ns < 0 ? -1 : deadline_ns});
}

extern "C" void kapi_nooks_posix_futex_wake(unsigned int *word, int all) { futex_wake(word, all ? INT32_MAX : 1); }
