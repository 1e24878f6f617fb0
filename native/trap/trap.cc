#include "trap.h"

#include <signal.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "../dev/iomem.h"
#include "../isolation/pkey/pkru.h"
#include "../kapi/wait.h"
#include "../xpc/xpc.h"
#include "guarded.h"
#include "mmio.h"
#include "run_clock.h"
#include "stalls.h"

namespace nooks {

static struct sigaction g_prev[NSIG];
static int g_abort_sig = 0;
static bool g_installed = false;

int trap_abort_signal() { return g_abort_sig; }

// Whether rsp is on dt's stack (or in its guard, below it). Each stack's
// slot is its guard then the stack: no two slots overlap.
static bool on_stack(const DomainThread *dt, uintptr_t rsp) { return rsp >= dt->stack_lo - guard_size() && rsp < dt->stack_hi; }

// The domain stack of t that holds rsp (guard page included), if any.
static DomainThread *stack_owner(ThreadCtx *t, uintptr_t rsp) {
  for (DomainThread *dt : t->dts)
    if (dt && on_stack(dt, rsp)) return dt;
  return nullptr;
}

FaultKind fault_kind_of(int sig, int code, uintptr_t addr, uintptr_t stack_lo) {
  switch (sig) {
    case SIGSEGV:
      if (addr < stack_lo && addr >= stack_lo - guard_size()) return FaultKind::stack_overflow;
      return code == SEGV_PKUERR ? FaultKind::pkey : FaultKind::segv;
    case SIGBUS: return FaultKind::bus;
    case SIGILL:
    case SIGTRAP: return FaultKind::ill;  // a breakpoint (int3) or single step: no debugger took it
    case SIGFPE: return FaultKind::fpe;
  }
  return FaultKind::aborted;
}

// Resume the thread at the landing pad of the outermost entry into `d`.
// Plain stores only: this runs in a signal handler.
static void land(ThreadCtx *t, Domain *d, ucontext_t *uc) {
  EntryFrame *f = xpc_outermost_frame(t, d);
  xpc_unwind_frames(t, f);
  uc->uc_mcontext.gregs[REG_RIP] = (greg_t)xpc_landing();
  uc->uc_mcontext.gregs[REG_RBX] = (greg_t)f;
  uc->uc_mcontext.gregs[REG_RSP] = (greg_t)f->host_sp;
  uc->uc_mcontext.gregs[REG_EFL] &= ~(greg_t)0x100;  // RFLAGS.TF: a driver that single-stepped itself would trap in the landing
}

// Sent by a process (kill, tgkill, sigqueue), not raised by an instruction:
// never a driver's fault, whichever thread it lands on.
static bool sent(const siginfo_t *si) { return si->si_code <= 0; }

static void chain(int sig, siginfo_t *si, void *uc) {
  struct sigaction p = g_prev[sig];
  // SA_RESETHAND: its handler runs once, the next signal has the default
  // action, as without nooks (taken by one thread alone: an atomic exchange).
  if ((p.sa_flags & SA_RESETHAND) && p.sa_handler != SIG_IGN && p.sa_handler != SIG_DFL)
    p.sa_handler = __atomic_exchange_n(&g_prev[sig].sa_handler, SIG_DFL, __ATOMIC_RELAXED);
  if (p.sa_handler == SIG_IGN) {  // sa_handler and sa_sigaction share their storage
    if (sent(si)) return;  // ignored, as without nooks (an instruction's fault is not: the kernel kills)
  } else if (p.sa_handler != SIG_DFL) {
    // With the mask the kernel would have given it: the interrupted one, its
    // sa_mask, its signal unless SA_NODEFER (ours block none of its sa_mask; the
    // faults' are SA_NODEFER). Sigreturn puts the interrupted mask back.
    sigset_t mask;
    sigorset(&mask, &static_cast<ucontext_t *>(uc)->uc_sigmask, &p.sa_mask);
    if (!(p.sa_flags & SA_NODEFER)) sigaddset(&mask, sig);
    pthread_sigmask(SIG_SETMASK, &mask, nullptr);
    return p.sa_flags & SA_SIGINFO ? p.sa_sigaction(sig, si, uc) : p.sa_handler(sig);
  }
  // Default action: restore it. A faulting instruction runs again and raises
  // the signal again; a sent one, or a trap's (execution goes on after the
  // instruction), is raised again here: returning, the process would live on.
  signal(sig, SIG_DFL);
  if (sent(si) || sig == SIGTRAP) raise(sig);
}

// Whether rsp is where t's kernel code runs: its own stack or its signal stack.
static bool on_kernel_stack(const ThreadCtx *t, uintptr_t rsp) {
  uintptr_t ss = (uintptr_t)t->sigstack.ss_sp;
  return (rsp >= t->host_stack_lo && rsp < t->host_stack_hi) || (rsp >= ss && rsp < ss + t->sigstack.ss_size);
}

// The domain whose code faulted: the one whose stack the thread was on, or,
// for a driver that wrecked its stack pointer, the one it was running: its
// own code at the faulting instruction, or a stack pointer on no stack of the
// thread's (it jumped out of its code too: kernel code runs on its own stack).
static DomainThread *faulting_domain(ThreadCtx *t, const ucontext_t *uc) {
  if (!t || !t->depth) return nullptr;
  const uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
  if (DomainThread *dt = stack_owner(t, sp)) return dt;
  DomainThread *cur = t->cur;
  if (!cur) return nullptr;
  bool wild = t->host_stack_hi != 0 && !on_kernel_stack(t, sp);
  return wild || cur->domain->in_text((uintptr_t)uc->uc_mcontext.gregs[REG_RIP]) ? cur : nullptr;
}

// A driver's load or store in a trapped window (an emulated BAR it mapped):
// true if the thread now runs the MMIO stub (mmio.h). Under pkey the handler
// runs with the PKRU Linux gives it, which shuts the domain's key: the frame
// goes on the driver's stack with the kernel's rights (the interrupted PKRU
// comes back at sigreturn; it is put back here too).
static bool emulate_mmio(ThreadCtx *t, DomainThread *dt, int sig, siginfo_t *si, ucontext_t *uc) {
  if (sig != SIGSEGV || !iomem_trapped((uintptr_t)si->si_addr)) return false;
  if (!g_backend.contains_faults) return mmio_trap(uc, 0, 0, t->sigstack);  // 'none': no stack is checked (a driver's fault is the process's)
  // On dt's own stack (faulting_domain may have named dt by its code): no second walk of t->dts.
  if (!on_stack(dt, (uintptr_t)uc->uc_mcontext.gregs[REG_RSP])) return false;
  bool pkey = g_backend.mode == Isolation::pkey;
  uint32_t pkru = pkey ? rdpkru() : 0;
  if (pkey) wrpkru((uint32_t)t->host_pkru);
  bool ok = mmio_trap(uc, dt->stack_lo, dt->stack_hi, t->sigstack);
  if (pkey) wrpkru(pkru);
  return ok;
}

static void on_fault(int sig, siginfo_t *si, void *ucv) {
  clear_alignment_check();
  auto *uc = static_cast<ucontext_t *>(ucv);
  if (sent(si)) return chain(sig, si, ucv);
  ThreadCtx *t = nooks_tls_ctx;
  // Kernel code's guarded access to driver memory the driver freed (guarded.h):
  // it fails, not the process (under mprotect: unless the memory was only closed).
  if (t && t->guarded && (sig == SIGSEGV || sig == SIGBUS)) {
    if (sig == SIGSEGV && g_backend.open_on_fault((uintptr_t)si->si_addr)) return;
    resume_guarded(t->guarded, (uintptr_t)si->si_addr);
  }
  DomainThread *dt = faulting_domain(t, uc);
  if (dt && emulate_mmio(t, dt, sig, si, uc)) return;
  if (!dt && sig == SIGSEGV && g_backend.open_on_fault((uintptr_t)si->si_addr)) return;  // kernel code, memory opened
  if (!dt || !g_backend.contains_faults) return chain(sig, si, ucv);
  Fault &f = t->fault;
  f.kind = fault_kind_of(sig, si->si_code, (uintptr_t)si->si_addr, dt->stack_lo);
  f.signo = sig;
  f.code = si->si_code;
  f.addr = (uintptr_t)si->si_addr;
  f.ip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
  f.message[0] = 0;  // formatted later, outside the handler
  fail_with(dt->domain, f);
  land(t, dt->domain, uc);
}

// The value the kernel's requests carry (trap_abort_thread): another library's
// SIGRTMIN+3 (a kill, a sigqueue of its own) cannot, and goes to its handler.
static bool our_request(const siginfo_t *si) {
  return si->si_code == SI_QUEUE && si->si_pid == getpid() && si->si_value.sival_ptr == &g_abort_sig;
}

static void on_abort(int sig, siginfo_t *si, void *ucv) {
  if (!our_request(si)) return chain(sig, si, ucv);
  clear_alignment_check();
  auto *uc = static_cast<ucontext_t *>(ucv);
  ThreadCtx *t = nooks_tls_ctx;
  if (!t) return;
  int id = t->abort_domain.load();
  DomainUse use(id);  // lock-free: if the thread left d, an unload on another thread frees d (and its dts) only after this
  Domain *d = use.get();
  if (!d) return;
  // Not inside d (any more): the request came after it left. The watchdog's
  // second look (watchdog_loop) can miss a leave whose store is still in
  // flight; left standing, the request would fail this thread's next crossing.
  const DomainThread *dt = t->dts[id];
  if (!dt || dt->depth == 0) {
    t->abort_domain.compare_exchange_strong(id, -1);
    return;
  }
  // Only driver code is unwound here, in every mode ('none' too: driver code
  // runs on its domain stack there as well, and a request is not a fault the
  // process must die of); kernel code notices the request when its call
  // returns or its wait wakes (it may hold kernel locks now).
  if (!stack_owner(t, (uintptr_t)uc->uc_mcontext.gregs[REG_RSP]) || !xpc_outermost_frame(t, d)) return;
  Fault &f = t->fault;
  f.signo = f.code = 0;
  f.addr = 0;
  f.ip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
  f.message[0] = 0;
  note_requested_leave(t, d, f);
  land(t, d, uc);
}

void trap_install() {
  if (g_installed) return;
  g_installed = true;
  g_abort_sig = SIGRTMIN + 3;
  struct sigaction sa {};
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP}) sigaction(sig, &sa, &g_prev[sig]);
  sa.sa_sigaction = on_abort;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigaction(g_abort_sig, &sa, &g_prev[g_abort_sig]);
}

