// Signals sent to a program (Driver.kill, docs/drivers.md "Programs").
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "../domain/domain.h"
#include "program_signals.h"

namespace nooks {

// Sends signal `sig` (1 to 64) to program d: taken by a sigwait, left
// pending while every thread blocks it (program_signals.h), or carried out
// at once (signal_handler_start). 0, or -ESRCH (not a program: a
// library-style or no personality driver; not running) or -EAGAIN (no
// thread left) and *why.
int posix_kill(Domain *d, int sig, std::string *why);

// Carries out `sig` `times` (each sent, in turn; by the disposition in
// force at its delivery, run's) in program d on a driver thread of its own (SIGTERM,
// "signal <n>"), which crosses into d and runs its disposition there (the
// personality's nooks_posix_signal): a pending real-time signal's queue
// takes one thread, not one each. When the crossing returns (not if it
// faulted), `returned` runs on that thread, outside d, told whether a
// handler ran. 0, or -ESRCH (d not running) or -EAGAIN (no thread left) and
// *why.
int signal_handler_start(Domain *d, int sig, uint32_t times, HandlerRun run, std::string *why, std::function<void(bool handled)> returned);

// d starts, at load or restart: no handler thread of an earlier driver in
// its slot, or of its last run, is waited for (holdSignalHandlers' hold:
// one a program's end stopped never returned).
void signal_handlers_reset(Domain *d);

}  // namespace nooks
