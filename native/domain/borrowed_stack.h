// Buffers on another thread's stack. A driver may hand a kernel call a buffer
// on the stack of another of its threads (legitimate C: the owner waits while
// a worker fills it); if that thread ends meanwhile, its stack is made
// inaccessible (domain_thread_release), and the call's access to the buffer
// would fault in kernel code, killing the host. So such a call borrows the
// stack: its pointer check counts it (under the domain's threads_lock, as the
// thread's end looks), and a thread that ends while its stack is borrowed
// leaves the closing, and its slot, to the call that returns it last. Calls
// whose pointers lie in their own stack, the heap or the image never get here.
// A call returns what it borrowed when it returns, when it is abandoned, and
// when it waits for an event or yields (wait.h): what it touches after such a
// wait it touches through write_back or guarded_access, where a stack gone
// meanwhile fails the driver with EFAULT (docs/recovery.md, "Driver memory a
// kernel call uses").
#pragma once
#include <cstddef>
#include <cstdint>

namespace nooks {

struct Domain;
struct ThreadCtx;

// [p, p+n) lies in the stack of one of d's threads, whose ending now waits for
// the calling kernel call: true. false if in no thread's stack (none left), or
// the calling thread's calls under way hold kMaxBorrowedStacks already.
bool borrow_stack(Domain *d, uintptr_t p, size_t n);
// t's calls at `depth` and deeper (ThreadCtx::depth) are over, or wait: what they borrowed returned.
void return_stacks(ThreadCtx *t, uint32_t depth);

}  // namespace nooks
