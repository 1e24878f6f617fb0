// Recovery (mechanism). Phases, in order:
//   teardown: mask the driver's interrupts -> make every thread inside (or
//             called through) the domain leave it -> release every tracked
//             object -> forget its heap and DMA blocks
//   restart:  reset the writable segments from the copy taken at load ->
//             run module_init again -> running
// Policy (restart, give up, disable) is the TypeScript agent's (lib/recovery).
#pragma once
#include <functional>
#include <string>

#include "../xpc/xpc.h"

namespace nooks {

// Phases 1-4 for failure `generation` of d (Domain::failure_gen). Runs once
// per failure, and not at all for a failure already recovered from; safe from
// any thread not inside d.
void recovery_teardown(Domain *d, uint64_t generation);
// Phases 5-6. Returns false and says why if init faulted or returned an error
// (the domain is then failed and torn down again).
bool recovery_restart(Domain *d, std::string *why);

// A kernel thread (timer, work, irq) saw a fault: the recovery thread tears
// the domain down, then reports it to the listener (the agent). Faults that
// are only the echo of another (`aborted`) are not reported.
void recovery_notify(Domain *d, const Fault &f);
// A class's nanny found d not doing its work (no fault): d fails as if it had
// faulted with `kind` and `message`, and the recovery thread takes it from there.
void recovery_fail(Domain *d, FaultKind kind, const std::string &message);
void recovery_set_listener(std::function<void(int domain, const Fault &)> fn);
void recovery_thread_start();
void recovery_thread_stop();

// Fills f->message for a processor fault (outside the signal handler).
void fault_describe(Fault *f);

}  // namespace nooks
