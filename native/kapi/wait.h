// How a kernel call waits on a driver's behalf (a sleep, poll, epoll, a read
// that blocks, a futex or condition, a contended mutex, a join): the thread
// sleeps on its own wake word (ThreadCtx::wakes) and, for a futex, on the
// driver's word as well (futex_waitv), until its event or its deadline, or
// until it is asked to leave the domain (trap_abort_thread: the domain failed
// or is unloaded, or the watchdog), which wakes it at once. Nothing wakes a
// wait only to look: an idle wait costs no wake-up (docs/recovery.md,
// "How waits end").
#pragma once
#include <time.h>

#include <cstdint>
#include <functional>

#include <nooks/kapi.h>

#include "../xpc/xpc.h"

namespace nooks {

// A deadline: absolute nanoseconds on a clock (CLOCK_MONOTONIC or CLOCK_REALTIME).
struct Deadline {
  clockid_t clock = CLOCK_MONOTONIC;
  long long ns = -1;  // -1: none
  static Deadline after_ns(uint64_t ns);
  static Deadline after_ms(long ms);  // -1: none
  bool passed() const;
};

// Nanoseconds on `clock` now (a clock the kernel has: CLOCK_MONOTONIC, CLOCK_REALTIME, ...).
long long clock_now_ns(clockid_t clock);

// Ends t's wait (or makes its next sleep return at once): whatever a wait
// waits for calls it once the wait's condition may have changed. Any thread, not a signal handler.
void thread_wake(ThreadCtx *t);

// Waits until ready() is true (true), the deadline passes or the calling
// thread must leave d (should_abort; false). ready() runs first, then after
// each wake of the thread; whatever makes it true must wake the thread
// (thread_wake) after. No lock that ready() or a waker takes is held while
// the thread sleeps.
bool wait_until(Domain *d, const Deadline &deadline, const std::function<bool()> &ready);

// A signal's handler has run for t, a program's thread that does not block
// it (native/posix/program_signals.h): t's waits inside an InterruptibleWait
// end (-EINTR, wait_until false), as on Linux a handler ends poll,
// epoll_wait, nanosleep, pause and a blocking read.
void waits_interrupt(ThreadCtx *t);

// Within its scope, the calling thread's waits also end when a signal's
// handler runs for it (waits_interrupt) from its start on: interrupted() says
// whether one did.
class InterruptibleWait {
 public:
  InterruptibleWait();
  ~InterruptibleWait();
  bool interrupted() const;
  InterruptibleWait(const InterruptibleWait &) = delete;
  InterruptibleWait &operator=(const InterruptibleWait &) = delete;

 private:
  const InterruptibleWait *outer_;
  uint64_t seen_;
};

// Waits while the driver's word holds `seen` (0), until the deadline
// (-ETIMEDOUT) or until the calling thread must leave d (-EINTR). A read of
// the word that faults (the driver freed it meanwhile) fails d, naming the
// kernel call `call` (-EFAULT).
int wait_on_word(Domain *d, const char *call, const volatile u32 *word, u32 seen, const Deadline &deadline);
// Wakes up to n of the threads waiting on the driver's `word`.
void futex_wake(const volatile u32 *word, int n);

// What a kernel call that may have waited writes into the driver's memory
// after it (what a read brought, poll's and epoll's events, a join's result,
// a contended mutex's or spinlock's words) it writes through this: `write`
// runs under d's threads_lock unless the calling thread must leave d
// (should_abort: it did not run, -EINTR). A teardown asks every thread
// inside d to leave under that lock before it lets go of anything, so such a
// write lands before a teardown begins or not at all: never in the memory of
// the restarted driver, for a thread left running (docs/recovery.md, "What
// it never writes (write_back)"). A write that faults (the driver freed that
// memory during the wait: a buffer on the stack of a thread that ended) fails
// d, naming the kernel call `call` and the address (-EFAULT; guarded.h).
// 0: written.
int write_back(Domain *d, const char *call, const std::function<void()> &write);

// What a kernel call that may have waited (for a kernel lock too: the bus's,
// or under mprotect the backend's) changes of the kernel's state on d's
// behalf (a registration, an object of d's added or removed) it changes
// through this, as write_back writes: under d's threads_lock, unless the
// calling thread must leave d (-EINTR; 0: changed). A thread left running so
// changes nothing of the restarted driver's (its registrations, its objects
// at the same addresses). `change` touches no driver memory and takes no
// lock that waits for a driver (threads_lock is held).
int change_inside(Domain *d, const std::function<void()> &change);

// A driver's next wait stalls here where the test asked for it
// (stallNextWait): a wait for a kernel lock calls it first, as the waits
// above do.
void stall_for_test(Domain *d);

// A kernel call that spins (a contended spin_lock) lets the kernel's other
// threads run a while between its tries (UnlockedYield: under mprotect it
// waits for the backend's lock to come back, however long another driver
// holds it). What it writes into the driver's memory after, it writes through
// write_back. The test hook stallNextWait stalls it as it stalls a wait.
void yield_in_call(Domain *d);

// Test hook (releaseStalledWaits): every wait stalled by stallNextWait goes on.
void release_stalled_waits();

}  // namespace nooks
