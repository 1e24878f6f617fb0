// A table slot read by threads that hold no lock and no crossing, and freed by
// one thread that empties it: readers count themselves on the slot while they
// use what they found; the freeing side empties the slot, then waits for the
// count to fall to zero. Both sides store, then load, sequentially consistent:
// a reader either finds the slot empty or is counted before the freeing side
// looks. The count is per slot, so a reader of another slot never holds an
// unload up. Lock-free: a signal handler may read a slot (not wait on one).
// The domain table's use of it is DomainUse (domain.h); its test is
// native/domain/test/test_slot_use.cc.
#pragma once
#include <sched.h>

#include <atomic>

namespace nooks {

// Counts the calling thread on `uses`, then reads the slot: the object it holds
// stays allocated until slot_unuse, or nullptr.
template <class T>
T *slot_use(const std::atomic<T *> &slot, std::atomic<int> &uses) {
  uses.fetch_add(1);
  return slot.load();
}

inline void slot_unuse(std::atomic<int> &uses) { uses.fetch_sub(1, std::memory_order_release); }

// Empties the slot and returns once no reader still uses what it held: the
// caller may free it. A reader must not wait, while counted, for the caller.
template <class T>
void slot_empty_and_wait(std::atomic<T *> &slot, const std::atomic<int> &uses) {
  slot.store(nullptr);
  while (uses.load() != 0) sched_yield();
}

}  // namespace nooks