namespace {
// t's asks_lock: held for a few stores, by threads other than t.
class AsksLock {
 public:
  explicit AsksLock(ThreadCtx *t) : t_(t) {
    while (t_->asks_lock.test_and_set(std::memory_order_acquire)) sched_yield();
  }
  ~AsksLock() { t_->asks_lock.clear(std::memory_order_release); }
  AsksLock(const AsksLock &) = delete;
  AsksLock &operator=(const AsksLock &) = delete;

 private:
  ThreadCtx *t_;
};
}  // namespace

uint64_t trap_abort_thread(ThreadCtx *t, int domain_id, int kind, bool fails, bool unless_asked) {
  uint64_t ask = 0;
  {
    AsksLock g(t);
    if (!unless_asked || t->abort_domain.load() != domain_id) {
      t->abort_kind.store(kind);
      t->abort_fails.store(fails);
      t->abort_domain.store(domain_id);
      ask = ++t->asks;
    }
  }
  thread_wake(t);  // a kernel call's wait: it sees the request and ends
  union sigval ours;
  ours.sival_ptr = &g_abort_sig;
  pthread_sigqueue(t->thread, g_abort_sig, ours);  // driver code: unwound by on_abort
  return ask;
}

bool trap_withdraw(ThreadCtx *t, int domain_id, uint64_t ask) {
  AsksLock g(t);
  return t->asks == ask && t->abort_domain.compare_exchange_strong(domain_id, -1);
}

