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

#include <atomic>
#include <cstdint>

#include "../domain/domain.h"

namespace nooks {

enum ChannelState : uint32_t { kIdle, kCall, kKreturn, kReturn, kKcall, kFault, kStarting };
enum ChannelSide { kKernelSide, kHostSide };

struct alignas(64) Channel {
  std::atomic<uint32_t> state;
  std::atomic<uint32_t> sleeping[2];  // per side (kKernelSide, kHostSide): asleep in futex, post must wake it
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

// Side `me` waits until the state is one of `wanted` (a mask of bit(state)):
// it spins briefly (the other side may answer within a microsecond or two),
// then sleeps in the kernel. Returns the state, or kIdle once `timeout`
// passes without it (nullptr: wait for ever).
inline uint32_t channel_wait(Channel *ch, ChannelSide me, uint32_t wanted, const timespec *timeout) {
  for (int i = 0; i < 100; i++) {
    uint32_t s = ch->state.load();
    if (among(s, wanted)) return s;
    __builtin_ia32_pause();
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
  return s;
}

}  // namespace nooks
