// Isolation 'process': the memory a driver's host process shares with the
// kernel besides the domain itself: one channel per domain thread, over which
// a crossing is a futex round trip, and a control word for starting threads.
//
// A channel carries one message at a time; the two sides take turns, so one
// word (`state`) says whose turn it is and what the message is:
//   kernel -> host process: call (enter the driver), kreturn (a kernel call's result)
//   host process -> kernel: ret (the driver returned), kcall (a kernel call), fault
// and, once, starting -> idle: the thread's twin is up in the host process
// (the host process's start waits for the twins of the threads it knows; a
// thread added later waits for its twin in its first crossing).
// Everything here is writable by the driver's process: the kernel checks what
// it reads (a call index, a state) as it would a driver's argument.
#pragma once
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <errno.h>
#include <sched.h>

#include <atomic>
#include <cstdint>

#include "../domain/domain.h"

namespace nooks {

enum ChannelState : uint32_t { kIdle, kCall, kKreturn, kReturn, kKcall, kFault, kStarting };
enum ChannelSide { kKernelSide, kHostSide };

struct alignas(64) Channel {
  std::atomic<uint32_t> state;
  std::atomic<uint32_t> sleeping[2];  // per side (kKernelSide, kHostSide): asleep in futex, post must wake it
  std::atomic<int32_t> cpu[2];        // per side: the CPU it took its last turn on (channel_wait), -1 before its first
  uint32_t kcall;                  // kcall: index of the kernel call (gen/kapi_stubs.S)
  uint64_t fn, args[6], ret, sp;   // call: what to run, on which stack (outermost entry); ret/kreturn: the result
  uintptr_t stack_lo, stack_hi;    // the thread's domain stack (a fault just below it is an overflow)
  int32_t tid;                     // the twin thread in the host process (for kStopSignal)
  // fault: what the host process's signal handler saw
  int32_t signo, code;
  uint64_t addr, ip;
};

struct DriverHostShared {
  std::atomic<uint32_t> ready;                      // 1 once the host process has set itself up (driver_host_start waits)
  std::atomic<uint32_t> started;                    // bumped for each new thread: the host process starts its twin
  std::atomic<uint64_t> active[kMaxDomainThreads / 64];  // channels in use
  Channel channels[kMaxDomainThreads];
};

inline bool channel_active(const DriverHostShared *s, int slot) { return s->active[slot / 64].load() >> (slot % 64) & 1; }

// Sent by the kernel to a twin that must leave the driver (the watchdog,
// recovery): it reports where it was, as a fault with signo 0, and stops.
constexpr int kStopSignal = SIGUSR1;

// What the kernel keeps of a driver's host process.
struct DriverHost {
  DriverHostShared *shared = nullptr;  // nullptr: none (no domain in the slot, or its set-up failed)
  std::atomic<pid_t> pid{-1};          // read by every thread crossing into the driver, set by start and stop
};
// d's (driver_host.cc keeps them by domain id; the host process has the copy forked with it).
DriverHost &driver_host_of(const Domain *d);

inline long futex(std::atomic<uint32_t> *w, int op, uint32_t val, const timespec *ts) {
  // Shared (not FUTEX_PRIVATE): the two sides are different processes.
  return syscall(SYS_futex, (uint32_t *)w, op, val, ts, nullptr, 0);
}

constexpr uint32_t bit(uint32_t s) { return 1u << s; }
inline bool among(uint32_t s, uint32_t wanted) { return s < 32 && (wanted & bit(s)); }

// From side `from`: hands the channel to the other side with `state`.
inline void channel_post(Channel *ch, ChannelSide from, uint32_t state) {
  ch->state.store(state);
  if (ch->sleeping[!from].load()) futex(&ch->state, FUTEX_WAKE, 1, nullptr);
}

// How long a side spins for the other's answer before it sleeps: about what
// sleeping costs (the futex wait, the wake-up and two context switches: some
// µs, more on a VM or from a deep idle state), so a spin that fails wastes at
// most what sleeping at once would have. Shorter, a side that has just been
// woken answers after its partner gave up and slept, so it must wake the
// partner in turn, and so on: once one side sleeps, every handoff sleeps
// (what made the 'process' figures swing between runs; docs/results.md).
// Time, not a count of pause instructions: a pause takes 10 to 140 cycles by
// CPU model.
constexpr uint64_t kSpinNs = 10 * 1000;

// The kernel side's waits whose spin ran out before the host process
// answered (driver_host.cc; the bench's breakdown reads it).
extern std::atomic<uint64_t> g_kernel_spins_run_out;

inline uint64_t monotonic_ns() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

// Side `me` waits until the state is one of `wanted` (a mask of bit(state)):
// it spins up to kSpinNs (the other side may answer within a microsecond or
// two), then sleeps in the kernel. No spin while the other side last ran on
// this CPU: it cannot answer before this side gives the CPU up. Returns the
// state, or kIdle once `timeout` passes without it (nullptr: wait for ever).
inline uint32_t channel_wait(Channel *ch, ChannelSide me, uint32_t wanted, const timespec *timeout) {
  const int cpu = sched_getcpu();
  const bool spin = ch->cpu[!me].load(std::memory_order_relaxed) != cpu;
  const uint64_t start = spin ? monotonic_ns() : 0;
  for (uint32_t i = 1; spin; i++) {
    uint32_t s = ch->state.load();
    if (among(s, wanted)) {
      ch->cpu[me].store(cpu, std::memory_order_relaxed);
      return s;
    }
    __builtin_ia32_pause();
    if (i % 16 == 0 && monotonic_ns() - start > kSpinNs) {  // the clock every 16 pauses: it costs more than one
      if (me == kKernelSide) g_kernel_spins_run_out.fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  ch->sleeping[me].store(1);
  uint32_t s = ch->state.load();
  while (!among(s, wanted)) {
    bool timed_out = futex(&ch->state, FUTEX_WAIT, s, timeout) != 0 && errno == ETIMEDOUT;
    s = ch->state.load();
    if (timed_out && !among(s, wanted)) {
      s = kIdle;
      break;
    }
  }
  ch->sleeping[me].store(0);
  ch->cpu[me].store(sched_getcpu(), std::memory_order_relaxed);  // woken: maybe on another CPU
  return s;
}

}  // namespace nooks
