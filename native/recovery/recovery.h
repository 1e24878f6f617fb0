// Recovery (mechanism). Phases, in order:
//   teardown: mask the driver's interrupts -> make every thread inside (or
//             called through) the domain leave it -> release every tracked
//             object -> forget its heap and DMA blocks
//   restart:  reset the writable segments from the copy taken at load ->
//             run module_init again -> running
// Policy (restart, give up, disable) is the TypeScript agent's (lib/recovery).
#pragma once
#include <chrono>
#include <functional>
#include <string>

#include "../xpc/xpc.h"

namespace nooks {

// Phases 1-4 for d's latest failure, if they have not run for it yet
// (teardown.cc): the one way to have a failed domain torn down. The first
// thread to ask does it, the others wait for it to be done; a domain that has
// not failed since its last teardown is left alone. Any thread not inside d.
void recovery_ensure_torn_down(Domain *d);
// The same, for native/recovery, by a thread that holds d->recovery_lock.
void recovery_tear_down_locked(Domain *d);
// Lets go of every object d holds (the teardown's release; also a load refused
// before module_init ran, whose only objects are the devices it holds).
void recovery_release_objects(Domain *d);
// Thread t, inside d in a kernel call that does not return, is asked to leave
// d and left behind as a teardown leaves one it gave up on: when the call
// returns, it writes nothing into the driver's memory (write_back) and leaves,
// running no driver code; its leaving fails nothing; a later teardown does not
// wait for it (docs/recovery.md, "A thread left running"). Nothing if t is not
// inside d, nor if a request to leave d stands already: the watchdog's (its
// leaving then fails d, as it should: a handler past its time budget) or a
// teardown's, which deal with t. For a thread left running outside a
// teardown (a driver's own free_irq that gave up on its handler's thread:
// native/kapi/irq.cc); t must not exit meanwhile.
void recovery_leave_behind(Domain *d, const ThreadCtx &t);
// Phases 5-6 (after the teardown, if it had not run). Returns false and says
// why if init faulted or returned an error (the domain is then failed and
// torn down again), if a step before init failed (what the restart took is
// released again), or if d is disabled or being unloaded (refused).
bool recovery_restart(Domain *d, std::string *why);

// A kernel thread (timer, work, irq) saw a fault: the recovery thread tears
// the domain down, then reports it to the listener (the agent). Faults that
// are only the echo of another (`aborted`) are not reported.
void recovery_notify(Domain *d, const Fault &f);
// A class's nanny found d not doing its work (no fault): d fails as if it had
// faulted with `kind` and `message`, and the recovery thread takes it from there.
void recovery_fail(Domain *d, FaultKind kind, const std::string &message);
// Called on the recovery thread once the failure is torn down; d is alive
// until the call returns.
void recovery_set_listener(std::function<void(Domain *d, const Fault &)> fn);
// d, failed, is about to be destroyed (unloaded, or its load failed): its
// failure is torn down, what is queued for it dropped, and the recovery
// thread lets go of it.
void recovery_forget(Domain *d);
// Whether the recovery thread has no failure queued or in hand: every report it
// had is with the listener (tests: a late report has been handed on).
bool recovery_idle();
void recovery_thread_start();
void recovery_thread_stop();

// How long a teardown waits for the threads inside the domain to leave it,
// and then for each POSIX driver thread or irq line's thread to stop
// (native/posix/threads.cc, native/kapi/irq.cc), before it leaves one
// running (left_running.h): 5 s each; one that did not leave in the first
// is not waited for again, but left running at once. A test hook
// (setTeardownWaits, nooks/testing) shortens both for the tests that leave
// threads running.
constexpr std::chrono::milliseconds kTeardownWait{5000};
std::chrono::milliseconds recovery_teardown_wait();
void recovery_set_teardown_wait_for_test(std::chrono::milliseconds wait);
// One of those waits (or free_irq's, as long) ran to its end: counted, so
// that the tests tell one wait from two by the count, not by the clock
// (teardownWaitsRunOut, nooks/testing).
void recovery_wait_ran_out();
uint64_t recovery_waits_run_out();
// The test hook holdTeardown (Domain::hold_teardown) lets the teardown it holds go on (releaseTeardown, nooks/testing).
void recovery_release_held_teardown_for_test();

// Fills f->message for a processor fault (outside the signal handler).
void fault_describe(Fault *f);

}  // namespace nooks
