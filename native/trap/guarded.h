// Kernel code's accesses to driver memory that may fault although the
// driver's pointer passed the call's entry check (checks.h): what a blocking
// call reads or writes after its wait (write_back, wait_on_word: wait.h),
// when the driver freed that memory meanwhile (a buffer on the stack of
// another of its threads, which ended: that slot is inaccessible now). As
// Linux's copy_to_user: a fault ends the access, not the process.
#pragma once
#include <setjmp.h>

#include <cstdint>
#include <functional>

namespace nooks {

// An access under way: where a fault in it resumes.
struct GuardedAccess {
  sigjmp_buf landing;
  bool pkey = false;                 // isolation pkey: the kernel code's PKRU, which the fault handler's lacks, is put back
  uint32_t pkru = 0;
  volatile uintptr_t fault_addr = 0; // set by the fault handler
};

// Runs access() with *mark set to its landing (the calling thread's mark,
// ThreadCtx::guarded, which the fault handler looks at): true, or false if
// it faulted (SIGSEGV, SIGBUS), with the faulting address in *fault_addr. A
// fault jumps out of access: it must hold nothing to let go of (no lock, no
// object with a destructor).
bool guarded_access(GuardedAccess **mark, bool pkey, const std::function<void()> &access, uintptr_t *fault_addr);

// The fault handler's part, for a thread whose mark is set: resumes it where
// its access began, which then returns false. Async-signal-safe; does not return.
[[noreturn]] void resume_guarded(GuardedAccess *g, uintptr_t fault_addr);

}  // namespace nooks
