#include "host_signals.h"

#include <uv.h>

#include <atomic>

#include "trap.h"

namespace nooks {

int handlers_on_altstack() {
  int changed = 0;
  for (int sig = 1; sig < NSIG; sig++) {
    struct sigaction sa {};
    if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, nullptr, &sa) != 0) continue;
    bool handler = (sa.sa_flags & SA_SIGINFO) || (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
    if (!handler || (sa.sa_flags & SA_ONSTACK)) continue;
    sa.sa_flags |= SA_ONSTACK;
    if (sigaction(sig, &sa, nullptr) == 0) changed++;
  }
  return changed;
}

bool handler_on_altstack(int sig) {
  struct sigaction sa {};
  return sigaction(sig, nullptr, &sa) == 0 && (sa.sa_flags & SA_ONSTACK);
}

namespace {
std::atomic<bool> sweeping{false};
uv_signal_t *sigchld_kept = nullptr;  // the loop's thread's alone

// 64 reads of an action: microseconds per period (docs/design.md, "Host signals").
void sweep() {
  if (sweeping.load(std::memory_order_relaxed)) handlers_on_altstack();
}
Nanny handler_sweep(kHandlerSweepMs, sweep);
}  // namespace

void keep_handlers_on_altstack(uv_loop_t *loop) {
  if (sigchld_kept) return;
  sigchld_kept = new uv_signal_t;
  uv_signal_init(loop, sigchld_kept);
  uv_signal_start(sigchld_kept, [](uv_signal_t *, int) {}, SIGCHLD);
  uv_unref((uv_handle_t *)sigchld_kept);  // never keeps the process (or the worker) alive
  handlers_on_altstack();
  sweeping.store(true);
}

void stop_keeping_handlers_on_altstack() {
  if (!sigchld_kept) return;
  sweeping.store(false);
  uv_close((uv_handle_t *)sigchld_kept, [](uv_handle_t *h) { delete (uv_signal_t *)h; });
  sigchld_kept = nullptr;
}

AsyncSignalsBlocked::AsyncSignalsBlocked() {
  sigset_t async;
  sigfillset(&async);
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, trap_abort_signal()}) sigdelset(&async, sig);
  pthread_sigmask(SIG_BLOCK, &async, &before_);
}

AsyncSignalsBlocked::~AsyncSignalsBlocked() { pthread_sigmask(SIG_SETMASK, &before_, nullptr); }

}  // namespace nooks
