#include "host_signals.h"

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

AsyncSignalsBlocked::AsyncSignalsBlocked() {
  sigset_t async;
  sigfillset(&async);
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, trap_abort_signal()}) sigdelset(&async, sig);
  pthread_sigmask(SIG_BLOCK, &async, &before_);
}

AsyncSignalsBlocked::~AsyncSignalsBlocked() { pthread_sigmask(SIG_SETMASK, &before_, nullptr); }

}  // namespace nooks
