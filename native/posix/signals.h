// Signals sent to a program (Driver.kill, docs/drivers.md "Programs").
#pragma once
#include <string>

#include "../domain/domain.h"

namespace nooks {

// Sends signal `sig` (1 to 64) to program d: a driver thread of its own
// ("signal <n>") crosses into d and carries out its disposition there (the
// personality's nooks_posix_signal); once a handler has run, d's
// interruptible waits end (waits_interrupt). 0, or -ESRCH (not a
// program: a library-style or no personality driver; not running) or -EAGAIN (no thread left) and *why.
int posix_kill(Domain *d, int sig, std::string *why);

}  // namespace nooks
