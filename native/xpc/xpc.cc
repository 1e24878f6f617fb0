#include "xpc.h"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <type_traits>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include "../domain/borrowed_stack.h"
#include "../trap/trap.h"
#include "claim_hold.h"
#include "crossing.h"

extern "C" {
__thread nooks::ThreadCtx *nooks_tls_ctx __attribute__((tls_model("initial-exec"))) = nullptr;
[[noreturn]] void nooks_xpc_unwind(nooks::EntryFrame *f, const void *landing);
}

namespace nooks {

std::mutex g_threads_lock;
static ThreadCtx *g_threads = nullptr;
static pthread_key_t g_thread_key;
static pthread_once_t g_thread_key_once = PTHREAD_ONCE_INIT;

ThreadCtx *threads_head() { return g_threads; }

// An exiting thread's stacks in the domains it entered. A domain may be freed
// meanwhile (an unload, or the last thread left running in it: domain_destroy),
// which forgets them itself (free_domain): each is let go under a use of its
// domain, or, the slot already empty, once the domain has forgotten it -- never
// both, and t outlives the domain's write to it.
static void forget_domain_stacks(ThreadCtx *t) {
  for (int id = 0; id < kMaxDomains; id++) {
    if (!__atomic_load_n(&t->dts[id], __ATOMIC_ACQUIRE)) continue;
    DomainUse use(id);
    if (use.get()) {
      domain_thread_forget(use.get());
      continue;
    }
    while (__atomic_load_n(&t->dts[id], __ATOMIC_ACQUIRE)) sched_yield();
  }
}

static void thread_exit(void *p) {
  ThreadCtx *t = static_cast<ThreadCtx *>(p);
  {
    std::lock_guard<std::mutex> g(g_threads_lock);
    for (ThreadCtx **pp = &g_threads; *pp; pp = &(*pp)->next)
      if (*pp == t) {
        *pp = t->next;
        break;
      }
  }
  forget_domain_stacks(t);
  nooks_tls_ctx = nullptr;
  if (t->owns_sigstack) {
    // Its owner's again (or none: SS_DISABLE), unless the thread has another
    // by now: an owner that let go of its own before this destructor ran
    // (disabled and unmapped it) must not get it back, freed.
    stack_t now{};
    sigaltstack(nullptr, &now);
    if (now.ss_sp == t->sigstack.ss_sp && sigaltstack(&t->prev_sigstack, nullptr) != 0) {
      stack_t off{};
      off.ss_flags = SS_DISABLE;
      sigaltstack(&off, nullptr);  // not left installed once unmapped
    }
    if (!(now.ss_sp == t->sigstack.ss_sp && (now.ss_flags & SS_ONSTACK))) munmap(t->sigstack.ss_sp, t->sigstack.ss_size);  // one it ends on (exiting from a handler) is left mapped
  }
  delete t;
}

// glibc registers an rseq area in TLS (key 0). The kernel writes it on
// preemption under the thread's current PKRU: inside a domain that write
// fails and the kernel kills the process. Unregister it for threads that
// enter domains; sched_getcpu then falls back to the vDSO.
static void rseq_off() {
  if (__rseq_size == 0) return;
  char *area = (char *)__builtin_thread_pointer() + __rseq_offset;
  if (syscall(SYS_rseq, area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) == 0)
    reinterpret_cast<struct rseq *>(area)->cpu_id = RSEQ_CPU_ID_REGISTRATION_FAILED;
}

ThreadCtx *thread_register() {
  pthread_once(&g_thread_key_once, [] { pthread_key_create(&g_thread_key, thread_exit); });
  ThreadCtx *t = new ThreadCtx();
  t->thread = pthread_self();
  t->tid = (int)syscall(SYS_gettid);
  rseq_off();
  // Faults inside a domain must be handled on a key-0 stack. Kept in t: the
  // MMIO trap checks it runs there without a system call (mmio_trap). One the
  // thread has (another library's) is kept only if as large as ours: a
  // MINSIGSTKSZ one (2 KiB) cannot hold even one signal frame of a CPU with
  // AVX-512 (AT_MINSIGSTKSZ 3376 bytes), and the kernel kills the thread at
  // the first driver fault ("overflowed sigaltstack"). One the thread runs
  // on now is left alone (registering from a signal handler is not
  // supported: it allocates and locks).
  stack_t cur{};
  sigaltstack(nullptr, &cur);
  if (!(cur.ss_flags & SS_DISABLE)) t->sigstack = cur;  // where its handlers run, unless replaced here
  if ((cur.ss_flags & SS_DISABLE) || (cur.ss_size < kAltStackSize && !(cur.ss_flags & SS_ONSTACK))) {
    void *p = mmap(nullptr, kAltStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    stack_t ss{};
    ss.ss_sp = p;
    ss.ss_size = kAltStackSize;
    if (p != MAP_FAILED && sigaltstack(&ss, nullptr) == 0) {
      t->prev_sigstack = cur;
      t->sigstack = ss;
      t->owns_sigstack = true;
    } else if (p != MAP_FAILED) {
      munmap(p, kAltStackSize);
    }
  }
  pthread_attr_t attr;
  if (pthread_getattr_np(t->thread, &attr) == 0) {  // here, not in the fault handler: it may read /proc
    void *lo;
    size_t size;
    if (pthread_attr_getstack(&attr, &lo, &size) == 0) {
      t->host_stack_lo = (uintptr_t)lo;
      t->host_stack_hi = (uintptr_t)lo + size;
    }
    pthread_attr_destroy(&attr);
  }
  g_backend.thread_registered(t);
  pthread_setspecific(g_thread_key, t);
  nooks_tls_ctx = t;
  std::lock_guard<std::mutex> g(g_threads_lock);
  static uint64_t serials = 0;
  t->serial = ++serials;
  t->next = g_threads;
  g_threads = t;
  return t;
}

UnlockedYield::UnlockedYield() : released_(g_backend.pause_for_wait()) {}

UnlockedYield::~UnlockedYield() {
  if (released_) g_backend.resume_after_wait();
}

UnlockedWait::UnlockedWait() {
  ThreadCtx *t = nooks_tls_ctx;
  if (!t || !t->budget_from_wait) return;
  note_progress(t);
  was_in_wait_ = t->in_wait.exchange(true);
}

UnlockedWait::~UnlockedWait() {
  ThreadCtx *t = nooks_tls_ctx;
  if (t && t->budget_from_wait) t->in_wait.store(was_in_wait_);
}

DomainMemoryAccess::DomainMemoryAccess() : opened_(g_backend.open_memory()) {}

DomainMemoryAccess::~DomainMemoryAccess() {
  if (opened_) g_backend.close_memory();
}

EntryFrame *xpc_outermost_frame(ThreadCtx *t, Domain *d) {
  EntryFrame *found = nullptr;
  for (EntryFrame *f = t->top; f; f = f->prev)
    if (f->dt->domain == d) found = f;
  return found;
}

void xpc_unwind_frames(ThreadCtx *t, EntryFrame *f) {
  for (EntryFrame *g = t->top; g && g != f; g = g->prev) {
    g->dt->sp = g->saved_sp;
    g->dt->depth = g->saved_depth;
    t->depth--;
  }
  t->top = f;  // f's own entry routine restores the rest when it returns
}

const void *xpc_landing() { return g_backend.landing; }

// Whether this call moved d from live to failed.
static bool claim_failure(Domain *d) {
  DomainState s = d->state.load();
  while (s == DomainState::running || s == DomainState::loading || s == DomainState::recovering)
    if (d->state.compare_exchange_weak(s, DomainState::failed)) return true;
  return false;
}

// The primary fault of each domain's last failure, read on any thread while
// the failing thread writes it, maybe in a signal handler: no lock but a
// sequence count, odd while it is written (a seqlock: a reader copies, and
// copies again if the count moved). The words are atomics: a copy that races
// a write is thrown away, never undefined.
//
// The count also covers the domain's failure_gen: a thread that fails d takes
// it odd before it marks d failed, and moves failure_gen on before it lets it
// go. So a thread that finds d failed (a claim lost, a kernel wait's abort)
// and reads the generation through the count reads that failure's, never the
// one before it, whose teardown and decision are over.
constexpr size_t kFaultWords = (sizeof(Fault) + 7) / 8;
static_assert(std::is_trivially_copyable<Fault>::value, "a Fault is copied word by word");
struct PrimaryFault {
  std::atomic<uint64_t> seq;
  std::atomic<uint64_t> words[kFaultWords];
};
static PrimaryFault g_primary_faults[kMaxDomains];  // zero: no fault (FaultKind::none), generation 0

// The test hook holdFailureClaim (claim_hold.h): the domain whose next claim
// waits in its window (-1: none), and what ends the wait: a writer that waits
// for the count, or releaseFailureClaim.
static std::atomic<int> g_claim_held{-1};
static std::atomic<uint64_t> g_claim_hold_ends{0};

void hold_next_failure_claim_for_test(const Domain *d) { g_claim_held.store(d->id); }

void release_failure_claim_for_test() {
  g_claim_held.store(-1);
  g_claim_hold_ends.fetch_add(1);
}

void drop_failure_claim_hold_for_test(const Domain *d) {
  int held = d->id;
  g_claim_held.compare_exchange_strong(held, -1);
}

// Async-signal-safe, as the claim it holds (a fault's, in the signal handler):
// no lock, no log; 1 ms naps, 10 s at most.
static void hold_claim_for_test(const Domain *d) {
  int held = d->id;
  if (g_claim_held.load(std::memory_order_relaxed) != held || !g_claim_held.compare_exchange_strong(held, -1)) return;
  uint64_t ends = g_claim_hold_ends.load();
  timespec ms = {0, 1000 * 1000};
  for (int i = 0; i < 10000 && g_claim_hold_ends.load() == ends; i++) nanosleep(&ms, nullptr);
}

// Even to odd; the even value it had. Another writer is a thread failing d at
// the same time, for a few hundred bytes' copy at most: wait for it (writers
// never wait for readers). Async-signal-safe, and no handler interrupts a
// writer to write: writers run host code, the handler's faults driver code.
static uint64_t begin_write(PrimaryFault &p) {
  for (;;) {
    uint64_t seq = p.seq.load();
    if (seq & 1) {
      g_claim_hold_ends.fetch_add(1, std::memory_order_relaxed);  // a claim the test hook holds goes on: waited for
      sched_yield();
    } else if (p.seq.compare_exchange_weak(seq, seq + 1)) {
      return seq;
    }
  }
}

// Marks d failed if it was live, under the count: whether this call did, and
// the generation of the failure d is in now.
static bool claim_and_count(Domain *d, uint64_t *generation) {
  bool claimed = claim_failure(d);
  if (claimed) hold_claim_for_test(d);  // the failure path only, never a crossing's
  *generation = claimed ? d->failure_gen.fetch_add(1) + 1 : d->failure_gen.load();
  return claimed;
}

bool mark_failed(Domain *d) {
  PrimaryFault &p = g_primary_faults[d->id];
  uint64_t seq = begin_write(p);
  uint64_t generation;
  bool claimed = claim_and_count(d, &generation);
  p.seq.store(seq + 2, std::memory_order_release);
  return claimed;
}

bool fail_with(Domain *d, Fault &f) {
  f.domain = d->id;
  PrimaryFault &p = g_primary_faults[d->id];
  uint64_t seq = begin_write(p);
  f.primary = claim_and_count(d, &f.generation);
  if (f.primary) {
    std::atomic_thread_fence(std::memory_order_release);  // the odd count before any word
    uint64_t words[kFaultWords] = {};
    memcpy(words, &f, sizeof f);
    for (size_t i = 0; i < kFaultWords; i++) p.words[i].store(words[i], std::memory_order_relaxed);
  }
  p.seq.store(seq + 2, std::memory_order_release);
  return f.primary;
}

// d's failure generation and the last primary fault recorded, in one look.
static Fault read_failure(const Domain *d, uint64_t *generation) {
  const PrimaryFault &p = g_primary_faults[d->id];
  uint64_t words[kFaultWords];
  for (;;) {
    uint64_t seq = p.seq.load(std::memory_order_acquire);
    if (seq & 1) {  // being written: a few hundred bytes, by a thread that waits for nothing
      sched_yield();
      continue;
    }
    *generation = d->failure_gen.load(std::memory_order_relaxed);
    for (size_t i = 0; i < kFaultWords; i++) words[i] = p.words[i].load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);  // the words before the count's second look
    if (p.seq.load(std::memory_order_relaxed) == seq) break;
  }
  Fault f;
  memcpy(&f, words, sizeof f);
  return f;
}

uint64_t failure_generation(const Domain *d) {
  uint64_t generation;
  read_failure(d, &generation);
  return generation;
}

std::optional<Fault> primary_fault(const Domain *d, uint64_t generation) {
  uint64_t now;
  Fault f = read_failure(d, &now);
  if (f.generation != generation || f.kind == FaultKind::none) return std::nullopt;
  return f;
}

Fault current_failure(const Domain *d) {
  uint64_t generation;
  Fault f = read_failure(d, &generation);
  if (f.generation != generation) f = Fault();  // none recorded for it (mark_failed's)
  f.domain = d->id;
  f.generation = generation;
  return f;
}

[[noreturn]] static void leave_for_fault(ThreadCtx *t, Domain *d) {
  EntryFrame *frame = xpc_outermost_frame(t, d);
  xpc_unwind_frames(t, frame);
  nooks_xpc_unwind(frame, g_backend.landing);
}

void xpc_leave_with(Domain *d, const Fault &fault) {
  ThreadCtx *t = nooks_tls_ctx;
  Fault &f = t->fault;
  f = fault;
  fail_with(d, f);
  leave_for_fault(t, d);
}

void xpc_fail_current(Domain *d, FaultKind kind, const char *fmt, ...) {
  Fault f;
  f.kind = kind;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f.message, sizeof f.message, fmt, ap);
  va_end(ap);
  xpc_leave_with(d, f);
}

