// Spinlocks and mutexes. The lock word lives in driver memory (as in Linux);
// the kernel records which thread holds which lock, so misuse is caught and
// recovery knows what the driver held. Waits end when the domain fails.
#include "checks.h"
#include "subsystems.h"
#include "wait.h"

using namespace nooks;

static uint32_t self_tid() { return (uint32_t)nooks_tls_ctx->tid; }

static bool try_take(volatile u32 *word) { return __atomic_exchange_n(word, 1u, __ATOMIC_ACQUIRE) == 0; }

static void give(volatile u32 *word) { __atomic_store_n(word, 0u, __ATOMIC_RELEASE); }

extern "C" void kapi_spin_lock_init(spinlock_t *lock) {
  lock->locked = 0;
  lock->owner = 0;
}

// The lock's owner and its record among d's objects, once taken.
static void add_spinlock(Domain *d, spinlock_t *lock) {
  lock->owner = self_tid();
  d->objects.add({ObjectType::lock, (uintptr_t)lock, sizeof *lock, self_tid(), "spinlock"});
}

// spin_lock's contended path after its first yield: lets the holder run
// (it may need to run driver code to let go), then tries, until it takes the
// lock, recorded, or must leave d (after_call leaves it). The try after each
// yield, which may last, and its record go through write_back (wait.h):
// never into the restarted driver's memory or objects, left running, nor a
// fault if the lock's memory went meanwhile. The 1024 tries until the next
// yield follow no wait: plain reads, and a take only when the word is free.
static void take_after_yields(Domain *d, spinlock_t *lock) {
  for (;;) {
    yield_in_call(d);
    bool taken = false;
    if (write_back(d, "spin_lock", [&] {
          if ((taken = try_take(&lock->locked))) add_spinlock(d, lock);
        }) ||
        taken)
      return;
    // The plain tries use the word unguarded: on another thread's stack, it is borrowed again, until the next yield.
    if (!writable_in_call(d, (uintptr_t)lock, sizeof *lock)) continue;  // gone since the try: the next one says so
    for (unsigned spins = 1; spins < 1024; spins++) {
      __builtin_ia32_pause();
      if (__atomic_load_n(&lock->locked, __ATOMIC_RELAXED) == 0 && try_take(&lock->locked)) return add_spinlock(d, lock);
    }
  }
}

// spin_lock's path: plain tries until the first yield (an uncontended take
// costs one atomic), then take_after_yields.
static void take_spinning(Domain *d, spinlock_t *lock) {
  for (unsigned spins = 1; !try_take(&lock->locked); spins++) {
    __builtin_ia32_pause();
    if (spins % 1024 == 0) return take_after_yields(d, lock);
  }
  add_spinlock(d, lock);
}

extern "C" void kapi_spin_lock(spinlock_t *lock) {
  Domain *d = calling_domain();
  if (lock->locked && lock->owner == self_tid()) kernel_bug(d, "spin_lock(%p): already held by this thread (self-deadlock)", (void *)lock);
  take_spinning(d, lock);
}

extern "C" void kapi_spin_unlock(spinlock_t *lock) {
  Domain *d = calling_domain();
  Object o;
  if (!d->objects.find(ObjectType::lock, (uintptr_t)lock, &o) || o.data != self_tid())
    kernel_bug(d, "spin_unlock(%p): not held by this thread", (void *)lock);
  d->objects.remove(ObjectType::lock, (uintptr_t)lock);
  lock->owner = 0;
  give(&lock->locked);
}

// A mutex's word is a futex word, which the kernel refuses at once when not
// 4-byte aligned: mutex_lock's wait could never sleep.
static void check_aligned(Domain *d, const struct mutex *m, const char *call) {
  if ((uintptr_t)m % alignof(struct mutex)) kernel_bug(d, "%s(%p): not aligned (a futex word must be 4-byte aligned)", call, (const void *)m);
}

extern "C" void kapi_mutex_init(struct mutex *m) {
  check_aligned(calling_domain(), m, "mutex_init");
  m->locked = 0;
  m->owner = 0;
  m->waiters = 0;
}

// The mutex's owner and its record among d's objects, once taken.
static void add_mutex(Domain *d, struct mutex *m) {
  m->owner = self_tid();
  d->objects.add({ObjectType::mutex, (uintptr_t)m, sizeof *m, self_tid(), "mutex"});
}

// mutex_lock's contended path: waits until it takes m (0), the deadline
// passes (-ETIMEDOUT) or it must leave d (-EINTR: after_call leaves it). It
// counts itself a waiter before its first wait (the call's entry check
// covers m until then) and stays one until it takes m or gives up; what it
// does to m after a wait, and m's record, it does through
// write_back (wait.h): never into the restarted driver's memory or objects,
// left running, nor a fault if m's memory went meanwhile.
static int take_after_waits(Domain *d, const char *call, struct mutex *m, const Deadline &deadline) {
  __atomic_add_fetch(&m->waiters, 1, __ATOMIC_SEQ_CST);
  for (bool taken = false, timed_out = false; !taken;) {
    timed_out = wait_on_word(d, call, &m->locked, 1, deadline) == -ETIMEDOUT;
    if (write_back(d, call, [&] {
          if (!(taken = try_take(&m->locked)) && !timed_out) return;
          __atomic_sub_fetch(&m->waiters, 1, __ATOMIC_RELAXED);  // taken, or given up
          if (taken) add_mutex(d, m);
        }))
      return -EINTR;  // after_call leaves the domain; still counted a waiter, which costs only a wake while d goes
    if (timed_out && !taken) return -ETIMEDOUT;
  }
  return 0;
}

extern "C" void kapi_mutex_lock(struct mutex *m) {
  Domain *d = calling_domain();
  check_aligned(d, m, "mutex_lock");
  if (m->locked && m->owner == self_tid()) kernel_bug(d, "mutex_lock(%p): already held by this thread (self-deadlock)", (void *)m);
  if (try_take(&m->locked)) add_mutex(d, m);
  else take_after_waits(d, "mutex_lock", m, Deadline{});
}

// The personality's pthread_mutex_timedlock and clocklock (lib/wrappers/posix.ts).
extern "C" int kapi_nooks_posix_mutex_timedlock(struct mutex *m, int clock, long long deadline_ns) {
  Domain *d = calling_domain();
  check_aligned(d, m, "pthread_mutex_timedlock");
  if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) return -EINVAL;
  if (try_take(&m->locked)) {
    add_mutex(d, m);
    return 0;
  }
  return take_after_waits(d, "pthread_mutex_timedlock", m, Deadline{clock, deadline_ns});
}

extern "C" int kapi_mutex_trylock(struct mutex *m) {
  check_aligned(calling_domain(), m, "mutex_trylock");
  if (!try_take(&m->locked)) return 0;
  add_mutex(calling_domain(), m);
  return 1;
}

extern "C" void kapi_mutex_unlock(struct mutex *m) {
  Domain *d = calling_domain();
  Object o;
  if (!d->objects.find(ObjectType::mutex, (uintptr_t)m, &o) || o.data != self_tid())
    kernel_bug(d, "mutex_unlock(%p): not held by this thread", (void *)m);
  d->objects.remove(ObjectType::mutex, (uintptr_t)m);
  m->owner = 0;
  // Let go of before the waiters are read (not after: a waiter that counted
  // itself then would sleep on a held word no one wakes).
  __atomic_store_n(&m->locked, 0u, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&m->waiters, __ATOMIC_SEQ_CST)) futex_wake(&m->locked, 1);
}
