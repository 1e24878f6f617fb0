// The waits of kernel calls (wait.h).
#include "wait.h"

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>

#include "../recovery/recovery.h"
#include "../trap/guarded.h"
#include "checks.h"
#include "log.h"

namespace nooks {

namespace {

constexpr long long kNsPerS = 1000000000;

timespec timespec_of(long long ns) { return {(time_t)(ns / kNsPerS), (long)(ns % kNsPerS)}; }

futex_waitv waiter(const volatile void *word, uint32_t seen) { return {seen, (uint64_t)(uintptr_t)word, FUTEX_32 | FUTEX_PRIVATE_FLAG, 0}; }

// Linux before 5.16 has no futex_waitv: waits on the last word alone (the
// driver's, if any) and then for 10 ms at most, so that a change of the
// other (a request to leave the domain) is seen within 10 ms. The futex
// call's result (errno set when negative).
long sleep_on_last(const futex_waitv *w, unsigned n, const Deadline &deadline) {
  long long until = deadline.ns;
  if (n > 1) {
    long long tick = clock_now_ns(deadline.clock) + 10 * 1000 * 1000;
    until = until < 0 ? tick : std::min(until, tick);
  }
  timespec at = timespec_of(until);
  int op = FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG | (deadline.clock == CLOCK_REALTIME ? FUTEX_CLOCK_REALTIME : 0);
  return syscall(SYS_futex, (uint32_t *)(uintptr_t)w[n - 1].uaddr, op, (uint32_t)w[n - 1].val, until < 0 ? nullptr : &at, nullptr,
                 FUTEX_BITSET_MATCH_ANY);
}

// Sleeps until one of the n words no longer holds its value, a futex wake on
// one of them, the deadline or a signal, other threads let into the driver
// meanwhile (UnlockedWait).
void sleep_on(const futex_waitv *w, unsigned n, const Deadline &deadline) {
  timespec at = timespec_of(deadline.ns);
  UnlockedWait unlocked;
  long r = syscall(SYS_futex_waitv, w, n, 0, deadline.ns < 0 ? nullptr : &at, deadline.clock);
  if (r < 0 && errno == ENOSYS) r = sleep_on_last(w, n, deadline);
  // Under mprotect another driver may now run and make the driver's word
  // inaccessible: either call then fails at once (EFAULT), so nap instead
  // (taking the driver back opens its memory again).
  if (r < 0 && errno == EFAULT) {
    timespec nap = {0, 1000 * 1000};
    nanosleep(&nap, nullptr);
  }
}

}  // namespace

long long clock_now_ns(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return (long long)ts.tv_sec * kNsPerS + ts.tv_nsec;
}

Deadline Deadline::after_ns(uint64_t ns) {
  long long now = clock_now_ns(CLOCK_MONOTONIC);
  return {CLOCK_MONOTONIC, ns > (uint64_t)(LLONG_MAX - now) ? -1 : now + (long long)ns};  // past the clock's range: none
}

Deadline Deadline::after_ms(long ms) { return ms < 0 ? Deadline{} : after_ns((uint64_t)ms * 1000000); }

bool Deadline::passed() const { return ns >= 0 && clock_now_ns(clock) >= ns; }

void thread_wake(ThreadCtx *t) {
  t->wakes.fetch_add(1);
  syscall(SYS_futex, &t->wakes, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

static std::atomic<uint64_t> stalled_wait_releases{0};

// A test's stand-in for a kernel call that does not return when its domain
// fails or is unloaded (a device that never answers): where the test asked
// for it (Domain::stall_next_wait), the driver's next wait blocks, deaf to
// requests to leave, until the test lets it go; d is not looked at after.
void stall_for_test(Domain *d) {
  if (d->stall_next_wait.load(std::memory_order_relaxed) == Domain::Stall::none) return;
  Domain::Stall stall = d->stall_next_wait.exchange(Domain::Stall::none);
  if (stall == Domain::Stall::none) return;
  uint64_t released = stalled_wait_releases.load();
  klog(6, "nooks: %s: test stall: a wait of the driver, deaf until released", d->name.c_str());
  UnlockedWait unlocked;
  if (stall == Domain::Stall::busy) thread_ctx()->in_wait.store(false);  // no progress: the watchdog times it out
  while (stalled_wait_releases.load() == released) usleep(1000);
}

namespace {

thread_local const InterruptibleWait *tl_interruptible = nullptr;

}  // namespace

void waits_interrupt(ThreadCtx *t) {
  t->interrupts.fetch_add(1);
  thread_wake(t);
}

InterruptibleWait::InterruptibleWait() : outer_(tl_interruptible), seen_(thread_ctx()->interrupts.load()) { tl_interruptible = this; }

InterruptibleWait::~InterruptibleWait() { tl_interruptible = outer_; }

bool InterruptibleWait::interrupted() const { return thread_ctx()->interrupts.load() != seen_; }

namespace {

// wait_until's loop, sleeping on the driver's word as well when there is one
// (while it holds `seen`): 0 once ready(), -EINTR (leave d) or -ETIMEDOUT.
int wait_for(Domain *d, const Deadline &deadline, const std::function<bool()> &ready, const volatile u32 *word, u32 seen) {
  ThreadCtx *t = thread_ctx();
  return_stacks(t, t->depth);  // what a call touches from its wait on it touches guarded (write_back, guarded_access)
  stall_for_test(d);
  for (;;) {
    uint32_t woken = t->wakes.load();  // before the checks: a wake after them ends the sleep at once
    if (ready()) return 0;
    if (should_abort(d)) return -EINTR;
    if (tl_interruptible && tl_interruptible->interrupted()) return -EINTR;
    if (deadline.passed()) return -ETIMEDOUT;
    futex_waitv w[] = {waiter(&t->wakes, woken), waiter(word, seen)};
    sleep_on(w, word ? 2 : 1, deadline);
  }
}

}  // namespace

bool wait_until(Domain *d, const Deadline &deadline, const std::function<bool()> &ready) {
  return wait_for(d, deadline, ready, nullptr, 0) == 0;
}

// guarded_access on the calling thread, whose mark the fault handler looks at (trap.cc).
static bool guarded(const std::function<void()> &access, uintptr_t *fault_addr) {
  return guarded_access(&thread_ctx()->guarded, g_backend.mode == Isolation::pkey, access, fault_addr);
}

// A kernel call's access to driver memory after its wait faulted at addr:
// the driver freed memory it had handed the call, a fault of the driver's,
// which fails it (-EFAULT). The calling thread leaves it as should_abort's.
static int fail_for_gone_memory(Domain *d, const char *call, uintptr_t addr) {
  char message[200];
  snprintf(message, sizeof message, "%s: the driver's memory at %p, which the call accesses after its wait, is gone (freed meanwhile: the stack of a thread that ended?)",
           call, (void *)addr);
  recovery_fail(d, FaultKind::bad_call, message);
  ask_to_leave_failed(thread_ctx(), d);
  return -EFAULT;
}

int wait_on_word(Domain *d, const char *call, const volatile u32 *word, u32 seen, const Deadline &deadline) {
  uintptr_t fault_addr = 0;
  bool gone = false;
  int r = wait_for(d, deadline, [&] {
    u32 now = seen;
    gone = !guarded([&] { now = __atomic_load_n(word, __ATOMIC_ACQUIRE); }, &fault_addr);
    return gone || now != seen;
  }, word, seen);
  return gone ? fail_for_gone_memory(d, call, fault_addr) : r;
}

void futex_wake(const volatile u32 *word, int n) {
  syscall(SYS_futex, (u32 *)(uintptr_t)word, FUTEX_WAKE_PRIVATE, n, nullptr, nullptr, 0);
}

void yield_in_call(Domain *d) {
  ThreadCtx *t = thread_ctx();
  return_stacks(t, t->depth);  // as wait_for's: the next try is guarded
  stall_for_test(d);
  UnlockedYield y;
  sched_yield();
}

int change_inside(Domain *d, const std::function<void()> &change) {
  std::lock_guard<std::mutex> g(d->threads_lock);
  if (should_abort(d)) return -EINTR;
  change();
  return 0;
}

int write_back(Domain *d, const char *call, const std::function<void()> &write) {
  uintptr_t fault_addr = 0;
  bool written = false;
  // A fault resumes in guarded_access's frame, with the lock held.
  if (int r = change_inside(d, [&] { written = guarded(write, &fault_addr); })) return r;
  return written ? 0 : fail_for_gone_memory(d, call, fault_addr);  // the lock let go of: failing d takes the recovery's
}

void release_stalled_waits() { stalled_wait_releases.fetch_add(1); }

}  // namespace nooks
