// A program's signal masks, pending signals and sigwait (program_signals.h),
// and the kernel calls that change or wait on them (lib/wrappers/posix.ts:
// sigprocmask, sigpending, sigsuspend, sigwait, a SIG_IGN's discard; a
// signalfd reads the pending ones, signalfd.cc). The
// kernel keeps each program thread's mask (the personality's copy answers
// oldset): what is delivered is decided under one lock per program with
// every thread's mask, as Linux decides it, so a
// signal blocked everywhere stays pending until a mask lets it through, and
// the thread whose mask does (a sigsuspend, a ppoll) is among the threads
// whose waits its handler ends. Handlers run on threads of their own
// (signals.h), started with no lock of these held.
#include "program_signals.h"

#include <signal.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <vector>

#include "../kapi/log.h"
#include "../kapi/wait.h"
#include "../xpc/xpc.h"
#include "signals.h"

namespace nooks {

// Under its program's lock while it is one of its threads.
struct ThreadSignals {
  uint64_t mask = 0;
  uint64_t waiting = 0;      // sigwait's set, while it waits
  int taken = 0;             // the signal a sigwait took
  uint64_t awaiting = 0;     // the signals whose handlers it waits to end (await_handlers)
  ThreadCtx *ctx = nullptr;  // once it runs
  bool program = false;      // one of a program's threads: counted for delivery
};

namespace {

constexpr int kSignals = 64;
constexpr int kFirstQueued = 32;                                      // from here on signals queue, as Linux's real-time ones
const uint64_t kNeverBlocked = signal_bit(SIGKILL) | signal_bit(SIGSTOP);

struct ProgramSignals {
  std::mutex lock;
  uint32_t pending[kSignals + 1] = {};  // how many of each: 1 at most below kFirstQueued
  uint32_t handling[kSignals + 1] = {};  // threads started to carry each out, not yet ended
  uint64_t holds[kSignals + 1] = {};     // what a run of each's handler holds pending: its sa_mask, itself but under SA_NODEFER (sigaction)
  bool holds_once[kSignals + 1] = {};    // SA_RESETHAND: its next run holds them, then the disposition is SIG_DFL
  uint64_t handler[kSignals + 1] = {};   // each's disposition: SIG_DFL at first, SIG_DFL again once SA_RESETHAND's run was delivered
  uint64_t flags[kSignals + 1] = {};
  uint64_t set[kSignals + 1] = {};
  uint32_t held[kSignals + 1] = {};      // runs in flight that hold each
  std::vector<ThreadSignals *> threads;
  uint64_t pending_changes = 0;  // signals added to pending or taken off it
  const std::shared_ptr<WaitQueue> pending_waits = std::make_shared<WaitQueue>();  // woken, under no lock of these, as one becomes pending
};

ProgramSignals programs[kMaxDomains];  // by domain slot: a slot is kept while a thread of it may still run
thread_local ThreadSignals *tl_program = nullptr;  // a program's thread's, while it runs (ProgramThread)
thread_local ThreadSignals tl_other;               // any other thread's: its mask kept, counted for no delivery

ThreadSignals &self() { return tl_program ? *tl_program : tl_other; }

ProgramSignals &of(Domain *d) { return programs[d->id]; }

// Under s.lock: a run of sig's disposition, the one in force now, begins:
// in flight, and what it holds pending held until it ends (run_ends). Under
// SA_RESETHAND the disposition is SIG_DFL from this delivery on, as Linux
// resets it as it delivers, not as the handler's thread gets to run: a
// second signal sent meanwhile runs SIG_DFL's, never the handler again.
HandlerRun run_begins(ProgramSignals &s, int sig) {
  HandlerRun run{s.holds[sig], s.holds_once[sig], s.handler[sig], s.flags[sig], s.set[sig]};
  s.handling[sig]++;
  if (run.resets) {
    s.holds[sig] = 0;
    s.holds_once[sig] = false;
    s.handler[sig] = (uint64_t)SIG_DFL;
  }
  for (int h = 1; h <= kSignals; h++)
    if (run.holds & signal_bit(h)) s.held[h]++;
  return run;
}

// Under s.lock. (None in flight after a restart reset them.)
void run_ends(ProgramSignals &s, int sig, uint64_t holds) {
  if (s.handling[sig]) s.handling[sig]--;
  for (int h = 1; h <= kSignals; h++)
    if ((holds & signal_bit(h)) && s.held[h]) s.held[h]--;
}

// Under s.lock: the signals a thread of the program does not block (all while none runs yet).
uint64_t unblocked_somewhere(const ProgramSignals &s) {
  uint64_t set = s.threads.empty() ? ~0ull : 0;
  for (const ThreadSignals *t : s.threads) set |= ~t->mask;
  return set;
}

// A pending signal taken off pending for delivery: how many times it was
// sent, and what its handler's run holds.
struct Taken {
  int sig;
  uint32_t times;
  HandlerRun run;
};

// Under s.lock: the pending signals of `set` that no handler in flight
// holds, taken off pending, lowest first (so a lower one's run holds what
// its sa_mask names of the others).
std::vector<Taken> take_pending(ProgramSignals &s, uint64_t set) {
  std::vector<Taken> taken;
  for (int sig = 1; sig <= kSignals; sig++)
    if ((set & signal_bit(sig)) && s.pending[sig] && !s.held[sig]) {
      taken.push_back({sig, s.pending[sig], run_begins(s, sig)});
      s.pending[sig] = 0;
      s.pending_changes++;
    }
  return taken;
}

// Under s.lock: the lowest pending signal of `set` that every thread blocks,
// one occurrence of it taken off pending; 0: none. One a thread does not
// block is pending only while a handler in flight holds it (or no thread
// was left to run it): it is for its handler, never a sigwait's or a
// signalfd's, as on Linux the handler's own thread blocks it and another
// thread takes it.
int take_one(ProgramSignals &s, uint64_t set) {
  set &= ~unblocked_somewhere(s);
  for (int sig = 1; sig <= kSignals; sig++)
    if ((set & signal_bit(sig)) && s.pending[sig]) {
      s.pending[sig]--;
      s.pending_changes++;
      return sig;
    }
  return 0;
}

// Under s.lock; whoever adds wakes s.pending_waits once it lets go of it.
void add_pending(ProgramSignals &s, int sig, uint32_t times) {
  s.pending[sig] = sig < kFirstQueued ? 1 : s.pending[sig] + times;
  s.pending_changes++;
}

// Under s.lock: the pending signals, one bit each.
uint64_t pending_set(const ProgramSignals &s) {
  uint64_t set = 0;
  for (int sig = 1; sig <= kSignals; sig++)
    if (s.pending[sig]) set |= signal_bit(sig);
  return set;
}

// Handlers that a change of mask let through and that whoever made it waits for (sigprocmask): Linux runs them before it returns.
struct Completion {
  std::mutex lock;
  size_t left = 0;
  ThreadCtx *waiter = nullptr;  // cleared once it no longer waits
};

// Under no lock of these: `done`'s count of handler threads in flight is one less.
void finished(const std::shared_ptr<Completion> &done) {
  if (!done) return;
  std::lock_guard<std::mutex> g(done->lock);
  if (--done->left == 0 && done->waiter) thread_wake(done->waiter);
}

// Under s.lock: sig's run was routed or taken off pending but its thread
// never started (an SA_RESETHAND reset undone: it was not delivered).
void not_carried_out(ProgramSignals &s, int sig, const HandlerRun &run) {
  run_ends(s, sig, run.holds);
  if (run.resets && s.set[sig] == run.set) {  // not delivered after all: its handler is still the disposition (unless a sigaction came since)
    s.holds[sig] = run.holds;
    s.holds_once[sig] = true;
    s.handler[sig] = run.handler;
  }
}

// sig was carried out, its run holding `holds`: if its handler ran
// (`handled`), the waits of d's threads that do not block it end (EINTR), as
// Linux's of the thread that took it; a thread that blocks it and waits for
// its handlers to end (a mask's change) goes on. The pending signals the run
// held and nothing holds now are taken off pending, lowest first (as
// Linux's sigreturn unblocks them), for the caller to run. No lock held.
std::vector<Taken> carried_out(Domain *d, int sig, bool handled, uint64_t holds) {
  ProgramSignals &s = of(d);
  std::lock_guard<std::mutex> g(s.lock);
  run_ends(s, sig, holds);
  for (ThreadSignals *t : s.threads) {
    if (!t->ctx) continue;  // not running yet: it waits for nothing
    if (handled && !(t->mask & signal_bit(sig)))
      waits_interrupt(t->ctx);
    else if (t->awaiting & signal_bit(sig))
      thread_wake(t->ctx);
  }
  return take_pending(s, holds & unblocked_somewhere(s));
}

void run_or_put_back(Domain *d, std::vector<Taken> order, const std::shared_ptr<Completion> &done);

// Runs the handlers of `order`, taken off pending, in that order, one after
// the other: each signal's on a thread of its own, as often as it was sent,
// started once the one before has returned; what a run lets go of
// (carried_out) runs next, before the rest, as Linux delivers it as that
// handler returns. `done` counts the threads in flight. If a handler faults,
// the driver fails and the rest is forgotten with what is pending (a
// restart forgets it: signals_reset). 0, or the error of the first's start
// (*why), nothing of `order` then carried out. No lock of these held.
int run_in_turn(Domain *d, std::vector<Taken> order, const std::shared_ptr<Completion> &done, std::string *why) {
  if (order.empty()) return 0;
  if (done) {
    std::lock_guard<std::mutex> g(done->lock);
    done->left++;
  }
  auto [sig, times, run] = order.front();
  std::vector<Taken> rest(order.begin() + 1, order.end());
  int e = signal_handler_start(d, sig, times, run, why, [d, sig, holds = run.holds, rest, done](bool handled) {
    std::vector<Taken> next = carried_out(d, sig, handled, holds);
    std::reverse(next.begin(), next.end());
    next.insert(next.end(), rest.begin(), rest.end());
    run_or_put_back(d, std::move(next), done);
    finished(done);
  });
  if (e == 0) return 0;
  {
    std::lock_guard<std::mutex> g(of(d).lock);
    for (const Taken &t : order) not_carried_out(of(d), t.sig, t.run);
  }
  finished(done);
  return e;
}

// run_in_turn; what finds no thread to run on (d not running, or at its
// thread limit) goes back to pending, all of it.
void run_or_put_back(Domain *d, std::vector<Taken> order, const std::shared_ptr<Completion> &done) {
  std::string why;
  int e = run_in_turn(d, order, done, &why);
  if (e == 0) return;
  if (e != -ESRCH)  // else d is ending (a clean exit as a handler's end released it) or failed: a restart forgets it
    klog_line(4, d->name, "a pending signal is left pending: " + why);
  {
    std::lock_guard<std::mutex> g(of(d).lock);
    for (const Taken &t : order) add_pending(of(d), t.sig, t.times);
  }
  of(d).pending_waits->wake_all();
}

// Runs the handlers of `taken`, taken off pending lowest first together, in
// Linux's order: it delivers them lowest first, each on top of the one
// before (the next one that the runs already delivered do not hold), so the
// last delivered runs first, and a run that holds the rest (a full sa_mask)
// lets them go one by one as it returns: lowest first then.
void deliver(Domain *d, std::vector<Taken> taken, const std::shared_ptr<Completion> &done) {
  std::reverse(taken.begin(), taken.end());
  run_or_put_back(d, std::move(taken), done);
}

// The calling thread's mask is `mask` (the one it replaces in *old): the
// pending signals it now lets through (a program's thread) are delivered.
void change_mask(Domain *d, uint64_t mask, const std::shared_ptr<Completion> &done = nullptr, uint64_t *old = nullptr) {
  ProgramSignals &s = of(d);
  ThreadSignals &t = self();
  std::vector<Taken> now;
  bool readable = false;  // a held signal blocked everywhere now: a signalfd reads it
  {
    std::lock_guard<std::mutex> g(s.lock);
    if (old) *old = t.mask;
    uint64_t blocks = mask & ~kNeverBlocked & ~t.mask;
    t.mask = mask & ~kNeverBlocked;
    if (t.program) now = take_pending(s, ~t.mask);
    readable = t.program && (blocks & pending_set(s) & ~unblocked_somewhere(s));
  }
  if (readable) s.pending_waits->wake_all();
  deliver(d, now, done);
}

// Linux runs a handler on the thread it interrupts, so once a signal is
// blocked by every thread none of its handlers runs. Here one runs on a
// thread of its own and may still run when the calling program thread's
// mask blocks its signal at last (a ppoll's ends, sigprocmask): the thread
// waits for it to end, so that what it does next sees what the handler set
// (`while (!stop) ppoll(...)` misses no stop). No lock of these held.
void await_handlers(Domain *d) {
  ProgramSignals &s = of(d);
  ThreadSignals &t = self();
  if (!t.program) return;  // a handler's own thread waits for none, itself maybe among them
  auto unfinished = [&] {  // under s.lock
    uint64_t set = 0;
    for (int sig = 1; sig <= kSignals; sig++)
      if (s.handling[sig] && std::all_of(s.threads.begin(), s.threads.end(), [&](ThreadSignals *o) { return o->mask & signal_bit(sig); }))
        set |= signal_bit(sig);
    return set;
  };
  {
    std::lock_guard<std::mutex> g(s.lock);
    t.awaiting = unfinished();
    if (!t.awaiting) return;
  }
  wait_until(d, Deadline{}, [&] {
    std::lock_guard<std::mutex> g(s.lock);
    return !(t.awaiting &= unfinished());
  });
  std::lock_guard<std::mutex> g(s.lock);
  t.awaiting = 0;
}

}  // namespace

std::shared_ptr<ThreadSignals> program_thread_add(Domain *d, uint64_t mask) {
  auto t = std::make_shared<ThreadSignals>();
  t->mask = mask & ~kNeverBlocked;
  t->program = true;
  std::lock_guard<std::mutex> g(of(d).lock);
  of(d).threads.push_back(t.get());
  return t;
}

ProgramThread::ProgramThread(Domain *d, std::shared_ptr<ThreadSignals> signals) : d_(d), signals_(std::move(signals)) {
  ProgramSignals &s = of(d);
  std::vector<Taken> now;
  {
    std::lock_guard<std::mutex> g(s.lock);
    tl_program = signals_.get();
    signals_->ctx = thread_ctx();
    now = take_pending(s, ~signals_->mask);
  }
  deliver(d, now, nullptr);
}

ProgramThread::~ProgramThread() {
  ProgramSignals &s = of(d_);
  std::lock_guard<std::mutex> g(s.lock);
  s.threads.erase(std::remove(s.threads.begin(), s.threads.end(), signals_.get()), s.threads.end());
  tl_program = nullptr;
}

SignalRoute signals_route(Domain *d, int sig, HandlerRun *run) {
  ProgramSignals &s = of(d);
  uint64_t bit = signal_bit(sig);
  {
    std::lock_guard<std::mutex> g(s.lock);
    for (ThreadSignals *t : s.threads)
      if (t->waiting & bit) {  // running: it waits
        t->waiting = 0;
        t->taken = sig;
        thread_wake(t->ctx);
        return SignalRoute::taken;
      }
    if (!s.held[sig] && (unblocked_somewhere(s) & bit)) {
      *run = run_begins(s, sig);
      return SignalRoute::handler;
    }
    add_pending(s, sig, 1);
  }
  s.pending_waits->wake_all();  // a signalfd whose mask has it is readable now
  return SignalRoute::pending;
}

int signals_run_handler(Domain *d, int sig, HandlerRun run, std::string *why) {
  return run_in_turn(d, {{sig, 1, run}}, nullptr, why);
}

TemporaryMask::TemporaryMask(Domain *d, bool masked, uint64_t mask) : d_(masked ? d : nullptr) {
  if (masked) change_mask(d, mask, nullptr, &old_);
}

TemporaryMask::~TemporaryMask() {
  if (!d_) return;
  change_mask(d_, old_);
  await_handlers(d_);
}

uint64_t signals_pending(Domain *d) {
  ProgramSignals &s = of(d);
  std::lock_guard<std::mutex> g(s.lock);
  return pending_set(s) & ~unblocked_somewhere(s);
}

int signals_take(Domain *d, uint64_t set) {
  ProgramSignals &s = of(d);
  std::lock_guard<std::mutex> g(s.lock);
  return take_one(s, set);
}

std::shared_ptr<WaitQueue> signals_pending_waits(Domain *d) { return of(d).pending_waits; }

uint64_t signals_pending_changes(Domain *d) {
  ProgramSignals &s = of(d);
  std::lock_guard<std::mutex> g(s.lock);
  return s.pending_changes;
}

void signals_reset(Domain *d) {
  signal_handlers_reset(d);
  ProgramSignals &s = of(d);
  std::lock_guard<std::mutex> g(s.lock);
  std::fill(std::begin(s.pending), std::end(s.pending), 0);
  std::fill(std::begin(s.handling), std::end(s.handling), 0);  // a handler's thread the teardown stopped never ended
  std::fill(std::begin(s.held), std::end(s.held), 0);
  std::fill(std::begin(s.holds), std::end(s.holds), 0);  // the dispositions are the driver's static data: SIG_DFL again
  std::fill(std::begin(s.holds_once), std::end(s.holds_once), false);
  std::fill(std::begin(s.handler), std::end(s.handler), (uint64_t)SIG_DFL);
  std::fill(std::begin(s.flags), std::end(s.flags), 0);
  std::fill(std::begin(s.set), std::end(s.set), 0);
}

}  // namespace nooks