// ---- watchdog ---------------------------------------------------------------
// Polls each thread's progress counter: a thread whose outermost entry has not
// changed for longer than the domain's budget is ended (a driver's own thread
// counts each wait, for as long as it waits, as progress: UnlockedWait).
// Time the process did not run (stopped, starved) is left out: RunClock.
// Costs nothing per crossing (the clock: a subtraction per round of the loop).
// The watchdog thread.
// Never destroyed: kernel threads may still run while the process exits.
struct Watchdog {
  std::atomic<bool> run{false};
  std::thread thread;
};
static Watchdog &watchdog = *new Watchdog;

static uint64_t now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

namespace {
struct NannyEntry {
  unsigned period_ms;
  void (*check)();
};
// Filled by static constructors before main, read after: no lock needed. Never
// destroyed: the watchdog thread runs them while the process exits.
std::vector<NannyEntry> &nannies() {
  static std::vector<NannyEntry> &v = *new std::vector<NannyEntry>;
  return v;
}
}  // namespace

Nanny::Nanny(unsigned period_ms, void (*check)()) { nannies().push_back({period_ms, check}); }

static std::atomic<bool> nannies_held{false};

void hold_nannies_for_test(bool held) { nannies_held.store(held); }

// Runs the nannies that are due (the watchdog thread, no lock held).
static void run_nannies(uint64_t now, std::vector<uint64_t> &last) {
  if (nannies_held.load(std::memory_order_relaxed)) return;
  last.resize(nannies().size());
  for (size_t i = 0; i < nannies().size(); i++) {
    if (now - last[i] < nannies()[i].period_ms) continue;
    last[i] = now;
    nannies()[i].check();
  }
}

