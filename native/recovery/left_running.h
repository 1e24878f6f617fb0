// Kernel threads a teardown gave up waiting for: a POSIX driver's thread
// (native/posix/threads.cc), an interrupt line's (native/kapi/irq.cc) or the
// timer or worker thread (native/kapi/callback_thread.h) in a kernel call
// that has not returned. Each is left running, logged, and keeps
// its domain (domain_keep) until it ends; then it lets go of the domain
// (docs/recovery.md, "A thread left running").
#pragma once
#include <cstdint>
#include <string>

#include "../domain/domain.h"

namespace nooks {

// How long a teardown waits for such a thread to end before it leaves it
// running: recovery_teardown_wait() (recovery.h), 5 s, after as long a wait
// for it to leave the domain; a thread still inside the domain after that
// first wait is left running without a second.

// Whether a kernel thread, by its ThreadCtx (null: it has not run yet, so it
// is not inside d), is inside d still, left behind by a teardown that gave
// up waiting for it to leave (or a driver's free_irq): waited for once, it is
// left running without a second wait. The caller keeps the thread from
// exiting meanwhile.
bool left_behind(const ThreadCtx *ctx, const Domain *d);
// The thread `label` of d did not end in time: logged; d is kept for it.
// Returns its ticket for left_running_ended (never 0).
uint64_t leave_running(Domain *d, const std::string &label);
// That thread has ended, its stack in d forgotten (domain_thread_forget):
// logged, and it lets go of d, which, if unloaded, is freed now.
void left_running_ended(Domain *d, uint64_t ticket);
// The threads left running in d that have not ended yet, named as the log
// names them, ", " between; "a thread" if none is listed any more.
std::string left_running_labels(const Domain *d);

}  // namespace nooks
