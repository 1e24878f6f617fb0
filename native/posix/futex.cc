// The waits behind the POSIX personality's condition variables, semaphores,
// rwlocks and barriers (native/driver-rt/posix/cond.c, semaphore.c, rwlock.c,
// barrier.c): a wait in the kernel on a word of driver memory, woken by a
// change of the word (signal, broadcast, post, unlock) or its deadline,
// never a busy wait. It ends when the driver fails, as every wait does, woken
// by the failure (native/kapi/wait.h).
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <climits>

#include "../kapi/wait.h"
#include "../xpc/xpc.h"

using namespace nooks;

extern "C" int kapi_nooks_posix_futex_wait(unsigned int *word, unsigned int seen, int clock, long long deadline_ns) {
  if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) return -EINVAL;
  if ((uintptr_t)word % alignof(unsigned int)) return -EINVAL;  // as Linux's futex: the kernel's wait refuses it at once, each time
  return wait_on_word(calling_domain(), "futex_wait", word, seen, Deadline{clock, deadline_ns < 0 ? -1 : deadline_ns});
}

extern "C" void kapi_nooks_posix_futex_wake(unsigned int *word, int all) { futex_wake(word, all ? INT32_MAX : 1); }

// The kernel takes 1 from the word (FUTEX_OP_ADD of -1: its argument is 12
// bits, signed) and then wakes every waiter on it, under its own lock and
// by the address alone (the comparison's wake, of none, is moot): the
// barrier may be freed the moment the word drops, and nothing touches it
// after. The word was checked at entry; EFAULT: another of the driver's
// threads freed it since, a fault of the driver's.
extern "C" void kapi_nooks_posix_futex_dec_wake(unsigned int *word) {
  if (syscall(SYS_futex, word, FUTEX_WAKE_OP_PRIVATE, INT_MAX, nullptr, word, FUTEX_OP(FUTEX_OP_ADD, -1, FUTEX_OP_CMP_EQ, 0)) < 0 && errno == EFAULT)
    xpc_fail_current(calling_domain(), FaultKind::bad_call, "nooks_posix_futex_dec_wake(word=%p): the driver's memory is gone (freed by another of its threads?)", (void *)word);
}
