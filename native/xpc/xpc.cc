#include "xpc.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include "../domain/host_heap.h"
#include "../process/driver_host.h"
#include "../trap/trap.h"
#include "pkru.h"

extern "C" {
__thread nooks::ThreadCtx *nooks_tls_ctx __attribute__((tls_model("initial-exec"))) = nullptr;
// The stubs of gen/kapi_stubs.S jump through this.
__attribute__((visibility("hidden"))) const void *nooks_upcall_entry = nullptr;
int nooks_xpc_enter_pkey(nooks::EntryFrame *f, nooks::XpcCall *c, uintptr_t stack, uint32_t pkru);
int nooks_xpc_enter_plain(nooks::EntryFrame *f, nooks::XpcCall *c, uintptr_t stack);
int nooks_xpc_enter_local(nooks::EntryFrame *f, nooks::XpcCall *c);
[[noreturn]] void nooks_xpc_unwind(nooks::EntryFrame *f, const void *landing);
void nooks_xpc_landing_pkey();
void nooks_xpc_landing_plain();
void nooks_upcall_pkey();
void nooks_upcall_mprotect();
void nooks_upcall_direct();
void nooks_upcall_process();
void nooks_mprotect_to_host();
void nooks_mprotect_to_domain();
}

namespace nooks {

std::mutex g_threads_lock;
static ThreadCtx *g_threads = nullptr;
static pthread_key_t g_thread_key;
static pthread_once_t g_thread_key_once = PTHREAD_ONCE_INIT;

ThreadCtx *threads_head() { return g_threads; }

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
  for (DomainThread *dt : t->dts)
    if (dt) domain_thread_release(dt);
  nooks_tls_ctx = nullptr;
  if (t->altstack) {
    stack_t ss{};
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, nullptr);
    munmap(t->altstack, kAltStackSize);
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

ThreadCtx *thread_ctx() {
  if (nooks_tls_ctx) return nooks_tls_ctx;
  pthread_once(&g_thread_key_once, [] { pthread_key_create(&g_thread_key, thread_exit); });
  ThreadCtx *t = new ThreadCtx();
  t->thread = pthread_self();
  t->tid = (int)syscall(SYS_gettid);
  rseq_off();
  // Faults inside a domain must be handled on a key-0 stack.
  stack_t cur{};
  sigaltstack(nullptr, &cur);
  if (cur.ss_flags & SS_DISABLE) {
    void *p = mmap(nullptr, kAltStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
      stack_t ss{};
      ss.ss_sp = p;
      ss.ss_size = kAltStackSize;
      if (sigaltstack(&ss, nullptr) == 0) t->altstack = p;
      else munmap(p, kAltStackSize);
    }
  }
  if (g_isolation == Isolation::pkey) wrpkru(rdpkru() & ~g_pkey_mask);  // kernel code may touch every domain
  pthread_setspecific(g_thread_key, t);
  nooks_tls_ctx = t;
  std::lock_guard<std::mutex> g(g_threads_lock);
  t->next = g_threads;
  g_threads = t;
  return t;
}

void xpc_set_isolation(Isolation m) {
  switch (m) {
    case Isolation::pkey: nooks_upcall_entry = (const void *)nooks_upcall_pkey; break;
    case Isolation::mprotect: nooks_upcall_entry = (const void *)nooks_upcall_mprotect; break;
    case Isolation::none: nooks_upcall_entry = (const void *)nooks_upcall_direct; break;
    // Driver code runs only in its host process, which forwards its kernel calls.
    case Isolation::process: nooks_upcall_entry = (const void *)nooks_upcall_process; break;
  }
}

// ---- mprotect mode --------------------------------------------------------
// Page protection is process-wide, so one thread at a time may run driver
// code or touch driver memory: it holds g_mprotect_lock, from its outermost
// entry until it leaves, and gives it up only while a kernel call waits
// (UnlockedWait). While driver code runs, every other domain is inaccessible
// and the host-object heap read-only; while kernel code runs, all is open.
static std::mutex g_mprotect_lock;
static int g_mprotect_applied = -1;
static std::atomic<uint64_t> g_mprotect_calls{0};

uint64_t mprotect_calls() { return g_mprotect_calls.load(std::memory_order_relaxed); }

static void protect(uintptr_t lo, uintptr_t hi, int prot) {
  mprotect((void *)lo, hi - lo, prot);
  g_mprotect_calls.fetch_add(1, std::memory_order_relaxed);
}

// What a domain's memory looks like (d->memory: heap, DMA and stacks in one
// reservation; the writable segments, mapped device registers and hugepage
// DMA lie apart):
//  exact:  what its own driver may touch writable; the guards and unused
//          stacks inaccessible. Kernel code needs no more: a domain left by
//          its driver stays so.
//  closed: nothing accessible (another domain's driver runs): one call.
//  open:   the whole reservation writable, guards included (kernel code runs,
//          and while it does no driver code runs anywhere): one call.
// So a crossing into the domain that ran last changes every other domain
// with one call each way.
using View = MprotectView;

static void set_view(Domain *d, View v) {
  View was = d->view;
  if (was == v) return;
  const int rw = PROT_READ | PROT_WRITE;
  const Range &m = d->memory;
  bool dma_apart = !m.contains(d->dma.lo(), d->dma.hi() - d->dma.lo());
  if (v == View::exact) {
    if (was == View::open) protect(m.lo, m.hi, PROT_NONE);
    protect(d->heap.lo(), d->heap.hi(), rw);
    if (!dma_apart) protect(d->dma.lo(), d->dma.hi(), rw);
    std::lock_guard<std::mutex> g(d->threads_lock);
    for (DomainThread *dt : d->threads) protect(dt->stack_lo, dt->stack_hi, rw);
  } else {
    protect(m.lo, m.hi, v == View::closed ? PROT_NONE : rw);
  }
  d->view = v;
  if (v != View::closed && was != View::closed) return;  // the rest is writable in both
  int prot = v == View::closed ? PROT_NONE : rw;
  if (dma_apart) protect(d->dma.lo(), d->dma.hi(), prot);
  for (auto &s : d->segments) protect(s.range.lo, s.range.hi, prot);
  std::lock_guard<std::mutex> g(d->mmio_lock);
  for (const Range &r : d->mmio) protect(r.lo, r.hi, prot);
}

void mprotect_apply(int domain_id) {
  if (domain_id == g_mprotect_applied) return;
  for (Domain *d : g_domains) {
    if (!d || d->state.load() == DomainState::unloaded) continue;
    if (domain_id == d->id) set_view(d, View::exact);
    else if (domain_id >= 0) set_view(d, View::closed);
    else if (d->view == View::closed) set_view(d, View::open);
  }
  if (host_heap_protect(domain_id >= 0)) g_mprotect_calls.fetch_add(1, std::memory_order_relaxed);
  g_mprotect_applied = domain_id;
}

// Takes the lock for t if it does not hold it; true if it took it.
static bool mprotect_take(ThreadCtx *t) {
  if (t->holds_mprotect) return false;
  g_mprotect_lock.lock();
  t->holds_mprotect = true;
  mprotect_apply(-1);
  return true;
}

static void mprotect_give(ThreadCtx *t) {
  mprotect_apply(-1);
  t->holds_mprotect = false;
  g_mprotect_lock.unlock();
}

UnlockedWait::UnlockedWait() {
  ThreadCtx *t = nooks_tls_ctx;
  released_ = g_isolation == Isolation::mprotect && t && t->holds_mprotect;
  if (released_) mprotect_give(t);
}

UnlockedWait::~UnlockedWait() {
  if (released_) mprotect_take(nooks_tls_ctx);
}

DomainMemoryAccess::DomainMemoryAccess() {
  if (g_isolation == Isolation::mprotect) took_ = mprotect_take(thread_ctx());
  // pkey: a thread's PKRU opens only the keys that existed when it registered.
  if (g_isolation == Isolation::pkey) wrpkru(rdpkru() & ~g_pkey_mask);
}

DomainMemoryAccess::~DomainMemoryAccess() {
  if (took_) mprotect_give(nooks_tls_ctx);
}

}  // namespace nooks

