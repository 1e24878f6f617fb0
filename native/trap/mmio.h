// MMIO trap-and-emulate: a driver's load or store in an emulated device's BAR
// that it mapped with mmap (a trapped window: dev/iomem.h) faults; the fault
// handler (trap.cc, or the driver's host process's under isolation 'process')
// decodes the instruction (x86_decode.h) and sends the thread to a stub
// (mmio_x86_64.S) that makes the access an ordinary kernel call,
// nooks_mmio_emulate, and resumes after the instruction with every register
// as it was but the load's destination.
//
// Why a kernel call and not the access in the handler: the device model takes
// locks, may raise interrupts and reach the driver's memory, which needs the
// kernel's rights (PKRU, the mprotect view) and, under isolation 'process',
// the kernel's process. A kernel call from the faulting thread has all of
// that, exactly as the driver's own ioread32 would at that point (the fault is
// synchronous, in driver code, which holds no kernel lock); the handler itself
// only decodes and writes the driver's own stack.
#pragma once
#include <ucontext.h>

#include <nooks/kapi.h>

#include <cstdint>
#include <string>

namespace nooks {

struct Domain;

// From a SIGSEGV handler, for a fault at an address in a trapped window: true
// if the thread was sent to the stub (return from the handler to run it);
// false if the instruction cannot be emulated (not one it decodes), the
// stack pointer is not inside the driver's stack [stack_lo, stack_hi) with
// room for the frame (0, 0: no bounds, isolation 'none'), or the handler is
// not on the thread's signal stack `signal_stack` (as sigaltstack set it):
// then it is a fault. Async-signal-safe; no system call.
bool mmio_trap(ucontext_t *uc, uintptr_t stack_lo, uintptr_t stack_hi, const stack_t &signal_stack);
// The access a frame describes (its fields read once: the frame is the driver's memory).
struct X86Access;
X86Access mmio_access_of(const volatile nooks_mmio_frame *f);
// The instruction at ip in d's text, as hex bytes ("8b 46 14"), for messages.
std::string mmio_instruction(Domain *d, uintptr_t ip);

}  // namespace nooks