using namespace nooks;

// sigprocmask, pthread_sigmask in a program: the calling thread's mask is
// `mask`. The pending signals it unblocks have run their handlers when it
// returns, as Linux runs them before the call returns to its caller.
extern "C" int kapi_nooks_posix_sigmask(unsigned long mask) {
  Domain *d = calling_domain();
  auto done = std::make_shared<Completion>();
  done->waiter = thread_ctx();
  change_mask(d, mask, done);
  wait_until(d, Deadline{}, [&] {
    std::lock_guard<std::mutex> g(done->lock);
    return done->left == 0;
  });
  {
    std::lock_guard<std::mutex> g(done->lock);
    done->waiter = nullptr;
  }
  await_handlers(d);
  return 0;
}

// sigpending: `mask` is the calling thread's as the personality keeps it,
// a handler's thread's with what its run holds (as Linux's while it runs).
extern "C" unsigned long kapi_nooks_posix_sigpending(unsigned long mask) {
  ProgramSignals &s = of(calling_domain());
  std::lock_guard<std::mutex> g(s.lock);
  return pending_set(s) & mask;
}

extern "C" int kapi_nooks_posix_sigsuspend(unsigned long mask) {
  Domain *d = calling_domain();
  InterruptibleWait signals;
  TemporaryMask temporary(d, true, mask);
  wait_until(d, Deadline{}, [] { return false; });
  return -EINTR;
}

