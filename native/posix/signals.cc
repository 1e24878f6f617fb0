// Driver.kill: a signal carried out on a driver thread of its own, not on
// one of the program's threads: none is interrupted at an arbitrary
// instruction (inside a kernel call, a lock held), and the handler runs as a
// handler may (async-signal-safe work, a flag set); the program's waits then
// end with EINTR (../kapi/wait.h), as on Linux a thread's do when a handler
// runs, so that `while (running) poll(...)` sees its flag. Masks, pending
// signals and sigwait: program_signals.h.
#include <dlfcn.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <set>

#include "../kapi/wait.h"
#include "program.h"
#include "program_signals.h"
#include "signals.h"
#include "threads.h"

namespace nooks {

namespace {

int not_running(Domain *d, std::string *why) {
  if (d->state.load() == DomainState::running) return 0;
  *why = d->name + " is " + state_name(d->state.load()) + ": no signal is delivered to it";
  return -ESRCH;
}

// Test hook (holdSignalHandlers, test/program-signals.test.ts), by domain
// slot: the handler threads started, numbered, whose crossing has not returned.
struct StartOrder {
  std::mutex lock;
  std::condition_variable changed;
  uint64_t next = 0;
  std::set<uint64_t> unreturned;
};
StartOrder start_orders[kMaxDomains];

// Handler thread `n` waits, before its crossing, until each started before
// it has returned (10 s at most; not once d stops running): one at a time,
// in the order started, whatever the order the kernel meant them to run in.
void hold_for_test(Domain *d, uint64_t n) {
  StartOrder &o = start_orders[d->id];
  std::unique_lock<std::mutex> g(o.lock);
  o.changed.wait_for(g, std::chrono::seconds(10), [&] { return *o.unreturned.begin() == n || d->state.load() != DomainState::running; });
}

void returned_for_test(Domain *d, uint64_t n) {
  StartOrder &o = start_orders[d->id];
  std::lock_guard<std::mutex> g(o.lock);
  o.unreturned.erase(n);
  o.changed.notify_all();
}

}  // namespace

void signal_handlers_reset(Domain *d) {
  StartOrder &o = start_orders[d->id];
  std::lock_guard<std::mutex> g(o.lock);
  o.unreturned.clear();
}

int signal_handler_start(Domain *d, int sig, uint32_t times, HandlerRun run, std::string *why, std::function<void(bool handled)> returned) {
  void *carry_out = dlsym(d->handle, "nooks_posix_signal");
  if (int e = not_running(d, why)) return e;
  std::string name = sigabbrev_np(sig) ? std::string("SIG") + sigabbrev_np(sig) : "signal " + std::to_string(sig);
  bool held = d->hold_signal_handlers.load();
  uint64_t n = 0;
  if (held) {
    std::lock_guard<std::mutex> g(start_orders[d->id].lock);
    n = start_orders[d->id].next++;
    start_orders[d->id].unreturned.insert(n);
  }
  long handle = driver_thread_start(
      d, XpcCall{carry_out, {(uint64_t)sig, times, run.handler, run.flags, run.holds, run.set}, 0}, (uint64_t)carry_out, true, name, std::nullopt,
      [d, returned, held, n](uint64_t handled) {
        if (held) returned_for_test(d, n);
        returned(handled);  // a handler ran (not SIG_IGN, not a default ignoring it)
      },
      held ? std::function<void()>([d, n] { hold_for_test(d, n); }) : nullptr);
  if (handle < 0) {
    if (held) returned_for_test(d, n);
    *why = d->name + " has as many threads as it may: no thread for the signal";
    return (int)handle;
  }
  return 0;
}

int posix_kill(Domain *d, int sig, std::string *why) {
  void *carry_out = dlsym(d->handle, "nooks_posix_signal");
  if (!carry_out || !d->in_text((uintptr_t)carry_out)) {
    *why = d->name + " is not a driver of the POSIX personality: it is sent no signals";
    return -ESRCH;
  }
  if (!d->program_main) {  // a library-style driver: its SIG_DFL would end it, a failure for no reason
    *why = d->name + " is no program (it defines no main): it is sent no signals";
    return -ESRCH;
  }
  if (int e = not_running(d, why)) return e;
  HandlerRun run{};
  if (signals_route(d, sig, &run) != SignalRoute::handler) return 0;  // taken by a sigwait, or pending: blocked by every thread, or held
  return signals_run_handler(d, sig, run, why);
}

}  // namespace nooks
