// Fault trapping: processor faults inside a driver end the crossing, not the
// process; a watchdog ends drivers that run past their time budget.
#pragma once
#include <cstdint>

#include <shared_enums.h>  // FaultKind (lib/wrappers/enums.ts)

namespace nooks {

// Installs the handlers (once); faults outside domains go to the previous handlers.
void trap_install();
// The first thing a fault or abort handler does: Linux clears the direction
// flag for a handler, not RFLAGS.AC, and with a driver's AC set an unaligned
// access in the handler (the compiler's movups) raised SIGBUS there, which
// killed the process. The interrupted flags come back at sigreturn.
// Async-signal-safe.
inline void clear_alignment_check() { __asm__ volatile("pushfq\n\tandl $~0x40000, (%%rsp)\n\tpopfq" ::: "memory", "cc"); }
// The signal recovery and the watchdog send to a thread to make it leave a domain.
int trap_abort_signal();
// Asks thread t to leave domain d with `kind` (a FaultKind; `fails`: leaving
// fails the domain, and the thread that fails it reports the fault); it
// unwinds when it is in driver code, or when its kernel call returns; a kernel
// call's wait is woken at once (native/kapi/wait.h). Not from a signal handler.
// Returns the request's number, for trap_withdraw; `unless_asked` (the
// watchdog, a free_irq that leaves a thread behind): where a request to leave
// domain_id stands already, that one is left as it is, only woken and
// signalled again (0).
struct ThreadCtx;
uint64_t trap_abort_thread(ThreadCtx *t, int domain_id, int kind, bool fails, bool unless_asked = false);
// Takes back t's request to leave domain_id numbered `ask`, unless another
// has been made since (a teardown's, which must stand for a thread it leaves
// behind: docs/recovery.md, "A thread left running"). Whether it took it back
// (false: another stands, or the thread left on it or withdrew it itself).
bool trap_withdraw(ThreadCtx *t, int domain_id, uint64_t ask);
// What a processor fault (signal, si_code, address) inside a driver is; a
// fault just below the thread's domain stack (stack_lo) is a stack overflow.
// Async-signal-safe.
FaultKind fault_kind_of(int sig, int code, uintptr_t addr, uintptr_t stack_lo);
// The watchdog thread: ends threads past their domain's time budget, and runs the nannies.
void watchdog_start();
void watchdog_stop();

// A nanny: a device class's check for a driver that stopped working without
// faulting (a request it keeps, bytes it does not take), which it fails
// ('stalled') through recovery. The watchdog thread runs it every period_ms,
// outside any lock and never on the JS thread: no JavaScript timer. A static
// Nanny in the class's core.
struct Nanny {
  Nanny(unsigned period_ms, void (*check)());
};
// Test hook (holdNannies): while held, the watchdog thread runs no nanny, so a
// test sees what happens without their periodic looks.
void hold_nannies_for_test(bool held);

}  // namespace nooks
