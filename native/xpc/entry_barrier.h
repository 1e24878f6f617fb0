// How a crossing and a teardown agree on who is inside a domain: an
// asymmetric Dekker. A crossing counts itself inside (crossing_push: a plain
// store) and then reads the domain's state again; a teardown marks the state
// and then reads the counts (threads_inside). Each side needs its store
// ordered before its load. The crossing, which is hot, pays only a compiler
// barrier; the teardown, which is rare, makes every thread of the process run
// a full barrier (membarrier(2)), so that a crossing either is counted by the
// time the teardown reads the counts or reads the state the teardown marked.
#pragma once
#include <atomic>

namespace nooks {

// Without membarrier (an old or restricted kernel) every crossing pays a
// full fence instead. Decided once, at boot (entry_barrier_init).
extern bool g_entry_fence_full;

// At boot, before any thread crosses: registers the process for membarrier.
void entry_barrier_init();

// A crossing, between its count and its second look at the state.
inline void entry_barrier_crossing() {
  if (__builtin_expect(g_entry_fence_full, false))
    std::atomic_thread_fence(std::memory_order_seq_cst);
  else
    std::atomic_signal_fence(std::memory_order_seq_cst);
}

// A teardown, between marking the state and reading the counts.
void entry_barrier_teardown();

}  // namespace nooks