void note_requested_leave(ThreadCtx *t, Domain *d, Fault &f) {
  f.kind = (FaultKind)t->abort_kind.load();
  f.domain = d->id;
  // A request that does not fail the domain (a teardown's) fails nothing, nor
  // does any to a thread left behind: one left running that comes back after
  // a restart leaves the new driver running.
  if (t->abort_fails.load() && t->left_behind.load() != d->id) {
    fail_with(d, f);
  } else {
    f.primary = false;
    f.generation = failure_generation(d);
  }
}

void xpc_abort_current(Domain *d, uintptr_t ip) {
  ThreadCtx *t = nooks_tls_ctx;
  Fault &f = t->fault;
  f = Fault();
  f.ip = ip;
  if (t->abort_domain.load() == d->id) {
    note_requested_leave(t, d, f);
  } else {  // no request for this thread: it found the domain failed by another
    f.kind = FaultKind::aborted;
    f.domain = d->id;
    f.generation = failure_generation(d);
  }
  leave_for_fault(t, d);
}

EnterResult crossing_failed(ThreadCtx *t, Domain *d, [[maybe_unused]] const EntryFrame &f, int rc, bool asked, Fault *fault) {
#if defined(__SANITIZE_ADDRESS__)
  // The entry was abandoned mid-way: the frames below it died without
  // returning. Clear their stack's poison, or AddressSanitizer reports false
  // errors in whatever runs there next (its no-return hook only clears upward).
  if (rc != 0 && f.host_sp > t->host_stack_lo && t->host_stack_lo != 0)
    __asan_unpoison_memory_region((void *)t->host_stack_lo, f.host_sp - t->host_stack_lo);
#endif
  if (rc == 0) {
    // Asked to leave (the watchdog, recovery), it got out by itself before
    // being unwound: the domain fails all the same, and if the watchdog
    // chose this thread and it fails the domain first, reporting is its job.
    t->fault = Fault();
    note_requested_leave(t, d, t->fault);
  }
  *fault = t->fault;
  return_stacks(t, t->depth);  // the calls inside the entry are over
  if (asked) {  // the request, then the mark: a teardown marking it meanwhile sees the request gone (threads_inside)
    t->abort_domain.store(-1);
    t->abort_kind.store(0);
    t->left_behind.store(-1);
  }
  return EnterResult::fault;
}

}  // namespace nooks
