// Signals of the host's (Node's, libuv's, an application's) and driver code.
// Linux runs a handler with the default PKRU (key 0 only) and, unless it was
// installed with SA_ONSTACK, on the interrupted stack: under isolation pkey a
// handler that interrupts driver code then faults at its first push onto the
// domain's stack, with the signals it masks blocked (libuv's: all), and the
// process dies. So the threads the kernel runs driver code on take no
// asynchronous signal, and the handlers others install run on the thread's
// key-0 alternate stack (thread_register gives each thread that enters a
// domain one). docs/design.md, "Host signals".
#pragma once
#include <signal.h>

#include <thread>
#include <utility>

struct uv_loop_s;  // <uv.h> not here: it brings <linux/param.h>'s HZ into every driver-API file

namespace nooks {

// Gives every handler installed now that lacks it SA_ONSTACK (the kernel's
// own have it). Returns how many it changed. Not atomic: a handler another
// thread installs between its read and its write of a signal's action is
// overwritten by the one it read (docs/design.md, "Host signals").
int handlers_on_altstack();

// Whether signal sig's handler (if any) has SA_ONSTACK (a test hook).
bool handler_on_altstack(int sig);

// Under isolation pkey, from now until stop_keeping_handlers_on_altstack
// (the loop's thread, which calls both): libuv's SIGCHLD handler stays
// installed, by a watcher of the kernel's on `loop`, so that a spawn never
// installs it anew without SA_ONSTACK; and the watchdog thread gives
// handlers installed where no event tells the kernel SA_ONSTACK every
// kHandlerSweepMs (another thread's listeners, Node's own sigaction).
void keep_handlers_on_altstack(uv_loop_s *loop);
void stop_keeping_handlers_on_altstack();
constexpr unsigned kHandlerSweepMs = 50;

// While it lives, the calling thread blocks every signal but those a fault
// raises and the kernel's abort signal (trap_abort_signal).
class AsyncSignalsBlocked {
 public:
  AsyncSignalsBlocked();
  ~AsyncSignalsBlocked();
  AsyncSignalsBlocked(const AsyncSignalsBlocked &) = delete;
  AsyncSignalsBlocked &operator=(const AsyncSignalsBlocked &) = delete;

 private:
  sigset_t before_;
};

// A thread the kernel starts to run driver code on: it inherits the mask,
// so it takes no asynchronous signal from its first instruction on (the
// process's go to its other threads).
template <class... Args>
std::thread kernel_thread(Args &&...args) {
  AsyncSignalsBlocked inherited;
  return std::thread(std::forward<Args>(args)...);
}

}  // namespace nooks
