// Driver.kill: a signal carried out on a driver thread of its own, not on
// one of the program's threads: none is interrupted at an arbitrary
// instruction (inside a kernel call, a lock held), and the handler runs as a
// handler may (async-signal-safe work, a flag set); the program's waits then
// end with EINTR (../kapi/wait.h), as on Linux a thread's do when a handler
// runs, so that `while (running) poll(...)` sees its flag. Masks, pending
// signals and sigwait: program_signals.h.
#include <dlfcn.h>
#include <signal.h>

#include <cstring>

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

}  // namespace

int signal_handler_start(Domain *d, int sig, uint32_t times, HandlerRun run, std::string *why, std::function<void()> done) {
  void *carry_out = dlsym(d->handle, "nooks_posix_signal");
  if (int e = not_running(d, why)) return e;
  std::string name = sigabbrev_np(sig) ? std::string("SIG") + sigabbrev_np(sig) : "signal " + std::to_string(sig);
  long handle = driver_thread_start(d, XpcCall{carry_out, {(uint64_t)sig, times, run.defaulted}, 0}, (uint64_t)carry_out, true, name, std::nullopt,
                                    [d, sig, holds = run.holds, done](uint64_t handled) {
                                      signals_carried_out(d, sig, handled, holds);  // a handler ran (not SIG_IGN, not a default ignoring it)
                                      if (done) done();
                                    });
  if (handle < 0) {
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
  int e = signal_handler_start(d, sig, 1, run, why, nullptr);
  if (e) signals_not_carried_out(d, sig, run);  // no handler in flight after all
  return e;
}

}  // namespace nooks