static void watchdog_loop() {
  Stalls stalls;
  RunClock clock(now_ms());
  std::vector<uint64_t> nanny_last;
  while (watchdog.run.load()) {
    uint64_t now = clock.at(now_ms());
    {
      std::lock_guard<std::mutex> g(g_threads_lock);
      for (ThreadCtx *t = threads_head(); t; t = t->next) {
        int id = t->outer_domain.load(std::memory_order_relaxed);
        if (id < 0) {
          stalls.outside(t);
          continue;
        }
        uint64_t e = t->entries.load(std::memory_order_relaxed);
        DomainUse use(id);  // the thread may have left it, and an unload freed it, since
        Domain *d = use.get();
        bool waiting = t->in_wait.load(std::memory_order_relaxed);
        if (!stalls.overdue({t, t->serial}, e, waiting, now, d ? d->time_budget_ms : UINT64_MAX)) continue;  // no domain: never
        // Every stuck thread is ended for the timeout; the first to leave fails
        // the domain and reports it. Not failed here: a thread that saw the
        // failure before the request would leave as 'aborted', the timeout
        // reported by nobody.
        // A request that stands already (a teardown's, or its own) it leaves
        // as it is: it must not take it back below.
        uint64_t ask = trap_abort_thread(t, id, (int)FaultKind::timeout, true, true);
        // Withdrawn if it left or moved on since it was read: its next crossing would fail.
        // A leave this look misses (its store not yet visible) the thread withdraws itself (on_abort).
        // Counted unless taken back: a thread that left on the request looks moved on too, its request used up.
        bool moved = t->outer_domain.load() != id || t->entries.load() != e;
        if (ask && !(moved && trap_withdraw(t, id, ask))) d->timeouts.fetch_add(1, std::memory_order_relaxed);
      }
    }
    run_nannies(now, nanny_last);
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
}

void watchdog_start() {
  if (watchdog.run.exchange(true)) return;
  watchdog.thread = std::thread(watchdog_loop);
}

void watchdog_stop() {
  if (!watchdog.run.exchange(false)) return;
  watchdog.thread.join();
}

}  // namespace nooks
