// Crossings (XPC): calling into a driver's domain and back.
#pragma once
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "../domain/domain.h"
#include "../isolation/backend.h"
#include "layout.h"

namespace nooks {

struct GuardedAccess;

// stalled: a nanny found the driver not doing its work (a request with it past its deadline) without a fault.

// What went wrong inside a driver; filled by the signal handler (plain stores
// only) or by a wrapper that rejected a call.
struct Fault {
  FaultKind kind = FaultKind::none;
  int signo = 0, code = 0;
  uintptr_t addr = 0, ip = 0;
  int domain = -1;
  bool primary = false;  // this fault failed the domain (not an echo of a failure already under way)
  uint64_t generation = 0;  // which failure of the domain this fault belongs to
  int exit_status = 0;      // FaultKind::exit: the status exit() was given, as a parent would see it (0 to 255)
  char message[200] = {0};
};

// One per active entry, on the host stack. Field order fixed by layout.h.
struct EntryFrame {
  uintptr_t host_sp;        // EF_HOST_SP
  uint64_t orig_pkru;       // EF_ORIG_PKRU
  DomainThread *dt;         // EF_DT
  XpcCall *call;            // EF_CALL
  EntryFrame *prev;
  DomainThread *prev_cur;
  uintptr_t saved_sp;       // dt->sp before this entry
  uint32_t saved_depth;     // dt->depth before this entry
  uint32_t prev_host_pkru;
};

// A stack of another thread of a driver's that a kernel call under way borrowed (native/domain/borrowed_stack.h).
struct BorrowedStack {
  DomainThread *dt;
  uint32_t depth;  // the call's: the thread's ThreadCtx::depth when it made it
};
constexpr uint32_t kMaxBorrowedStacks = 8;  // at once, by a thread's calls under way (a call's, nested calls')

// One per thread that enters domains. Field order fixed by layout.h.
struct alignas(64) ThreadCtx {  // aligned: the cache lines the offsets below assume are real
  uint64_t host_pkru = 0;            // TC_HOST_PKRU
  EntryFrame *top = nullptr;         // TC_TOP
  DomainThread *cur = nullptr;       // innermost domain (the caller of an upcall)
  uint32_t depth = 0;                // active entries, any domain
  uint32_t borrowed_n = 0;           // of borrowed, below: in the cache line of abort_domain, which after_call reads too
  std::atomic<uint64_t> entries{0};  // outermost entries so far, and waits of a budget_from_wait thread (watchdog progress): note_progress
  std::atomic<int> outer_domain{-1}; // domain of the outermost active entry
  std::atomic<int> abort_domain{-1}; // TC_ABORT_DOMAIN: recovery or watchdog asks this thread to leave it
  std::atomic<int> abort_kind{0};    // FaultKind to report for that abort
  std::atomic<bool> abort_fails{false};    // ...and whether leaving fails the domain (reported by the first to fail it)
  Fault fault;                       // the last fault on this thread
  bool holds_mprotect = false;       // mprotect mode: this thread may run driver code / touch driver memory
  bool budget_from_wait = false;     // a driver's own thread (native/posix/threads.cc): each wait counts as progress (UnlockedWait)
  std::atomic<bool> in_wait{false};  // ...and it waits now: progress for as long as it waits (the watchdog)
  std::atomic<uint32_t> wakes{0};    // the word its waits in kernel calls sleep on (native/kapi/wait.h): moved on to wake them
  std::atomic<uint64_t> interrupts{0};  // signal handlers run for it: its interruptible waits end (waits_interrupt)
  DomainThread *dts[kMaxDomains] = {};
  pthread_t thread;
  int tid = 0;
  ThreadCtx *next = nullptr;         // registry of threads (g_threads)
  uint64_t serial = 0;               // unique among the registry's threads, ever (a new one may get a gone one's address)
  stack_t sigstack{};                // where its signal handlers run (sigaltstack): mapped at registration, or the one it had if large enough
  bool owns_sigstack = false;        // ...mapped at registration: unmapped at its exit
  stack_t prev_sigstack{};           // ...and the one it had then (too small, or none), put back at its exit
  uintptr_t host_stack_lo = 0, host_stack_hi = 0;  // its own stack: kernel code runs there (or on sigstack), driver code never
  // The domain a teardown (or a driver's free_irq, giving up on its handler's
  // thread) gave up waiting for it to leave (a kernel call that has not
  // returned: left running), until it leaves: its leaving fails nothing, for
  // the driver it would fail is the restarted one, or one that let its
  // handler go (its request is the teardown's or free_irq's, which the
  // watchdog leaves as it is: trap.cc); neither that teardown, for its irq
  // thread to end, nor a later one waits for it again
  // (native/recovery/teardown.cc, irq_wait_freed_lines). -1: none.
  std::atomic<int> left_behind{-1};
  // Kernel code's access to driver memory under way, which a fault ends (native/trap/guarded.h).
  GuardedAccess *guarded = nullptr;
  // Stacks its kernel calls under way borrowed, the innermost call's last (native/domain/borrowed_stack.h).
  BorrowedStack borrowed[kMaxBorrowedStacks];
  // Requests to leave made so far, and the lock under which they are made and
  // withdrawn (trap.cc): a withdrawal takes back only its own request. Never
  // taken by the thread itself (its signal handlers may interrupt a holder).
  uint64_t asks = 0;
  std::atomic_flag asks_lock = ATOMIC_FLAG_INIT;
};

// One step of progress for the watchdog. Only t's own thread writes entries:
// a plain add, not a locked one (about 20 cycles).
inline void note_progress(ThreadCtx *t) { t->entries.store(t->entries.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }

struct XpcCall {
  const void *fn;    // XC_FN
  uint64_t args[6];  // XC_ARGS
  uint64_t ret;      // XC_RET
};

static_assert(offsetof(EntryFrame, host_sp) == EF_HOST_SP);
static_assert(offsetof(EntryFrame, orig_pkru) == EF_ORIG_PKRU);
static_assert(offsetof(EntryFrame, dt) == EF_DT);
static_assert(offsetof(EntryFrame, call) == EF_CALL);
static_assert(offsetof(DomainThread, sp) == DT_SP);
static_assert(offsetof(DomainThread, pkru) == DT_PKRU);
static_assert(offsetof(ThreadCtx, host_pkru) == TC_HOST_PKRU);
static_assert(offsetof(ThreadCtx, top) == TC_TOP);
static_assert(offsetof(ThreadCtx, abort_domain) == TC_ABORT_DOMAIN);
static_assert(offsetof(ThreadCtx, borrowed_n) / 64 == offsetof(ThreadCtx, abort_domain) / 64);
static_assert(offsetof(XpcCall, fn) == XC_FN);
static_assert(offsetof(XpcCall, args) == XC_ARGS);
static_assert(offsetof(XpcCall, ret) == XC_RET);

// Registers the calling thread (rseq off, a key-0 signal stack, the
// backend's set-up: pkey opens every key for kernel code): thread_ctx's first use.
ThreadCtx *thread_register();
// Registered threads, for the watchdog and for recovery.
ThreadCtx *threads_head();
extern std::mutex g_threads_lock;

enum class EnterResult { ok, fault, unavailable };
// Calls c->fn(c->args...) inside d on the calling thread. On `fault`, *fault
// says what happened (the domain has been marked failed, or a teardown asked
// the thread to leave it: a thread left running, back after a restart).
inline EnterResult xpc_call(Domain *d, XpcCall *c, Fault *fault) { return g_backend.call(d, c, fault); }

// Kernel code (a wrapper) calls these; they never return.
[[noreturn]] void xpc_fail_current(Domain *d, FaultKind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
// `ip`: where the driver was, if known (isolation 'process').
[[noreturn]] void xpc_abort_current(Domain *d, uintptr_t ip = 0);
// Ends the calling thread's crossing into d with `fault` (its kind and where;
// the rest is filled in here).
[[noreturn]] void xpc_leave_with(Domain *d, const Fault &fault);


// Unwinds the bookkeeping of the frames above `f` (async-signal-safe).
void xpc_unwind_frames(ThreadCtx *t, EntryFrame *f);
// The outermost active entry frame of d on thread t, or nullptr.
EntryFrame *xpc_outermost_frame(ThreadCtx *t, Domain *d);

// A kernel call that lets other threads run a while (a yield, a spin's
// pause): under mprotect it lets them run driver code meanwhile. Touch no
// driver memory while one is alive. No-op in other modes. Not progress: a
// thread that only yields is still spinning.
class UnlockedYield {
 public:
  UnlockedYield();
  ~UnlockedYield();

 private:
  bool released_;
};

// A kernel call about to wait for an event: something another thread, a
// device or the clock brings about (a sleep, a futex or condition, a
// contended mutex, poll, epoll, a read that blocks, a join, a callback or
// work item to finish). As UnlockedYield, and for a driver's own thread
// (budget_from_wait) the time budget stops while it lives and starts again
// after: a thread that waits now and then, however long each wait (a poll
// with no timeout, an idle wait that nothing wakes to look), may run for the
// driver's life. A yield or a spin is no wait (UnlockedYield): it would let a
// thread spin forever.
class UnlockedWait : public UnlockedYield {
 public:
  UnlockedWait();
  ~UnlockedWait();

 private:
  bool was_in_wait_ = false;
};

// Kernel code outside any crossing (loader, recovery, devices) about to touch
// driver memory: under mprotect, waits until no driver code runs and opens
// every domain; under pkey, opens every domain's key for this thread
// (g_backend.open_memory).
class DomainMemoryAccess {
 public:
  DomainMemoryAccess();
  ~DomainMemoryAccess();

 private:
  bool opened_;
};
// Marks d failed if it was live; false if it had already failed or stopped.
// (Failing it for a fault: fail_with, which records the fault.)
bool mark_failed(Domain *d);
// Marks d failed as mark_failed does, for fault f: f.primary says whether this
// call did (then f is recorded as the failure's primary fault); f.domain and
// f.generation are set either way. Async-signal-safe.
bool fail_with(Domain *d, Fault &f);
// The generation of d's last failure (d->failure_gen), waiting out a failure
// being marked: a thread that has seen d failed reads that failure's.
uint64_t failure_generation(const Domain *d);
// A copy of the fault that caused failure `generation` of d: nullopt if that
// failure recorded none (mark_failed's) or a later one's replaced it. Waits
// out a recording under way, so it is never half-written, nor missing for a
// generation that was just published.
std::optional<Fault> primary_fault(const Domain *d, uint64_t generation);
// d's last failure: its generation and its primary fault, read together
// (a Fault of kind none, with that generation, if it recorded none).
Fault current_failure(const Domain *d);
// t leaves d as it was asked to (trap_abort_thread): f's kind, domain,
// primary (leaving fails d, and t is the first to fail it) and generation,
// and the fault recorded if primary. Async-signal-safe.
void note_requested_leave(ThreadCtx *t, Domain *d, Fault &f);
// Where a thread resumes when its entry is abandoned (the backend's landing).
const void *xpc_landing();
constexpr size_t kAltStackSize = 64 * 1024;

}  // namespace nooks

extern "C" __thread nooks::ThreadCtx *nooks_tls_ctx __attribute__((tls_model("initial-exec")));

namespace nooks {
// The calling thread's context (registered on first use).
inline ThreadCtx *thread_ctx() { return nooks_tls_ctx ? nooks_tls_ctx : thread_register(); }
inline Domain *calling_domain() { return nooks_tls_ctx && nooks_tls_ctx->cur ? nooks_tls_ctx->cur->domain : nullptr; }
}  // namespace nooks
