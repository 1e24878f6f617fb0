// A program's signal masks, its pending signals and sigwait (docs/drivers.md,
// "Programs"): of the signals Driver.kill sends, which run their handler at
// once, which a thread waiting in sigwait takes, and which stay pending,
// blocked by every thread of the program, until one unblocks them.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "../domain/domain.h"
#include "wait_queue.h"

namespace nooks {

inline uint64_t signal_bit(int sig) { return 1ull << (sig - 1); }

// A thread's signal state: its mask, and sigwait's while it waits.
struct ThreadSignals;

// One of a program's threads (main's, pthread_create's: the kernel threads
// that run its code, not a signal's own nor the application's calling in)
// is created with mask `mask` (its creator's, as POSIX has it): from now
// on its mask counts for delivery, though it runs only later. Under no lock
// that a driver thread waits for but the kernel's list of threads.
std::shared_ptr<ThreadSignals> program_thread_add(Domain *d, uint64_t mask);

// That thread while it runs, on the thread itself: the pending signals it
// does not block are delivered as it starts; it counts no more once it ends.
class ProgramThread {
 public:
  ProgramThread(Domain *d, std::shared_ptr<ThreadSignals> signals);
  ~ProgramThread();
  ProgramThread(const ProgramThread &) = delete;
  ProgramThread &operator=(const ProgramThread &) = delete;

 private:
  Domain *d_;
  std::shared_ptr<ThreadSignals> signals_;
};

// Where Driver.kill's `sig` goes: to a thread of d's waiting for it in
// sigwait (taken there, no handler runs), else to its handler if a thread
// of d's does not block it (or none runs yet) and no handler in flight
// holds it (a handler in flight, until it has returned), else pending.
// A handler in flight holds pending, as Linux blocks them while it runs,
// its own signal (but under SA_NODEFER) and its sa_mask's: *holds.
enum class SignalRoute { taken, handler, pending };
// A run of a signal's disposition: the one in force at its delivery, as
// Linux runs it whatever a sigaction changes before its handler runs (the
// personality's sigaction tells the kernel each: kapi_nooks_posix_sigaction).
struct HandlerRun {
  uint64_t holds;    // what it holds pending while it runs
  bool resets;       // this run is SA_RESETHAND's: from it on the disposition is SIG_DFL
  uint64_t handler;  // SIG_DFL (0; so after an SA_RESETHAND delivery), SIG_IGN, or the program's handler
  uint64_t flags;    // its sa_flags
  uint64_t set;      // which sigaction of the signal set it, as the personality counts them
};
SignalRoute signals_route(Domain *d, int sig, HandlerRun *run);

// Carries out sig, which signals_route sent to its handler (`run`), on a
// driver thread of its own (signals.h); once it has, what its run held
// pending and nothing holds now, as signals unblocked together run (the
// order: program_signals.cc, deliver). 0, or -ESRCH (d not running) or
// -EAGAIN (no thread left) and *why: then not carried out, nor delivered.
int signals_run_handler(Domain *d, int sig, HandlerRun run, std::string *why);

// Within its scope, the calling thread's mask is `mask` (ppoll, pselect,
// epoll_pwait, sigsuspend), or unchanged if not `masked`: the pending
// signals it unblocks are delivered as it begins, so the wait it covers
// (begun after an InterruptibleWait) ends once their handlers have run; as
// it ends, the handlers it let through that the old mask blocks everywhere
// have ended.
class TemporaryMask {
 public:
  TemporaryMask(Domain *d, bool masked, uint64_t mask);
  ~TemporaryMask();
  TemporaryMask(const TemporaryMask &) = delete;
  TemporaryMask &operator=(const TemporaryMask &) = delete;

 private:
  Domain *d_;  // nullptr: not masked
  uint64_t old_ = 0;
};

// The signals pending in d that every thread of it blocks (what a signalfd
// reads: not one a handler in flight holds for its handler), one bit each.
uint64_t signals_pending(Domain *d);
// The lowest of those in `set`, taken off pending (one occurrence of a
// queued one), as sigwait and a signalfd's read take it; 0: none.
int signals_take(Domain *d, uint64_t set);
// What a signal becoming pending in d wakes (a signalfd's waits, and the
// epolls that watch one), and how often pending changed since d started (a
// signal added or taken: an edge for EPOLLET).
std::shared_ptr<WaitQueue> signals_pending_waits(Domain *d);
uint64_t signals_pending_changes(Domain *d);

// d's start crossing (constructors, module_init) is about to run, at load
// and at each restart: no signal is pending, and no disposition holds any
// (its static data is SIG_DFL again), so that the handlers its constructors
// install hold what their sigaction says.
void signals_reset(Domain *d);

}  // namespace nooks