// sigwait & co.: a signal of `set` pending (the lowest) is taken at once;
// else the calling thread waits for one Driver.kill sends (signals_route),
// up to `timeout_ns` (-1: none): -EAGAIN past it, -EINTR when the handler of
// a signal it does not block ran meanwhile.
extern "C" int kapi_nooks_posix_sigwait(unsigned long set, long long timeout_ns) {
  Domain *d = calling_domain();
  ProgramSignals &s = of(d);
  InterruptibleWait signals;
  {
    std::lock_guard<std::mutex> g(s.lock);
    if (int sig = take_one(s, set)) return sig;
    self().taken = 0;
    self().waiting = self().program ? set : 0;  // a thread of the application calling in is sent nothing
  }
  wait_until(d, timeout_ns < 0 ? Deadline{} : Deadline::after_ns((uint64_t)timeout_ns), [&] {
    std::lock_guard<std::mutex> g(s.lock);
    return self().taken != 0;
  });
  std::lock_guard<std::mutex> g(s.lock);
  int taken = self().taken;
  self().waiting = 0;
  self().taken = 0;
  return taken ? taken : signals.interrupted() || timeout_ns < 0 ? -EINTR : -EAGAIN;
}

// sigaction, the `set`th of sig: its disposition `handler` with `flags`, run
// as it is at each delivery; what a run of it holds pending while it runs
// (0: SIG_IGN, SIG_DFL); `once` (SA_RESETHAND): its next run only.
extern "C" void kapi_nooks_posix_sigaction(int sig, unsigned long holds, int once, unsigned long handler, int flags, unsigned long set) {
  if (sig < 1 || sig > kSignals) return;
  ProgramSignals &s = of(calling_domain());
  std::lock_guard<std::mutex> g(s.lock);
  s.holds[sig] = holds & ~kNeverBlocked;
  s.holds_once[sig] = once;
  s.handler[sig] = handler;
  s.flags[sig] = (unsigned)flags;
  s.set[sig] = set;
}

// sigaction to SIG_IGN (or to SIG_DFL where that ignores): a pending `sig` is discarded, as POSIX has it.
extern "C" void kapi_nooks_posix_sigdiscard(int sig) {
  if (sig < 1 || sig > kSignals) return;
  ProgramSignals &s = of(calling_domain());
  std::lock_guard<std::mutex> g(s.lock);
  s.pending[sig] = 0;
}