extern "C" void nooks_mprotect_to_host() { nooks::mprotect_apply(-1); }
extern "C" void nooks_mprotect_to_domain() { nooks::mprotect_apply(nooks_tls_ctx->cur->domain->id); }

namespace nooks {

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

static const void *landing() {
  return g_isolation == Isolation::pkey ? (const void *)nooks_xpc_landing_pkey : (const void *)nooks_xpc_landing_plain;
}

const void *xpc_landing() { return landing(); }

static Fault g_primary_faults[kMaxDomains];

void record_primary_fault(const Fault &f) { g_primary_faults[f.domain] = f; }

const Fault *primary_fault(Domain *d, uint64_t generation) {
  const Fault &f = g_primary_faults[d->id];
  return f.generation == generation && f.kind != FaultKind::none ? &f : nullptr;
}

bool mark_failed(Domain *d) {
  DomainState s = d->state.load();
  while (s == DomainState::running || s == DomainState::loading || s == DomainState::recovering)
    if (d->state.compare_exchange_weak(s, DomainState::failed)) {
      d->failure_gen.fetch_add(1);
      return true;
    }
  return false;
}

[[noreturn]] static void leave_for_fault(ThreadCtx *t, Domain *d) {
  EntryFrame *frame = xpc_outermost_frame(t, d);
  xpc_unwind_frames(t, frame);
  nooks_xpc_unwind(frame, landing());
}

void xpc_leave_with(Domain *d, const Fault &fault) {
  ThreadCtx *t = nooks_tls_ctx;
  Fault &f = t->fault;
  f = fault;
  f.domain = d->id;
  f.primary = mark_failed(d);
  f.generation = d->failure_gen.load();
  if (f.primary) record_primary_fault(f);
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

void xpc_abort_current(Domain *d, uintptr_t ip) {
  ThreadCtx *t = nooks_tls_ctx;
  Fault &f = t->fault;
  f = Fault();
  f.ip = ip;
  // No request for this thread: it found the domain failed by another.
  bool asked = t->abort_domain.load() == d->id;
  f.kind = asked ? (FaultKind)t->abort_kind.load() : FaultKind::aborted;
  f.domain = d->id;
  f.primary = asked && t->abort_primary.load();
  mark_failed(d);
  f.generation = d->failure_gen.load();
  if (f.primary) record_primary_fault(f);
  leave_for_fault(t, d);
}

EnterResult xpc_call(Domain *d, XpcCall *c, Fault *fault) {
  DomainState s = d->state.load(std::memory_order_acquire);
  if (s == DomainState::failed || s == DomainState::disabled || s == DomainState::unloaded) return EnterResult::unavailable;
  ThreadCtx *t = thread_ctx();
  DomainThread *dt = t->dts[d->id];
  if (!dt) dt = domain_thread(d);
  if (!dt) return EnterResult::unavailable;
  // mprotect: wait for the lock first, so that waiting is not counted as time
  // in the driver; the domain may have failed meanwhile.
  bool took = g_isolation == Isolation::mprotect && mprotect_take(t);
  if (took && d->state.load() == DomainState::failed) {
    mprotect_give(t);
    return EnterResult::unavailable;
  }

  EntryFrame f;
  f.dt = dt;
  f.prev = t->top;
  f.prev_cur = t->cur;
  f.saved_sp = dt->sp;
  f.saved_depth = dt->depth;
  f.prev_host_pkru = (uint32_t)t->host_pkru;
  if (t->depth++ == 0) {
    t->outer_domain.store(d->id, std::memory_order_relaxed);
    t->entries.fetch_add(1, std::memory_order_relaxed);
  }
  dt->depth++;
  dt->entries++;
  t->top = &f;
  t->cur = dt;

  int rc = 0;
  switch (g_isolation) {
    case Isolation::pkey: {
      uint32_t orig = rdpkru();
      f.orig_pkru = orig;
      t->host_pkru = orig & ~g_pkey_mask;
      dt->pkru = (orig & ~(g_pkey_mask | pkru_both(0))) | d->pkru_bits;
      rc = nooks_xpc_enter_pkey(&f, c, dt->sp & ~(uintptr_t)15, dt->pkru);
      break;
    }
    case Isolation::mprotect: {
      mprotect_apply(d->id);
      rc = nooks_xpc_enter_plain(&f, c, dt->sp & ~(uintptr_t)15);
      if (took && t->holds_mprotect) mprotect_give(t);
      else if (t->holds_mprotect) mprotect_apply(-1);  // back in the kernel call that entered
      break;
    }
    case Isolation::process: {
      // The crossing runs on this stack, as kernel code, so a fault found
      // while serving it unwinds to this entry like any other.
      XpcCall cross{(const void *)driver_host_cross, {(uint64_t)d, (uint64_t)c, (uint64_t)dt}, 0};
      rc = nooks_xpc_enter_local(&f, &cross);
      break;
    }
    case Isolation::none: {
      using Fn = uint64_t (*)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
      c->ret = ((Fn)c->fn)(c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5]);
      break;
    }
  }

  t->cur = f.prev_cur;
  t->top = f.prev;
  t->host_pkru = f.prev_host_pkru;
  dt->sp = f.saved_sp;
  dt->depth = f.saved_depth;
  if (--t->depth == 0) t->outer_domain.store(-1, std::memory_order_relaxed);
#if defined(__SANITIZE_ADDRESS__)
  // The entry was abandoned mid-way: the frames below it died without
  // returning. Clear their stack's poison, or AddressSanitizer reports false
  // errors in whatever runs there next (its no-return hook only clears upward).
  if (rc != 0) {
    pthread_attr_t a;
    void *lo;
    size_t n;
    if (pthread_getattr_np(pthread_self(), &a) == 0 && pthread_attr_getstack(&a, &lo, &n) == 0 && f.host_sp > (uintptr_t)lo)
      __asan_unpoison_memory_region(lo, f.host_sp - (uintptr_t)lo);
    pthread_attr_destroy(&a);
  }
#endif
  bool asked = t->abort_domain.load() == d->id;
  if (rc == 0 && !asked) return EnterResult::ok;
  if (rc == 0) {
    // Asked to leave (the watchdog, recovery), it got out by itself before
    // being unwound: the domain has failed all the same, and if the watchdog
    // chose this thread, reporting the failure is still its job.
    Fault &tf = t->fault;
    tf = Fault();
    tf.kind = (FaultKind)t->abort_kind.load();
    tf.domain = d->id;
    tf.primary = t->abort_primary.load();
    tf.generation = d->failure_gen.load();
    if (tf.primary) record_primary_fault(tf);
  }
  *fault = t->fault;
  if (asked) {
    t->abort_domain.store(-1);
    t->abort_kind.store(0);
  }
  return EnterResult::fault;
}

}  // namespace nooks
