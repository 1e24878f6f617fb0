#include "domain.h"

#include <dlfcn.h>
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>


#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <nooks/batch.h>
#include <nooks/thread_area.h>
#include <nooks/tls.h>

#include "../kapi/log.h"
#include "../posix/fd_table.h"
#include "../xpc/xpc.h"
#include "slot_use.h"

namespace nooks {

std::atomic<Domain *> g_domains[kMaxDomains];
std::mutex g_domains_lock;
static std::atomic<int> g_domain_uses[kMaxDomains];

DomainUse::DomainUse(int id, uint64_t serial) : id_(id >= 0 && id < kMaxDomains ? id : -1) {
  if (id_ < 0) return;
  Domain *d = slot_use(g_domains[id_], g_domain_uses[id_]);
  if (d && (!serial || d->serial == serial)) d_ = d;
}

DomainUse::~DomainUse() {
  if (id_ >= 0) slot_unuse(g_domain_uses[id_]);
}

constexpr size_t kStackSize = NOOKS_STACK_BYTES;
// As large as a stack: a slot (guard, then stack) is twice a stack, and the
// slots start on a multiple of a stack, so each stack ends on one (where
// driver code finds its thread's area: <nooks/thread_area.h>).
constexpr size_t kGuardSize = kStackSize;
constexpr size_t kDmaDefault = 16u << 20;

bool Domain::lasting(uintptr_t p, size_t n) const {
  for (auto &s : segments)
    if (s.range.contains(p, n)) return true;
  return heap.contains(p, n) || dma.contains(p, n);
}

bool Domain::writable(uintptr_t p, size_t n) const {
  if (lasting(p, n)) return true;
  std::lock_guard<std::mutex> g(const_cast<std::mutex &>(threads_lock));
  for (DomainThread *dt : threads)
    if (Range{dt->stack_lo, dt->stack_hi}.contains(p, n)) return true;
  return false;
}

bool Domain::in_image(uintptr_t p, size_t n) const {
  for (auto &r : readable)
    if (r.contains(p, n)) return true;
  return false;
}

bool Domain::readable_by_driver(uintptr_t p, size_t n) const { return in_image(p, n) || writable(p, n); }

bool Domain::in_text(uintptr_t p) const {
  for (auto &r : text)
    if (r.contains(p, 1)) return true;
  return false;
}

void Segment::reset() const {
  if (!clean.empty()) memcpy((void *)range.lo, clean.data(), clean.size());
  uintptr_t bss = range.lo + clean.size();
  if (bss < range.hi) give_back_pages(bss, range.hi - bss, shared_domains());
}

bool Domain::tag(void *p, size_t n) const { return g_backend.tag_memory(this, p, n); }

Domain *domain_create(const std::string &name, const std::string &path, uint64_t budget_ms, size_t mem_limit, size_t static_bytes,
                      size_t dma_bytes) {
  std::lock_guard<std::mutex> g(g_domains_lock);
  int id = -1;
  for (int i = 0; i < kMaxDomains; i++)
    if (!g_domains[i]) {
      id = i;
      break;
    }
  if (id < 0) throw std::runtime_error("too many drivers loaded (at most 64)");
  static uint64_t loads = 0;
  auto *d = new Domain();
  d->id = id;
  d->serial = ++loads;
  d->name = name;
  d->path = path;
  d->time_budget_ms = budget_ms;
  d->mem_limit = mem_limit;
  try {
    posix_files_renew(d);
    g_backend.domain_setup(d);
    bool shared = shared_domains();
    size_t dma_size = dma_bytes ? dma_bytes : std::min(mem_limit, kDmaDefault), heap_n = Arena::footprint(mem_limit - static_bytes), dma_n = Arena::footprint(dma_size);
    // The DMA arena starts on a 2 MiB boundary (hugepages: MAP_HUGETLB, hugetlbfs): up to 2 MiB of slack before it.
    // The stacks start on a multiple of a stack: up to one more stack of slack before them.
    size_t n = heap_n + Arena::kHugePage + dma_n + kStackSize + stacks_size();
    void *r = mmap(nullptr, n, PROT_NONE, (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r != MAP_FAILED) d->memory = {(uintptr_t)r, (uintptr_t)r + n};
    size_t pad = Arena::footprint(0) / 2;  // the guard page before an arena
    uintptr_t dma_at = ((d->memory.lo + heap_n + pad + Arena::kHugePage - 1) & ~(uintptr_t)(Arena::kHugePage - 1)) - pad;
    if (!d->memory.lo || !d->heap.map(mem_limit - static_bytes, shared, d->memory.lo) || !d->dma.map(dma_size, shared, dma_at, /*for_devices=*/true) ||
        !d->tag((void *)d->heap.lo(), d->heap.hi() - d->heap.lo()) || !d->tag((void *)d->dma.lo(), d->dma.hi() - d->dma.lo()))
      throw std::runtime_error(std::string("cannot map the domain's memory: ") + strerror(errno));
    d->stacks = (dma_at + dma_n + kStackSize - 1) & ~(uintptr_t)(kStackSize - 1);
  } catch (...) {
    if (d->memory.lo) munmap((void *)d->memory.lo, d->memory.hi - d->memory.lo);
    g_backend.domain_teardown(d);
    delete d;
    throw;
  }
  g_domains[id] = d;
  g_backend.domains_changed();
  return d;
}

static void free_domain(Domain *d) {
  std::lock_guard<std::mutex> g(g_domains_lock);
  // First: a DomainUse finds the slot empty from now on, and one that found d
  // has let go before anything of d goes (a device's DMA into its memory).
  slot_empty_and_wait(g_domains[d->id], g_domain_uses[d->id]);
  // Under mprotect a thread in another driver's crossing changes the views
  // holding that backend's lock (apply, open_on_fault), each time reading the
  // slots: one may have found d just before it emptied. Once the lock has been
  // ours, none is still looking at d, and none will: only then does its image go.
  // After the wait, never before: a device's DMA holds a use while it waits for that lock.
  { DomainMemoryAccess no_view_change_sees_d; }
  if (d->handle) dlclose(d->handle);
  g_backend.stop(d);
  d->posix.reset();  // before the memory its files hold
  d->heap.unmap();
  d->dma.unmap();  // hugepages (UIO) lie outside the reservation
  {
    std::lock_guard<std::mutex> tg(d->threads_lock);
    for (DomainThread *dt : d->threads) {
      __atomic_store_n(&dt->thread->dts[d->id], nullptr, __ATOMIC_RELEASE);  // an exiting thread may wait for this (xpc.cc)
      delete dt;
    }
    d->threads.clear();
  }
  munmap((void *)d->memory.lo, d->memory.hi - d->memory.lo);
  g_backend.domain_teardown(d);
  g_backend.domains_changed();
  delete d;
}

void domain_destroy(Domain *d) {
  if (d->keepers.fetch_sub(1) == 1) free_domain(d);
}

void domain_keep(Domain *d) { d->keepers.fetch_add(1); }

uintptr_t slot_stack(const Domain *d, int slot) { return d->stacks + (size_t)slot * (kGuardSize + kStackSize) + kGuardSize; }

// A test's stand-in for a thread slow to get from a crossing's state check to
// its count inside the domain (test/entry-window.test.ts): where the test
// asked for it (Domain::hold_new_threads), a driver's own thread, on its first
// crossing, waits here until its domain has failed and the teardown has taken
// its objects (it has looked for threads inside).
static void hold_for_test(Domain *d, ThreadCtx *t) {
  if (!d->hold_new_threads.load(std::memory_order_relaxed) || !t->budget_from_wait) return;
  klog(6, "nooks: %s: test hold: a new thread of the driver, past its state check, waits", d->name.c_str());
  for (int ms = 0; ms < 10000 && (d->state.load() != DomainState::failed || d->objects.count() != 0); ms++) usleep(1000);
}

DomainThread *domain_thread(Domain *d) {
  ThreadCtx *t = thread_ctx();
  if (t->dts[d->id]) return t->dts[d->id];
  hold_for_test(d, t);
  auto *dt = new DomainThread();
  {
    // Under mprotect the stack opens under the lock, as the domain's view
    // has it: never writable while another domain's driver runs.
    DomainMemoryAccess access;
    std::lock_guard<std::mutex> g(d->threads_lock);
    int slot = std::find(d->slot_used, d->slot_used + kMaxDomainThreads, false) - d->slot_used;
    char *stack = slot < kMaxDomainThreads ? (char *)slot_stack(d, slot) : nullptr;
    if (!stack || !g_backend.open_stack(d, stack, kStackSize)) {
      klog(3, "nooks: %s: no stack for one more thread (at most %d threads inside a driver at once)", d->name.c_str(), kMaxDomainThreads);
      delete dt;
      return nullptr;
    }
    d->slot_used[slot] = true;
    d->tag(stack, kStackSize);
    dt->slot = slot;
    dt->domain = d;
    dt->thread = t;
    dt->stack_lo = (uintptr_t)stack;
    dt->stack_hi = (uintptr_t)stack + kStackSize;
    dt->batch = (struct nooks_batch *)(dt->area() - NOOKS_BATCH_BYTES);
    dt->sp = (uintptr_t)nooks_tls_block((void *)dt->area(), d->tls_reserved);  // below the thread's __thread block, if any
    d->threads.push_back(dt);
  }
  g_backend.thread_added(d, dt);
  t->dts[d->id] = dt;
  return dt;
}

void domain_thread_release(DomainThread *dt) {
  Domain *d = dt->domain;
  // As domain_thread: under mprotect the stack closes under the lock, while its slot is still used.
  DomainMemoryAccess access;
  std::lock_guard<std::mutex> g(d->threads_lock);
  d->threads.erase(std::remove(d->threads.begin(), d->threads.end(), dt), d->threads.end());
  dt->ended = true;
  // A kernel call of another thread handed a buffer on this stack uses it still: the call closes it (borrowed_stack.h).
  if (!dt->borrowers) domain_stack_close(dt);
}

void domain_stack_close(DomainThread *dt) {
  Domain *d = dt->domain;
  // What the driver keeps on this stack (a timer, a work item, a lock) goes with it: a later call naming one is a
  // bad-call, never a kernel access to memory made inaccessible below (docs/recovery.md, "Objects kept on a stack
  // that goes"). Here, not at its thread's end: a call that borrowed the stack may add one until it returns it.
  for (ObjectType t : {ObjectType::timer, ObjectType::work, ObjectType::lock, ObjectType::mutex})
    d->objects.remove_within(t, dt->stack_lo, dt->stack_hi);
  // Empty for the next thread (shared pages are kept by their shmem object unless removed).
  madvise((void *)dt->stack_lo, kStackSize, shared_domains() ? MADV_REMOVE : MADV_DONTNEED);
  g_backend.close_stack(d, (void *)dt->stack_lo, kStackSize);
  d->slot_used[dt->slot] = false;
  delete dt;
}

void domain_thread_forget(Domain *d) {
  ThreadCtx *t = nooks_tls_ctx;
  if (!t || !t->dts[d->id]) return;
  domain_thread_release(t->dts[d->id]);
  t->dts[d->id] = nullptr;
}

void domain_reset_thread_areas(Domain *d) {
  std::lock_guard<std::mutex> g(d->threads_lock);
  for (DomainThread *dt : d->threads) memset((void *)dt->area(), 0, NOOKS_THREAD_AREA_BYTES);
}

uintptr_t guard_size() { return kGuardSize; }
size_t domain_stack_size() { return kStackSize; }

size_t stacks_size() { return (size_t)kMaxDomainThreads * (kGuardSize + kStackSize); }

}  // namespace nooks
