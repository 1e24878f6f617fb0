#include "mprotect.h"

#include <sys/mman.h>

#include <atomic>
#include <mutex>

#include "../../domain/host_heap.h"
#include "../../xpc/crossing.h"

extern "C" {
int nooks_xpc_enter_plain(nooks::EntryFrame *f, nooks::XpcCall *c, uintptr_t stack);
void nooks_xpc_landing_plain();
void nooks_upcall_mprotect();
void nooks_mprotect_to_host();
void nooks_mprotect_to_domain();
}

namespace nooks {

// Page protection is process-wide, so one thread at a time may run driver
// code or touch driver memory: it holds g_mprotect_lock, from its outermost
// entry until it leaves, and gives it up only while a kernel call waits or
// yields (UnlockedWait, UnlockedYield). While driver code runs, every other domain is inaccessible
// and the host-object heap read-only. While kernel code runs, the heap is
// writable and the domains stay as the last driver left them: the one that
// ran keeps its own memory, the others stay closed until kernel code touches
// them (open_on_fault). So a crossing costs the same calls however many
// domains are loaded.
static std::mutex g_mprotect_lock;
static int g_mprotect_applied = -1;
static std::atomic<uint64_t> g_mprotect_calls{0};

uint64_t mprotect_calls() { return g_mprotect_calls.load(std::memory_order_relaxed); }

static bool protect(uintptr_t lo, uintptr_t hi, int prot) {
  g_mprotect_calls.fetch_add(1, std::memory_order_relaxed);
  return mprotect((void *)lo, hi - lo, prot) == 0;
}

// What a domain's memory looks like (d->memory: heap, DMA and stacks in one
// reservation; the writable segments, mapped device registers and hugepage
// DMA lie apart):
//  open:   what its own driver may touch writable: heap, DMA, the stacks of
//          its threads; the guards and unused stacks inaccessible. Kernel
//          code needs no more, so a domain it touches opens so too: the
//          stacks' reservation (address space only) never becomes writable
//          whole, which would charge it whole to the commit under strict
//          overcommit, and a guard is never writable.
//  closed: nothing accessible (another domain's driver ran last): one call.
enum class View : uint8_t { open, closed };
static View g_views[kMaxDomains];  // by domain id, guarded by the mprotect lock

static void set_view(Domain *d, View v) {
  if (g_views[d->id] == v) return;
  const int prot = v == View::open ? PROT_READ | PROT_WRITE : PROT_NONE;
  const Range &m = d->memory;
  bool dma_apart = !m.contains(d->dma.lo(), d->dma.hi() - d->dma.lo());
  if (v == View::closed) {
    protect(m.lo, m.hi, PROT_NONE);
  } else {
    protect(d->heap.lo(), d->heap.hi(), prot);
    if (!dma_apart) protect(d->dma.lo(), d->dma.hi(), prot);
    // By slot, not d->threads: open_on_fault runs in a fault handler, maybe
    // of kernel code that holds threads_lock (domain_reset_thread_areas).
    for (int slot = 0; slot < kMaxDomainThreads; slot++)
      if (d->slot_used[slot].load(std::memory_order_acquire)) protect(slot_stack(d, slot), slot_stack(d, slot) + domain_stack_size(), prot);
  }
  g_views[d->id] = v;
  if (dma_apart) protect(d->dma.lo(), d->dma.hi(), prot);
  for (auto &s : d->segments) protect(s.range.lo, s.range.hi, prot);
  std::lock_guard<std::mutex> g(d->mmio_lock);
  for (const Range &r : d->mmio) protect(r.lo, r.hi, prot);
}

// addr lies in memory that d's view changes.
static bool owns(Domain *d, uintptr_t addr) {
  auto in = [addr](const Range &r) { return addr >= r.lo && addr < r.hi; };
  if (in(d->memory) || (addr >= d->dma.lo() && addr < d->dma.hi())) return true;
  for (const Segment &s : d->segments)
    if (in(s.range)) return true;
  std::lock_guard<std::mutex> g(d->mmio_lock);
  for (const Range &r : d->mmio)
    if (in(r)) return true;
  return false;
}

// Under the lock: domain_id's memory the only accessible domain, or, -1,
// the kernel's view (only the heap changes: the domains open on demand).
static void apply(int domain_id) {
  if (domain_id == g_mprotect_applied) return;
  if (domain_id >= 0)
    for (Domain *d : g_domains) {
      if (!d || d->state.load() == DomainState::unloaded) continue;
      set_view(d, domain_id == d->id ? View::open : View::closed);
    }
  if (host_heap_protect(domain_id >= 0)) g_mprotect_calls.fetch_add(1, std::memory_order_relaxed);
  g_mprotect_applied = domain_id;
  std::atomic_signal_fence(std::memory_order_seq_cst);  // set before kernel code touches a domain (open_on_fault reads it)
}

// Kernel code (on the thread that holds the lock, under the kernel's view:
// no driver code runs anywhere) touched addr: if it lies in a closed
// domain's memory, open that domain and let the access run again. A
// signal handler's: mprotect is async-signal-safe; the lock held means no
// other thread changes the views meanwhile, and d->mmio_lock is only ever
// held for a moment, never by kernel code that touches domain memory.
static bool open_on_fault(uintptr_t addr) {
  ThreadCtx *t = nooks_tls_ctx;
  if (!t || !t->holds_mprotect || g_mprotect_applied != -1) return false;
  for (Domain *d : g_domains) {
    if (!d || d->state.load() == DomainState::unloaded || g_views[d->id] != View::closed || !owns(d, addr)) continue;
    set_view(d, View::open);
    return true;
  }
  return false;
}

// Kernel code serving a kernel call of caller's driver (nullptr: none) goes
// on after another driver ran (a nested crossing, a wait): that driver's
// memory is opened again at once, not on a fault, for the system calls
// (which get EFAULT instead) the call may make on it.
static void reopen_caller(DomainThread *caller) {
  if (caller && g_views[caller->domain->id] == View::closed) set_view(caller->domain, View::open);
}

// Takes the lock for t if it does not hold it; true if it took it.
static bool take(ThreadCtx *t) {
  if (t->holds_mprotect) return false;
  g_mprotect_lock.lock();
  t->holds_mprotect = true;
  apply(-1);
  return true;
}

static void give(ThreadCtx *t) {
  apply(-1);
  t->holds_mprotect = false;
  g_mprotect_lock.unlock();
}

namespace {

// A crossing takes the lock (take) before it is counted, so that waiting is
// not counted as time in the driver; the domain may have failed meanwhile:
// the crossing is refused, and gives the lock back.
void refuse(ThreadCtx *t, bool held) {
  if (held) give(t);
}

int enter(ThreadCtx *t, DomainThread *dt, EntryFrame *f, XpcCall *c, bool held) {
  apply(dt->domain->id);
  int rc = nooks_xpc_enter_plain(f, c, dt->sp & ~(uintptr_t)15);
  if (held && t->holds_mprotect) {
    give(t);
  } else if (t->holds_mprotect) {  // back in the kernel code that entered
    apply(-1);
    reopen_caller(f->prev_cur);
  }
  return rc;
}

bool open_memory() { return take(thread_ctx()); }
void close_memory() { give(nooks_tls_ctx); }
bool holds_memory() {
  ThreadCtx *t = nooks_tls_ctx;
  return t && t->holds_mprotect;
}

bool pause_for_wait() {
  ThreadCtx *t = nooks_tls_ctx;
  bool holds = t && t->holds_mprotect;
  if (holds) give(t);
  return holds;
}

void resume_after_wait() {
  ThreadCtx *t = nooks_tls_ctx;
  take(t);
  reopen_caller(t->cur);
}

// A new domain's memory is as its driver may touch it (nothing applied yet).
void new_view(Domain *d) { g_views[d->id] = View::open; }

// Under the lock (domain_thread), before the slot is used: a closed domain's
// new stack stays inaccessible until the domain opens (set_view opens it then).
bool open_stack(Domain *d, void *stack, size_t n) {
  return g_views[d->id] == View::closed || protect((uintptr_t)stack, (uintptr_t)stack + n, PROT_READ | PROT_WRITE);
}

// Under the lock (domain_thread_release), before the slot is freed: set_view
// cannot see the slot used and open the stack again meanwhile.
void close_stack(Domain *d, void *stack, size_t n) {
  if (g_views[d->id] == View::open) protect((uintptr_t)stack, (uintptr_t)stack + n, PROT_NONE);
}

}  // namespace

const IsolationBackend kMprotectBackend = {
    .mode = Isolation::mprotect,
    .call = xpc_cross<take, refuse, enter>,
    .upcall = (const void *)nooks_upcall_mprotect,
    .landing = (const void *)nooks_xpc_landing_plain,
    .flips_page_protection = true,
    .open_memory = open_memory,
    .close_memory = close_memory,
    .holds_memory = holds_memory,
    .pause_for_wait = pause_for_wait,
    .resume_after_wait = resume_after_wait,
    .open_on_fault = open_on_fault,
    .domain_setup = new_view,
    .open_stack = open_stack,
    .close_stack = close_stack,
};

}  // namespace nooks

// The upcall's page-protection flips (mprotect_x86_64.S).
extern "C" void nooks_mprotect_to_host() { nooks::apply(-1); }
extern "C" void nooks_mprotect_to_domain() { nooks::apply(nooks_tls_ctx->cur->domain->id); }
